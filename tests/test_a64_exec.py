"""Tiny AArch64 programs assembled by emit_a64 and executed under Unicorn."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc
from unicorn.arm64_const import (UC_ARM64_REG_Q0, UC_ARM64_REG_Q1, UC_ARM64_REG_SP,
                                 UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2,
                                 UC_ARM64_REG_X30)

from splatjit.emit_a64 import Assembler, mem, post, pre
from splatjit.emit_a64.operands import (s0, s1, s2, sp, v0, v1, v2, w0, w1, w2, x0, x1, x2,
                                        x3, x29, x30)

CODE, DATA, STACK = 0x10_0000, 0x40_0000, 0x80_0000
SENTINEL = CODE + 0xF_0000  # x30 on entry: `ret` lands here and emulation stops


class Machine:
    """One Unicorn AArch64 instance with code, data and stack pages mapped."""

    def __init__(self, code: bytes):
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        self.uc.mem_map(CODE, 0x10_0000)
        self.uc.mem_map(DATA, 0x1_0000)
        self.uc.mem_map(STACK - 0x1_0000, 0x1_0000)
        self.uc.mem_write(CODE, code)

    def call(self, **regs) -> "Machine":
        regs.setdefault("x30", SENTINEL)
        regs.setdefault("sp", STACK)
        for name, value in regs.items():
            self.uc.reg_write(_REG[name], value)
        self.uc.emu_start(CODE, SENTINEL, count=100_000)
        return self

    def x(self, n: int) -> int:
        return self.uc.reg_read(_REG[f"x{n}"])

    def q(self, n: int) -> int:
        return self.uc.reg_read(_REG[f"q{n}"])


_REG = {"x0": UC_ARM64_REG_X0, "x1": UC_ARM64_REG_X1, "x2": UC_ARM64_REG_X2,
        "x30": UC_ARM64_REG_X30, "sp": UC_ARM64_REG_SP, "q0": UC_ARM64_REG_Q0,
        "q1": UC_ARM64_REG_Q1}


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFF_FFFF))[0]


def test_int_mul_add_function():
    # int f(int a, int b) { return a * b + 7; }
    a = Assembler()
    a.mov(w2, 7)
    a.madd(w0, w0, w1, w2)
    a.ret()
    m = Machine(a.finish())
    for x, y in [(3, 4), (-5, 6), (0, 123), (0x7FFF_FFFF, 2), (-1, -1), (65536, 65536)]:
        want = (x * y + 7) & 0xFFFF_FFFF  # C int arithmetic, wrapping
        got = m.call(x0=x & 0xFFFF_FFFF, x1=y & 0xFFFF_FFFF).x(0) & 0xFFFF_FFFF
        assert got == want, (x, y)


def test_float_fmadd_function():
    # float f(float a, float b) { return fmaf(a, b, 7.0f); }
    a = Assembler()
    a.fmov(s2, 7.0)
    a.fmadd(s0, s0, s1, s2)
    a.ret()
    m = Machine(a.finish())
    for x, y in [(1.5, 2.0), (-2.25, 4.0), (0.0, 3.0), (1024.0, -0.5), (3.0, 1 / 3)]:
        got = _f32(m.call(q0=_f32_bits(x), q1=_f32_bits(y)).q(0))
        # the exact product of two f32 fits an f64; + 7 is exact here; one rounding to f32
        want = float(np.float32(float(np.float32(x)) * float(np.float32(y)) + 7.0))
        assert got == want, (x, y)


def test_loop_sums_an_array_with_post_index_loads_and_backward_branch():
    # x0 = sum of x1 int32 elements at x0 (sign-extended), using ldrsw post-index + cbnz
    a = Assembler()
    a.mov(x2, x0)
    a.mov(x0, 0)
    done = a.label("done")
    a.cbz(x1, done)
    loop = a.bind(a.label("loop"))
    a.ldrsw(x3, post(x2, 4))
    a.add(x0, x0, x3)
    a.sub(x1, x1, 1)
    a.cbnz(x1, loop)
    a.bind(done)
    a.ret()
    m = Machine(a.finish())
    values = [5, -7, 100000, -2**31, 2**31 - 1, 42]
    m.uc.mem_write(DATA, struct.pack(f"<{len(values)}i", *values))
    assert m.call(x0=DATA, x1=len(values)).x(0) == sum(values) & (2**64 - 1)
    assert m.call(x0=DATA, x1=0).x(0) == 0


def test_frame_setup_stp_ldp_and_sp_moves():
    a = Assembler()
    a.stp(x29, x30, pre(sp, -32))
    a.mov(x29, sp)
    a.str(x0, mem(sp, 16))
    a.add(x0, x0, x0)
    a.ldr(x1, mem(x29, 16))
    a.add(x0, x0, x1)
    a.ldp(x29, x30, post(sp, 32))
    a.ret()
    m = Machine(a.finish()).call(x0=5)
    assert m.x(0) == 15
    assert m.uc.reg_read(UC_ARM64_REG_SP) == STACK


def test_simd_fmla_over_vectors_with_ld1_st1_and_literal_pool():
    # out[i] = a[i] * b[i] + c, c from the literal pool (a 128-bit constant)
    a = Assembler()
    a.ld1(v0.s4, post(x0, 16))
    a.ld1(v1.s4, mem(x1))
    a.ldr_const(v2.s4, struct.pack("<4f", 0.5, 0.5, 0.5, 0.5))
    a.fmla(v2.s4, v0.s4, v1.s4)
    a.st1(v2.s4, mem(x2))
    a.ret()
    m = Machine(a.finish())
    av = np.array([1, 2, 3, 4], np.float32)
    bv = np.array([0.5, -1, 8, 0.25], np.float32)
    m.uc.mem_write(DATA, av.tobytes())
    m.uc.mem_write(DATA + 0x100, bv.tobytes())
    m.call(x0=DATA, x1=DATA + 0x100, x2=DATA + 0x200)
    out = np.frombuffer(bytes(m.uc.mem_read(DATA + 0x200, 16)), np.float32)
    assert out.tolist() == (av * bv + np.float32(0.5)).tolist()
    assert m.x(0) == DATA + 16  # post-index wrote back


def test_conversions_and_compare_select():
    # w0 = (int)(a * 2.0) clamped at 100 via fcmp/fcsel, then fcvtzs; s-reg inputs
    a = Assembler()
    a.fadd(s0, s0, s0)
    a.load_const(s1, 100.0)
    a.fcmp(s0, s1)
    a.fcsel(s0, s0, s1, "lt")
    a.fcvtzs(w0, s0)
    a.ret()
    m = Machine(a.finish())
    for x, want in [(3.75, 7), (60.0, 100), (-2.5, -5)]:
        assert m.call(q0=_f32_bits(x)).x(0) & 0xFFFF_FFFF == want & 0xFFFF_FFFF


@pytest.mark.parametrize("cond, a_val, b_val", [("lt", -1, 1), ("lt", 1, -1), ("hi", 1, -1),
                                                ("eq", 5, 5), ("ge", 3, 3), ("ls", 2, 9)])
def test_cset_matches_python_comparison(cond, a_val, b_val):
    a = Assembler()
    a.cmp(x0, x1)
    a.cset(w0, cond)
    a.ret()
    m = Machine(a.finish())
    mask = 2**64 - 1
    ua, ub = a_val & mask, b_val & mask
    want = {"lt": a_val < b_val, "hi": ua > ub, "eq": a_val == b_val, "ge": a_val >= b_val,
            "ls": ua <= ub}[cond]
    assert m.call(x0=ua, x1=ub).x(0) == int(want)
