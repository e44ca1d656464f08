"""Parallel moves: sequencing a set of simultaneous copies, with cycle breaking.

Contract: `sequence(moves, scratch)` takes `moves` as (dst, src) pairs of hashable locations,
with every dst distinct, meaning "all dsts receive the old values of their srcs at once". It
returns an ordered list of (dst, src) copies with the same effect, where `scratch` (a location
not among the dsts or srcs) breaks cycles. Self-moves are dropped.

`from_sequential(pairs)` turns IREE's branch remap lists, which the interpreter applies one
after another, into the equivalent parallel move set.
"""
from __future__ import annotations

from typing import Hashable, Iterable


def from_sequential(pairs: Iterable[tuple[Hashable, Hashable]]) -> list[tuple[Hashable, Hashable]]:
    """(src, dst) copies applied in order -> parallel (dst, src) moves reading original values."""
    origin: dict = {}  # location -> the original location whose value it now holds
    for src, dst in pairs:
        origin[dst] = origin.get(src, src)
    return [(dst, src) for dst, src in origin.items() if dst != src]


def sequence(moves: Iterable[tuple[Hashable, Hashable]], scratch: Hashable) -> list[tuple[Hashable, Hashable]]:
    pending = {dst: src for dst, src in moves if dst != src}
    if len(pending) != len({d for d, _ in pending.items()}):  # pragma: no cover - dict keys
        raise ValueError("parallel move with duplicate destinations")
    out: list[tuple[Hashable, Hashable]] = []
    while pending:
        # Emit any move whose destination no pending move still reads.
        readers: dict = {}
        for dst, src in pending.items():
            readers[src] = readers.get(src, 0) + 1
        ready = [dst for dst in pending if readers.get(dst, 0) == 0]
        if ready:
            for dst in ready:
                out.append((dst, pending.pop(dst)))
            continue
        # Only cycles remain: save one destination's value, then redirect its readers.
        dst = next(iter(pending))
        out.append((scratch, dst))
        for d, s in pending.items():
            if s == dst:
                pending[d] = scratch
    return out
