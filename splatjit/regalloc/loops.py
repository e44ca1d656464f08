"""Loops of a function's control-flow graph, for passes that weigh or transform loops.

Contract: block indices are `Block.index`; a loop is named by its header block. Works on
any CFG (irreducible parts are simply not loops: only backward branches make loops).
"""
from __future__ import annotations

from .variables import successors


def predecessors(fn) -> dict[int, set[int]]:
    preds: dict[int, set[int]] = {b.index: set() for b in fn.blocks}
    for b in fn.blocks:
        for ins in b.instrs[-1:]:
            for s in successors(ins):
                if s.block is not None:
                    preds[s.block].add(b.index)
    return preds


def loop_bodies(fn, preds=None) -> dict[int, set[int]]:
    """Every loop by its header: the blocks that reach a backward branch (a branch to the
    same or an earlier block) without passing its target. Loops sharing a header merge."""
    preds = predecessors(fn) if preds is None else preds
    loops: dict[int, set[int]] = {}
    for b in fn.blocks:
        for ins in b.instrs[-1:]:
            for s in successors(ins):
                h = s.block
                if h is None or h > b.index:
                    continue
                body, work = {h, b.index}, [b.index]
                while work:
                    x = work.pop()
                    if x == h:
                        continue
                    for p in preds[x]:
                        if p not in body:
                            body.add(p)
                            work.append(p)
                loops.setdefault(h, set()).update(body)
    return loops


def loop_depths(fn) -> list[int]:
    """Per block, how many loops (distinct headers) contain it."""
    depth = [0] * len(fn.blocks)
    for body in loop_bodies(fn).values():
        for b in body:
            depth[b] += 1
    return depth
