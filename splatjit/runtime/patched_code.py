"""Stubs assembled once per shape: later stubs of the same shape are a copy of the first one
with their own addresses written over it.

A stub generator (`build(addresses) -> bytes`) usually embeds a handful of per-instance
addresses (a Context, a callable, a flag byte) as 64-bit immediates, ``mov r64, imm64``,
into code that otherwise depends only on a few shape parameters (a signature, a count).
`patched(key, build, addresses)` assembles such a shape once with placeholder addresses,
records where each one's 8 bytes landed, and from then on returns the template with the
real addresses patched in: the same bytes `build(addresses)` returns, without assembling.

Contract for `build`: its bytes depend only on `key` and `addresses`; every address is
written into the code only as itself, little-endian in 8 bytes (which the x86-64 assembler
does for ``mov r64, address`` whenever the address is a wide immediate: outside
[-2**31, 2**32)). A shape is trusted only after a check: assembled with a second set of
placeholders, the template patched with them must equal it byte for byte; a shape that fails
the check (or addresses that are not wide) is always assembled afresh. All addresses must
lie in [2**32, 2**63) for the template path; any other value goes the slow way.
"""
from __future__ import annotations

import operator
import struct
from collections.abc import Callable, Hashable

_LO, _HI = 1 << 32, 1 << 63
_MISS = object()

#: key -> (template bytes, ((byte position, address index), ...), packer), or None: not
#: patchable
_TEMPLATES: dict[Hashable, tuple[bytes, tuple[tuple[int, int], ...]] | None] = {}
_LIMIT = 1 << 10


def _placeholders(n: int, salt: int) -> tuple[int, ...]:
    """``n`` distinct wide values with byte patterns no real code is likely to hold."""
    return tuple(((0x5EC7 + salt) << 48) | ((i + 1) * 0x9E3779B1 & 0xFFFF_FFFF_FFFF)
                 for i in range(n))


def _patch(template: bytes, sites: tuple[tuple[int, int], ...], addresses) -> bytes:
    code = bytearray(template)
    for pos, i in sites:
        code[pos:pos + 8] = addresses[i].to_bytes(8, "little")
    return bytes(code)


def _packer(template: bytes, sites: tuple[tuple[int, int], ...]):
    """`addresses -> bytes`: `_patch(template, sites, addresses)` as one struct.pack of the
    template's pieces and the addresses in site order (no Python loop per site)."""
    fmt, parts, order, pos = ["<"], [], [], 0
    for at, i in sites:
        if at < pos:  # overlapping sites: patch them one by one
            return lambda addresses: _patch(template, sites, addresses)
        fmt.append(f"{at - pos}sQ")
        parts += (template[pos:at], 0)
        order.append(i)
        pos = at + 8
    fmt.append(f"{len(template) - pos}s")
    parts.append(template[pos:])
    pack = struct.Struct("".join(fmt)).pack
    if not order:
        return lambda addresses: template
    pick = operator.itemgetter(*order)
    if len(order) == 1:
        def one(addresses):
            return pack(parts[0], addresses[order[0]], parts[2])
        return one

    def many(addresses):
        args = parts.copy()
        args[1::2] = pick(addresses)
        return pack(*args)
    return many


def _learn(build: Callable[[tuple[int, ...]], bytes], n: int):
    """(template, sites, packer) for a shape with ``n`` addresses, or None if patching it
    would not reproduce `build`."""
    first, second = _placeholders(n, 0), _placeholders(n, 1)
    try:
        template, check = build(first), build(second)
    except Exception:  # noqa: BLE001 - a builder that rejects placeholders: never patched
        return None
    sites = []
    for i, value in enumerate(first):
        needle = value.to_bytes(8, "little")
        pos = template.find(needle)
        while pos >= 0:
            sites.append((pos, i))
            pos = template.find(needle, pos + 1)
    sites = tuple(sorted(sites))
    pack = _packer(template, sites)
    if _patch(template, sites, second) != check or pack(second) != check:
        return None
    return template, sites, pack


def patched(key: Hashable, build: Callable[[tuple[int, ...]], bytes],
            addresses: tuple[int, ...]) -> bytes:
    """``build(addresses)``, from the shape's template when ``key`` (which must determine
    everything but the addresses, including their count) has one."""
    if addresses and (min(addresses) < _LO or max(addresses) >= _HI):
        return build(addresses)
    entry = _TEMPLATES.get(key, _MISS)
    if entry is _MISS:
        if len(_TEMPLATES) >= _LIMIT:
            _TEMPLATES.clear()
        entry = _TEMPLATES[key] = _learn(build, len(addresses))
    if entry is None:
        return build(addresses)
    return entry[2](addresses)
