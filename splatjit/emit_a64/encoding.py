"""Bit-level helpers for AArch64 encodings.

- `field`/`signed_field`: place a value in an instruction field, raising `AsmError` when it
  does not fit.
- `encode_bitmask`/`decode_bitmask`: the logical ("bitmask") immediate N:immr:imms.
- `materialize`: the shortest MOVZ/MOVN/MOVK/ORR sequence for a 32/64-bit constant.
- `encode_fp_imm8`/`decode_fp_imm8`: the FMOV 8-bit float immediate.
"""
from __future__ import annotations

import functools
import struct

from .operands import AsmError


def mask(width: int) -> int:
    return (1 << width) - 1


def field(value: int, lsb: int, width: int, what: str = "field") -> int:
    """`value` (unsigned, must fit `width` bits) shifted to bit `lsb`."""
    if not 0 <= value < (1 << width):
        raise AsmError(f"{what} {value} does not fit {width} unsigned bits")
    return value << lsb


def signed_field(value: int, lsb: int, width: int, what: str = "field") -> int:
    """`value` (two's complement, must fit `width` bits) shifted to bit `lsb`."""
    if not -(1 << (width - 1)) <= value < (1 << (width - 1)):
        raise AsmError(f"{what} {value} does not fit {width} signed bits")
    return (value & mask(width)) << lsb


def fits_signed(value: int, width: int) -> bool:
    return -(1 << (width - 1)) <= value < (1 << (width - 1))


def ror(value: int, amount: int, width: int) -> int:
    amount %= width
    value &= mask(width)
    return ((value >> amount) | (value << (width - amount))) & mask(width)


def replicate(element: int, esize: int, width: int) -> int:
    out = 0
    for pos in range(0, width, esize):
        out |= element << pos
    return out


# --------------------------------------------------------------------------- bitmask immediates

def decode_bitmask(n: int, immr: int, imms: int, width: int) -> int | None:
    """The value of logical immediate N:immr:imms for a `width`-bit (32/64) operation,
    or None for a reserved encoding (the architecture's DecodeBitMasks)."""
    if width == 32 and n:
        return None
    combined = (n << 6) | (~imms & 0x3F)
    if combined == 0:
        return None
    length = combined.bit_length() - 1
    if length < 1:
        return None
    esize = 1 << length
    levels = esize - 1
    s, r = imms & levels, immr & levels
    if s == levels:
        return None
    element = ror(mask(s + 1), r, esize)
    return replicate(element, esize, width)


def encode_bitmask(value: int, width: int) -> tuple[int, int, int] | None:
    """(N, immr, imms) encoding `value` as a `width`-bit logical immediate, or None.

    The encoding returned is canonical: the smallest element size and immr < esize, so
    `decode_bitmask(*encode_bitmask(v, w), w) == v` and distinct values never share one.
    """
    full = mask(width)
    value &= full
    if value == 0 or value == full:
        return None
    esize = 2
    while esize < width and ((value >> esize) | (value << (width - esize))) & full != value:
        esize *= 2
    emask = mask(esize)
    element = value & emask
    if _is_run(element):  # ones at [start, start+ones)
        start = (element & -element).bit_length() - 1
    else:  # ones wrap around: the zeros must be one run
        zeros = ~element & emask
        if not _is_run(zeros):
            return None
        start = ((zeros & -zeros).bit_length() - 1 + bin(zeros).count("1")) % esize
    ones = bin(element).count("1")
    immr = -start % esize  # element == ROR(ones-run, immr)
    imms = ((~(esize - 1) << 1) & 0x3F) | (ones - 1)
    return (1 if esize == 64 else 0), immr, imms


def _is_run(x: int) -> bool:
    """x != 0 is one contiguous run of ones."""
    return ((x + (x & -x)) & x) == 0


# --------------------------------------------------------------------------- constants

