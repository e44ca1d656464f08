"""Byte-level x86-64 encoding helpers: REX, ModRM/SIB/displacement, VEX and EVEX prefixes.

Nothing here knows instruction names; `instruction.py` drives these helpers from a form row.
Register extension bits are passed un-inverted (the helpers invert them where the format
stores them inverted: VEX.R/X/B/vvvv, EVEX.R/X/B/R'/vvvv/V').
"""
from __future__ import annotations

from typing import NamedTuple

from splatjit.emit_x64.operands import Mem, RipRel

LEGACY_PREFIXES = (0x66, 0xF2, 0xF3)
# VEX/EVEX "pp" field: implied mandatory prefix.
PP = {None: 0, 0x66: 1, 0xF3: 2, 0xF2: 3}
# VEX/EVEX opcode map select: 0F, 0F38, 0F3A.
MAPS = {"0F": 1, "0F38": 2, "0F3A": 3}

_SCALE_BITS = {1: 0, 2: 1, 4: 2, 8: 3}


class Addressing(NamedTuple):
    """ModRM (+SIB, +displacement) bytes for one r/m operand.

    ``x`` and ``b`` are the REX.X / REX.B extension bits (bit 3 of the index and of the
    base or r/m register). ``rip_pos`` is the position of a RIP-relative disp32 inside
    ``data`` (None when the operand is not RIP-relative).
    """
    data: bytes
    x: int
    b: int
    rip_pos: int | None


def rex(w: int, r: int, x: int, b: int, force: bool = False) -> bytes:
    """The REX prefix 0100WRXB, or nothing when no bit is set and none is forced."""
    value = (w << 3) | (r << 2) | (x << 1) | b
    return bytes((0x40 | value,)) if value or force else b""


def modrm_register(reg_field: int, rm_num: int) -> Addressing:
    """ModRM with mod=11: register-direct r/m. ``reg_field`` is a /digit or register number."""
    return Addressing(bytes((0xC0 | (reg_field & 7) << 3 | (rm_num & 7),)), 0, (rm_num >> 3) & 1, None)


def fits_int8(value: int) -> bool:
    return -128 <= value <= 127


def modrm_memory(reg_field: int, mem: Mem | RipRel, disp8_scale: int = 1) -> Addressing:
    """ModRM, SIB and displacement for a memory operand.

    Rules: rsp/r12 as base need a SIB byte; rbp/r13 as base with no displacement need an
    explicit disp8 of 0; no base at all needs SIB base=101 with disp32 (mod=00 rm=101 means
    RIP-relative in 64-bit mode). ``disp8_scale`` is EVEX's N for compressed disp8*N: a disp8
    is used only when the displacement is a multiple of N and disp/N fits in int8.
    """
    reg = (reg_field & 7) << 3
    if isinstance(mem, RipRel):
        return Addressing(bytes((0x00 | reg | 0b101,)) + _le32(mem.disp), 0, 0, 1)
    base, index, disp = mem.base, mem.index, mem.disp
    x = (index.num >> 3) & 1 if index is not None else 0
    if base is None:
        sib = (_SCALE_BITS[mem.scale] << 6) | ((index.num & 7) if index is not None else 0b100) << 3 | 0b101
        return Addressing(bytes((reg | 0b100, sib)) + _le32(disp), x, 0, None)
    b = (base.num >> 3) & 1
    if disp == 0 and (base.num & 7) != 0b101:
        mod, tail = 0b00, b""
    elif disp % disp8_scale == 0 and fits_int8(disp // disp8_scale):
        mod, tail = 0b01, bytes(((disp // disp8_scale) & 0xFF,))
    else:
        mod, tail = 0b10, _le32(disp)
    if index is None and (base.num & 7) != 0b100:
        return Addressing(bytes((mod << 6 | reg | (base.num & 7),)) + tail, x, b, None)
    sib = (_SCALE_BITS[mem.scale] << 6) | ((index.num & 7) if index is not None else 0b100) << 3 | (base.num & 7)
    return Addressing(bytes((mod << 6 | reg | 0b100, sib)) + tail, x, b, None)


def vex(r: int, x: int, b: int, mmmmm: int, w: int, vvvv: int, l: int, pp: int) -> bytes:
    """2-byte (C5) VEX when X=B=0, W=0 and map 0F; otherwise 3-byte (C4) VEX."""
    tail = ((~vvvv & 0xF) << 3) | (l << 2) | pp
    if not x and not b and not w and mmmmm == 1:
        return bytes((0xC5, ((r ^ 1) << 7) | tail))
    return bytes((0xC4, ((r ^ 1) << 7) | ((x ^ 1) << 6) | ((b ^ 1) << 5) | mmmmm, (w << 7) | tail))


def evex(r: int, x: int, b: int, r2: int, mm: int, w: int, vvvv: int, v2: int, pp: int,
         ll: int, z: int = 0, bcst: int = 0, aaa: int = 0) -> bytes:
    """4-byte EVEX prefix (62 P0 P1 P2).

    ``r``/``r2``: bits 3/4 of ModRM.reg; ``x``: bit 3 of the index, or bit 4 of a register
    r/m; ``b``: bit 3 of base or r/m; ``vvvv``/``v2``: bits 0-3/4 of the extra register;
    ``ll``: vector length 0/1/2 for 128/256/512; ``aaa``: opmask; ``z``: zeroing.
    """
    p0 = ((r ^ 1) << 7) | ((x ^ 1) << 6) | ((b ^ 1) << 5) | ((r2 ^ 1) << 4) | mm
    p1 = (w << 7) | ((~vvvv & 0xF) << 3) | 0b100 | pp
    p2 = (z << 7) | (ll << 5) | (bcst << 4) | ((v2 ^ 1) << 3) | aaa
    return bytes((0x62, p0, p1, p2))


def _le32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, "little")


def imm_bytes(value: int, size: int) -> bytes:
    """``value`` as a little-endian two's-complement field of ``size`` bytes."""
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


# Recommended multi-byte NOPs (Intel SDM Vol. 2B, NOP), index = length.
NOPS = (
    b"",
    bytes.fromhex("90"),
    bytes.fromhex("6690"),
    bytes.fromhex("0f1f00"),
    bytes.fromhex("0f1f4000"),
    bytes.fromhex("0f1f440000"),
    bytes.fromhex("660f1f440000"),
    bytes.fromhex("0f1f8000000000"),
    bytes.fromhex("0f1f840000000000"),
    bytes.fromhex("660f1f840000000000"),
)


def nop_padding(length: int) -> bytes:
    """``length`` bytes of the fewest recommended NOP instructions."""
    if length < len(_PADDING):
        return _PADDING[length]
    return _nop_run(length)


def _nop_run(length: int) -> bytes:
    out = bytearray()
    while length > 0:
        step = min(length, len(NOPS) - 1)
        out += NOPS[step]
        length -= step
    return bytes(out)


#: nop_padding(n) for n < 64 (alignments up to 64 bytes pad with these)
_PADDING = tuple(_nop_run(n) for n in range(64))
