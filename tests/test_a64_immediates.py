"""Immediate encoders: logical (bitmask) immediates exhaustively, FMOV imm8 exhaustively,
and constant materialisation executed under Unicorn."""
from __future__ import annotations

import math
import random
import struct

import pytest
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc
from unicorn.arm64_const import UC_ARM64_REG_X1

from splatjit.emit_a64 import Assembler, post
from splatjit.emit_a64 import encoding as enc
from splatjit.emit_a64.operands import w0, x0, x1


def brute_force_bitmasks(width: int) -> set[int]:
    """Every logical immediate by definition: a rotated run of ones in an element of
    2..width bits, replicated; built without the decoder under test."""
    values = set()
    esize = 2
    while esize <= width:
        for ones in range(1, esize):
            run = (1 << ones) - 1
            for rot in range(esize):
                element = ((run >> rot) | (run << (esize - rot))) & ((1 << esize) - 1)
                values.add(sum(element << p for p in range(0, width, esize)))
        esize *= 2
    return values


@pytest.mark.parametrize("width, count", [(32, 1302), (64, 5334)])
def test_bitmask_decoder_enumerates_exactly_the_architected_values(width, count):
    decoded = {}
    for n in ((0,) if width == 32 else (0, 1)):
        for immr in range(64):
            for imms in range(64):
                value = enc.decode_bitmask(n, immr, imms, width)
                if value is not None:
                    decoded.setdefault(value, []).append((n, immr, imms))
    assert set(decoded) == brute_force_bitmasks(width)
    assert len(decoded) == count


@pytest.mark.parametrize("width", [32, 64])
def test_bitmask_encoder_round_trips_every_encodable_value(width):
    for value in brute_force_bitmasks(width):
        encoding = enc.encode_bitmask(value, width)
        assert encoding is not None, hex(value)
        n, immr, imms = encoding
        assert enc.decode_bitmask(n, immr, imms, width) == value
        esize = 64 if n else 1 << ((~imms & 0x3F).bit_length() - 1)
        assert immr < esize  # canonical rotation
    # the encoding is canonical: immr below the element size, so one encoding per value
    seen = {enc.encode_bitmask(v, width) for v in brute_force_bitmasks(width)}
    assert len(seen) == len(brute_force_bitmasks(width))


@pytest.mark.parametrize("width", [32, 64])
def test_bitmask_encoder_rejects_non_encodable_values(width):
    valid = brute_force_bitmasks(width)
    rng = random.Random(width)
    samples = [rng.getrandbits(width) for _ in range(20000)]
    # near misses: valid patterns with one bit flipped, and the two trivial values
    samples += [v ^ (1 << rng.randrange(width)) for v in rng.sample(sorted(valid), 1000)]
    samples += [0, (1 << width) - 1]
    for value in samples:
        assert (enc.encode_bitmask(value, width) is not None) == (value in valid), hex(value)


def test_fp_imm8_round_trips_all_256_encodings():
    values = set()
    for imm8 in range(256):
        value = enc.decode_fp_imm8(imm8)
        assert enc.encode_fp_imm8(value) == imm8
        # representable exactly in f32, so S and D forms share the table
        assert struct.unpack("<f", struct.pack("<f", value))[0] == value
        values.add(value)
    assert len(values) == 256
    assert enc.decode_fp_imm8(0x70) == 1.0 and enc.decode_fp_imm8(0x00) == 2.0
    assert min(map(abs, values)) == 0.125 and max(values) == 31.0


@pytest.mark.parametrize("value", [0.0, -0.0, 0.1, 32.0, 0.0625, 1.03125, math.inf, math.nan,
                                   "1.0", None])
def test_fp_imm8_rejects_unrepresentable(value):
    assert enc.encode_fp_imm8(value) is None


# --------------------------------------------------------------------------- materialisation

def _constants(rng: random.Random, width: int) -> list[int]:
    out = [0, 1, (1 << width) - 1, 1 << (width - 1), (1 << (width - 1)) - 1, 0xFFFF,
           0xFFFF << (width - 16), 0x5555_5555_5555_5555 & ((1 << width) - 1)]
    for _ in range(300):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(rng.getrandbits(width))
        elif kind == 1:  # a few non-zero chunks
            out.append(sum(rng.getrandbits(16) << (16 * i) for i in range(width // 16)
                           if rng.random() < 0.4))
        elif kind == 2:  # mostly ones
            out.append(((1 << width) - 1) ^ (rng.getrandbits(16) << (16 * rng.randrange(
                width // 16))))
        elif kind == 3:  # a bitmask immediate, maybe with one chunk replaced
            value = rng.choice(sorted(brute_force_bitmasks(width)))
            if rng.random() < 0.5:
                pos = 16 * rng.randrange(width // 16)
                value = (value & ~(0xFFFF << pos)) | (rng.getrandbits(16) << pos)
            out.append(value)
        else:
            out.append(rng.getrandbits(width) & ~(0xFFFF << (16 * rng.randrange(width // 16))))
    return out


def _run(code: bytes, out_bytes: int) -> bytes:
    base, data = 0x10_0000, 0x80_0000
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.mem_map(base, (len(code) + 0xFFF) & ~0xFFF)
    uc.mem_map(data, (out_bytes + 0xFFF) & ~0xFFF)
    uc.mem_write(base, code)
    uc.reg_write(UC_ARM64_REG_X1, data)
    uc.emu_start(base, base + len(code))
    return bytes(uc.mem_read(data, out_bytes))


@pytest.mark.parametrize("width", [32, 64])
def test_materialised_constants_execute_to_the_value(width):
    rng = random.Random(1000 + width)
    constants = _constants(rng, width)
    a = Assembler()
    reg = x0 if width == 64 else w0
    for value in constants:
        a.mov(x0, 0x0123_4567_89AB_CDEF)  # dirty the register first: MOVK must not rely on it
        a.mov(reg, value)
        a.str(x0, post(x1, 8))
    out = _run(a.finish(), 8 * len(constants))
    got = struct.unpack(f"<{len(constants)}Q", out)
    for value, result in zip(constants, got):
        assert result == value, (hex(value), hex(result))  # W writes zero the upper half
        count = len(enc.materialize(value, width))
        chunks = [(value >> s) & 0xFFFF for s in range(0, width, 16)]
        bound = min(max(1, sum(c != 0 for c in chunks)), max(1, sum(c != 0xFFFF for c in chunks)))
        assert count <= bound
        if enc.encode_bitmask(value, width) is not None:
            assert count == 1


def test_materialise_prefers_orr_plus_movk_over_three_movs():
    value = 0x00FF_00FF_1234_00FF
    steps = enc.materialize(value, 64)
    assert steps[0][0] == "orr" and len(steps) == 2
    assert enc.materialize_value(steps, 64) == value


def test_materialise_negative_and_out_of_range():
    assert enc.materialize_value(enc.materialize(-2, 64), 64) == (1 << 64) - 2
    assert enc.materialize(-1, 32) == [("movn", 0, 0)]
    with pytest.raises(enc.AsmError):
        enc.materialize(1 << 32, 32)