def _chunks(value: int, width: int) -> list[int]:
    return [(value >> (16 * i)) & 0xFFFF for i in range(width // 16)]


def materialize(value: int, width: int) -> list[tuple]:
    """The shortest instruction sequence that puts `value` in a `width`-bit register.

    Each step is one of ('movz', imm16, shift), ('movn', imm16, shift),
    ('movk', imm16, shift) or ('orr', bitmask_value); the first step writes the whole
    register, later steps are MOVKs. Ties prefer MOVZ, then MOVN, then ORR.
    """
    return list(_materialize(value, width))


@functools.lru_cache(maxsize=1 << 14)
def _materialize(value: int, width: int) -> tuple[tuple, ...]:
    if width not in (32, 64):
        raise AsmError(f"materialize width must be 32 or 64, not {width}")
    if not -(1 << (width - 1)) <= value < (1 << width):
        raise AsmError(f"constant {value:#x} does not fit {width} bits")
    value &= mask(width)
    chunks = _chunks(value, width)
    candidates: list[list[tuple]] = []

    # MOVZ + MOVKs over the non-zero chunks
    seq = [(c, 16 * i) for i, c in enumerate(chunks) if c != 0] or [(0, 0)]
    candidates.append([("movz",) + seq[0]] + [("movk",) + step for step in seq[1:]])

    # MOVN + MOVKs over the chunks that are not 0xFFFF
    seq = [(c, 16 * i) for i, c in enumerate(chunks) if c != 0xFFFF] or [(0xFFFF, 0)]
    first_c, first_sh = seq[0]
    candidates.append([("movn", first_c ^ 0xFFFF, first_sh)]
                      + [("movk",) + step for step in seq[1:]])
    best = min(len(c) for c in candidates)

    # ORR with a bitmask immediate, then MOVK the chunks that differ
    if best > 1 and encode_bitmask(value, width) is not None:
        candidates.append([("orr", value)])
    elif best > 2:
        fills = set(chunks) | {0, 0xFFFF}
        for count in range(1, best - 1):  # only sequences shorter than `best`
            for positions in _index_sets(len(chunks), count):
                for fill in fills:
                    trial = value
                    for pos in positions:
                        trial = (trial & ~(0xFFFF << (16 * pos))) | (fill << (16 * pos))
                    if encode_bitmask(trial, width) is not None:
                        candidates.append([("orr", trial)] + [
                            ("movk", chunks[pos], 16 * pos) for pos in positions
                            if chunks[pos] != fill])
            if len(candidates) > 2:
                break
    return tuple(min(candidates, key=len))


def _index_sets(n: int, count: int) -> list[tuple[int, ...]]:
    if count == 1:
        return [(i,) for i in range(n)]
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def materialize_value(steps: list[tuple], width: int) -> int:
    """What a `materialize` sequence leaves in the register (for checks and listings)."""
    out = 0
    for step in steps:
        op = step[0]
        if op == "orr":
            out = step[1]
        elif op == "movz":
            out = step[1] << step[2]
        elif op == "movn":
            out = ~(step[1] << step[2]) & mask(width)
        else:
            out = (out & ~(0xFFFF << step[2])) | (step[1] << step[2])
    return out & mask(width)


# --------------------------------------------------------------------------- FP immediates

def decode_fp_imm8(imm8: int) -> float:
    """The value of FMOV's 8-bit immediate: +-(16+efgh)/16 * 2**e, e in -3..4."""
    sign = -1.0 if imm8 & 0x80 else 1.0
    b = (imm8 >> 6) & 1
    cd = (imm8 >> 4) & 3
    exponent = cd - 3 if b else cd + 1
    return sign * (16 + (imm8 & 0xF)) / 16 * 2.0 ** exponent


_FP_IMM8 = {decode_fp_imm8(i): i for i in range(256)}


def encode_fp_imm8(value: float) -> int | None:
    """imm8 for FMOV #value (same table for S and D), or None if not representable."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return _FP_IMM8.get(float(value))  # NaN never equals a key


def float_bits(value: float, size: int) -> int:
    """IEEE bits of `value` as f32 (size 4) or f64 (size 8)."""
    if size == 4:
        return struct.unpack("<I", struct.pack("<f", value))[0]
    if size == 8:
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    raise AsmError(f"no float format of {size} bytes")
