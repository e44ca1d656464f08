"""splatjit.intrinsics.vmvx: the `vmvx.*` imports (IREE 3.13's VMVX microkernels) in numpy.

Unit tests use hand-computed values. The differential tests run the same calls through the
real vmvx module of iree.runtime: the Python bindings cannot create that module directly, so a
host program with one 4-binding dispatch is compiled with iree-compile, and its executable is
substituted (--iree-hal-substitute-executable-object) by a hand-written VM module whose entry
point reads an op number and the call's integer arguments from binding 0 and calls the chosen
`vmvx.*` import on bindings 1..3 (or on the read-only constants buffer). The VMVX loader
registers the real vmvx module, the local-sync device runs the dispatch (with IREE's FTZ/DAZ
FPU state and initialised CPU features), and the output binding comes back byte for byte.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from splatjit.intrinsics import vmvx
from splatjit.intrinsics.vmvx import Target, VmvxError

P = vmvx.provider()
X86 = platform.machine().lower() in ("x86_64", "amd64")
F32, S8 = vmvx.MMT4D_TYPE_F32F32F32, vmvx.MMT4D_TYPE_S8S8S32
ACC, FALLBACK = vmvx.MMT4D_ACCUMULATE, vmvx.MMT4D_ALLOW_GENERIC_FALLBACK
TI, TO = vmvx.TRANSPOSE_INNER, vmvx.TRANSPOSE_OUTER


def u8(a) -> np.ndarray:
    """A writable uint8 buffer view holding the bytes of array `a`."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8).copy()


def ro(a) -> np.ndarray:
    b = u8(a)
    b.flags.writeable = False
    return b


def as32(buf, dtype=np.uint32) -> np.ndarray:
    return buf.view(dtype)


def f32bits(*vals) -> np.ndarray:
    return np.array(vals, np.float32).view(np.uint32)


# --- exports --------------------------------------------------------------------------------

def test_provider_has_every_export_of_exports_inl():
    assert set(P) == set(vmvx.CCONV) and len(P) == 32
    assert all(callable(f) for f in P.values())
    repo = Path("/work/.mirror/iree-org+iree/repo")
    if not repo.exists() or shutil.which("git") is None:
        pytest.skip("IREE source mirror not available")
    text = subprocess.run(["git", "-C", str(repo), "show",
                           "HEAD:runtime/src/iree/modules/vmvx/exports.inl"],
                          capture_output=True, text=True).stdout
    table = {m[0]: f"0{m[1]}_{m[2]}" for m in
             re.findall(r'EXPORT_FN\("([^"]+)", \w+, \w+, (\w+), (\w+)\)', text)}
    assert table == vmvx.CCONV


# --- elementwise ----------------------------------------------------------------------------

def test_add_f32_strided_views_with_offsets():
    lhs = u8(np.arange(20, dtype=np.float32))
    rhs = u8(100 + np.arange(12, dtype=np.float32))
    out = u8(np.zeros(12, np.float32))
    # lhs (1 + 5i + 2j), rhs (i + 4j), out (2 + 4i + j); 2 x 3
    assert P["add.2d.f32"](lhs, 1, 5, 2, rhs, 0, 1, 4, out, 2, 4, 1, 2, 3) is None
    expect = np.zeros(12, np.float32)
    expect[2:5] = [1 + 100, 3 + 104, 5 + 108]
    expect[6:9] = [6 + 101, 8 + 105, 10 + 109]
    assert np.array_equal(out.view(np.float32), expect)


def test_sub_mul_div_f32_values():
    a = u8(np.array([1.5, -2.0, 1.0, 0.0], np.float32))
    b = u8(np.array([0.5, 4.0, 3.0, 0.0], np.float32))
    for name, expect in (("sub.2d.f32", [1.0, -6.0, -2.0, 0.0]),
                         ("mul.2d.f32", [0.75, -8.0, 3.0, 0.0])):
        out = u8(np.zeros(4, np.float32))
        P[name](a, 0, 4, 1, b, 0, 4, 1, out, 0, 4, 1, 1, 4)
        assert out.view(np.float32).tolist() == expect
    out = u8(np.zeros(4, np.float32))
    P["div.2d.f32"](a, 0, 4, 1, b, 0, 4, 1, out, 0, 4, 1, 1, 4)
    r = out.view(np.float32)
    assert r[0] == 3.0 and r[1] == -0.5 and r[2] == np.float32(1.0) / np.float32(3.0)
    assert np.isnan(r[3])


def test_integer_ops_wrap_around():
    a = u8(np.array([0xFFFFFFFF, 0x10000, 0, 0x80000000], np.uint32))
    b = u8(np.array([2, 0x10000, 1, 0x80000000], np.uint32))
    expect = {"add.2d.i32": [1, 0x20000, 1, 0],
              "sub.2d.i32": [0xFFFFFFFD, 0, 0xFFFFFFFF, 0],
              "mul.2d.i32": [0xFFFFFFFE, 0, 0, 0],
              "and.2d.i32": [2, 0x10000, 0, 0x80000000],
              "or.2d.i32": [0xFFFFFFFF, 0x10000, 1, 0x80000000],
              "xor.2d.i32": [0xFFFFFFFD, 0, 1, 0]}
    for name, values in expect.items():
        out = u8(np.zeros(4, np.uint32))
        P[name](a, 0, 4, 1, b, 0, 4, 1, out, 0, 4, 1, 1, 4)
        assert as32(out).tolist() == values, name


def test_shift_amounts_are_taken_mod_32():
    a = u8(np.array([1, 0x80000000, 0x80000000, 0xFFFFFFF8, 5], np.uint32))
    b = u8(np.array([33, 63, 31, 1, 0xFFFFFFFF], np.uint32))
    expect = {"shl.2d.i32": [2, 0, 0, 0xFFFFFFF0, 0x80000000],
              "shru.2d.i32": [0, 1, 1, 0x7FFFFFFC, 0],
              "shrs.2d.i32": [0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFC, 0]}
    for name, values in expect.items():
        out = u8(np.zeros(5, np.uint32))
        P[name](a, 0, 5, 1, b, 0, 5, 1, out, 0, 5, 1, 1, 5)
        assert as32(out).tolist() == values, name


def test_integer_division_truncates_and_traps_like_c():
    a = u8(np.array([-7, 7, -7, 7, -(2 ** 31)], np.int32))
    b = u8(np.array([2, -2, -2, 2, 1], np.int32))
    out = u8(np.zeros(5, np.int32))
    P["divs.2d.i32"](a, 0, 5, 1, b, 0, 5, 1, out, 0, 5, 1, 1, 5)
    assert as32(out, np.int32).tolist() == [-3, -3, 3, 3, -(2 ** 31)]
    out = u8(np.zeros(2, np.uint32))
    P["divu.2d.i32"](u8(np.array([0xFFFFFFFE, 7], np.uint32)), 0, 2, 1,
                     u8(np.array([2, 0xFFFFFFFF], np.uint32)), 0, 2, 1, out, 0, 2, 1, 1, 2)
    assert as32(out).tolist() == [0x7FFFFFFF, 0]
    for name, x, y in (("divs.2d.i32", [1, 2], [1, 0]), ("divu.2d.i32", [1, 2], [3, 0]),
                       ("divs.2d.i32", [-(2 ** 31)], [-1])):
        out = u8(np.full(len(x), 77, np.int32))
        with pytest.raises(VmvxError):
            P[name](u8(np.array(x, np.int32)), 0, len(x), 1, u8(np.array(y, np.int32)), 0,
                    len(x), 1, out, 0, len(x), 1, 1, len(x))
        assert as32(out, np.int32).tolist() == [77] * len(x)  # nothing written


def test_unary_ops():
    cases = {
        "ctlz.2d.i32": ([0, 1, 0x80000000, 0xFFFF, 0x00FF0000], [32, 31, 0, 16, 8]),
        "abs.2d.f32": ([0xFFC12345, 0x80000000, 0xBF800000, 0x00000001],
                       [0x7FC12345, 0, 0x3F800000, 0x00000001]),
        "neg.2d.f32": ([0xFFC12345, 0x00000000, 0x3F800000, 0x00000001],
                       [0x7FC12345, 0x80000000, 0xBF800000, 0x80000001]),
        "ceil.2d.f32": (f32bits(1.25, -1.25, -0.5, 3.0), f32bits(2.0, -1.0, -0.0, 3.0)),
        "floor.2d.f32": (f32bits(1.25, -1.25, 0.5, -3.0), f32bits(1.0, -2.0, 0.0, -3.0)),
        "rsqrt.2d.f32": (f32bits(4.0, 0.25, 0.0, -0.0), f32bits(0.5, 2.0, np.inf, -np.inf)),
        "exp.2d.f32": (f32bits(0.0, -np.inf, np.inf, -200.0), f32bits(1.0, 0.0, np.inf, 0.0)),
        "log.2d.f32": (f32bits(1.0, 0.0, np.inf), f32bits(0.0, -np.inf, np.inf)),
    }
    for name, (x, expect) in cases.items():
        x = np.array(x, np.uint32)
        out = u8(np.zeros(len(x), np.uint32))
        P[name](ro(x), 0, len(x), 1, out, 0, len(x), 1, 1, len(x))
        assert as32(out).tolist() == [int(v) for v in expect], name


def test_exp_log_match_glibc_not_just_numpy():
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    fns = {}
    for name in ("expf", "logf"):
        fn = getattr(libm, name)
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
        fns[name] = fn
    rng = np.random.default_rng(7)
    x = {"expf": rng.uniform(-80, 80, 3000).astype(np.float32),
         "logf": np.exp(rng.uniform(-80, 80, 3000)).astype(np.float32)}
    for name, export in (("expf", "exp.2d.f32"), ("logf", "log.2d.f32")):
        expect = np.array([fns[name](v) for v in x[name].tolist()], np.float32)
        out = u8(np.zeros(x[name].size, np.float32))
        P[export](u8(x[name]), 0, 100, 1, out, 0, 100, 1, 30, 100)
        assert np.array_equal(out.view(np.uint32), expect.view(np.uint32)), export


def test_denormals_flush_like_iree_dispatches():
    plain = vmvx.provider(Target("x86_64", frozenset({"avx2_fma"}), flush_denormals=False))
    arm = vmvx.provider(Target("arm_64", ftz_after_rounding=False))
    x86 = vmvx.provider(Target("x86_64", frozenset({"avx2_fma"})))

    def run(p, name, a, b=None):
        a = np.array(a, np.uint32)
        out = u8(np.zeros(len(a), np.uint32))
        if b is None:
            p[name](u8(a), 0, len(a), 1, out, 0, len(a), 1, 1, len(a))
        else:
            p[name](u8(a), 0, len(a), 1, u8(np.array(b, np.uint32)), 0, len(a), 1,
                    out, 0, len(a), 1, 1, len(a))
        return as32(out).tolist()

    # denormal inputs read as zero; denormal results become (signed) zero
    assert run(x86, "add.2d.f32", [1, 0x80000001], [0, 0x80000000]) == [0, 0x80000000]
    assert run(plain, "add.2d.f32", [1, 0x80000001], [0, 0x80000000]) == [1, 0x80000001]
    assert run(x86, "mul.2d.f32", [0x00800000], [0x3F000000]) == [0]          # FLT_MIN / 2
    assert run(plain, "mul.2d.f32", [0x00800000], [0x3F000000]) == [0x00400000]
    assert run(x86, "ceil.2d.f32", [1, 0x80000001]) == [0, 0x80000000]
    assert run(plain, "ceil.2d.f32", [1]) == [0x3F800000]
    assert run(x86, "rsqrt.2d.f32", [1]) == [0x7F800000]
    assert run(x86, "exp.2d.f32", [1]) == [0x3F800000]
    # (1 - 2**-13) * (1 + 2**-13) * 2**-126 is tiny before rounding, FLT_MIN after
    assert run(x86, "mul.2d.f32", [0x3F7FF800], [0x00800400]) == [0x00800000]
    assert run(arm, "mul.2d.f32", [0x3F7FF800], [0x00800400]) == [0]
    # (1 - 2**-24) * 2**-126 stays tiny after rounding to 24 bits: flushed on x86
    assert run(x86, "mul.2d.f32", [0x3F7FFFFF], [0x00800000]) == [0]
    assert run(plain, "mul.2d.f32", [0x3F7FFFFF], [0x00800000]) == [0x00800000]
    assert run(x86, "abs.2d.f32", [0x80000001]) == [1]      # a bit operation: no flushing
    if X86 and platform.libc_ver()[0] == "glibc":
        # glibc logf under DAZ normalises x * 2**23 == 0: a constant, as iree.runtime shows
        assert run(x86, "log.2d.f32", [1, 0x00400000]) == [0xC2CFF1B4, 0xC2CFF1B4]


def test_copies_of_every_width():
    for name, dt in (("copy.2d.x8", np.uint8), ("copy.2d.x16", np.uint16),
                     ("copy.2d.x32", np.uint32), ("copy.2d.x64", np.uint64)):
        inp = u8(np.arange(24, dtype=dt))
        out = u8(np.zeros(10, dt))
        # in (2 + 6i + 2j) -> out (i + 3j), 3 x 3: a transposing strided copy
        P[name](inp, 2, 6, 2, out, 0, 1, 3, 3, 3)
        got = out.view(dt)
        expect = np.zeros(10, dt)
        for i in range(3):
            for j in range(3):
                expect[i + 3 * j] = 2 + 6 * i + 2 * j
        assert np.array_equal(got, expect), name


def test_overlapping_copy_runs_in_element_order():
    buf = u8(np.array([1, 2, 3, 4, 5], np.uint32))
    P["copy.2d.x32"](buf, 0, 0, 1, buf, 1, 0, 1, 1, 4)   # memmove would give 1 1 2 3 4
    assert as32(buf).tolist() == [1, 1, 1, 1, 1]
    buf = u8(np.array([1, 2, 3, 4, 5], np.uint32))
    P["copy.2d.x32"](buf, 1, 0, 1, buf, 0, 0, 1, 1, 4)
    assert as32(buf).tolist() == [2, 3, 4, 5, 5]
    out = u8(np.zeros(2, np.uint32))                      # stride-0 output: the last wins
    P["copy.2d.x32"](u8(np.array([7, 8, 9], np.uint32)), 0, 0, 1, out, 1, 0, 0, 1, 3)
    assert as32(out).tolist() == [0, 9]
    a = u8(np.array([1, 2, 3, 4], np.uint32))            # in-place elementwise: no hazard
    P["add.2d.i32"](a, 0, 4, 1, a, 0, 4, 1, a, 0, 4, 1, 1, 4)
    assert as32(a).tolist() == [2, 4, 6, 8]


def test_fill():
    out = u8(np.zeros(8, np.int32))
    P["fill.2d.x32"](-5, out, 1, 3, 2, 2)
    assert as32(out, np.int32).tolist() == [0, -5, -5, 0, -5, -5, 0, 0]


# --- bounds checks --------------------------------------------------------------------------

def test_out_of_range_and_overflow_raise_before_writing():
    a = u8(np.arange(8, dtype=np.float32))
    out = u8(np.zeros(8, np.float32))
    snapshot = out.copy()
    bad = [
        (0, 4, 1, 0, 4, 1, 0, 4, 1, 2, 5),            # lhs/out rows of 5 need 9 elements
        (0, 4, 1, 5, 4, 1, 0, 4, 1, 1, 4),            # rhs offset 5 + 4 > 8
        (0, 4, 1, 0, 4, 1, 5, 4, 1, 1, 4),            # out offset
        (0, 4, 1, 0, 4, 1, 0, 4, 1, 1 << 32, 1),      # size >= 2**32: overflow
        (0, 4, -2, 0, 4, 1, 0, 4, 1, 1, 2),           # stride + 1 does not fit 32 bits
        (-1, 4, 1, 0, 4, 1, 0, 4, 1, 1, 2),           # map check wraps; reads before start
        (0, 4, 1, 0, 4, 1, -1, 4, 1, 1, 2),           # same, writing
    ]
    for args in bad:
        lo, l0, l1, ro_, r0, r1, oo, o0, o1, n0, n1 = args
        with pytest.raises(VmvxError):
            P["add.2d.f32"](a, lo, l0, l1, a, ro_, r0, r1, out, oo, o0, o1, n0, n1)
        assert np.array_equal(out, snapshot), args
    with pytest.raises(VmvxError):
        P["abs.2d.f32"](None, 0, 1, 1, out, 0, 1, 1, 1, 1)


def test_stride_minus_one_and_offset_wrapping_follow_iree_arithmetic():
    inp = u8(np.arange(8, dtype=np.uint32))
    out = u8(np.zeros(4, np.uint32))
    P["copy.2d.x32"](inp, 6, -1, 0, out, 0, 1, 0, 4, 1)   # stride -1 passes the check
    assert as32(out).tolist() == [6, 5, 4, 3]
    out = u8(np.zeros(2, np.uint32))
    P["copy.2d.x32"](inp, 1 << 62, 0, 1, out, 0, 0, 1, 1, 2)  # 4 * 2**62 wraps to byte 0
    assert as32(out).tolist() == [0, 1]


def test_read_only_output_raises_and_stays_unmodified():
    a = ro(np.ones(4, np.float32))
    out = ro(np.zeros(4, np.float32))
    with pytest.raises(VmvxError, match="PERMISSION_DENIED"):
        P["add.2d.f32"](a, 0, 4, 1, a, 0, 4, 1, out, 0, 4, 1, 1, 4)
    with pytest.raises(VmvxError):
        P["fill.2d.x32"](1, out, 0, 4, 1, 4)
    assert not out.any()
    w = u8(np.zeros(4, np.float32))                  # read-only inputs are fine
    P["add.2d.f32"](a, 0, 4, 1, a, 0, 4, 1, w, 0, 4, 1, 1, 4)
    assert w.view(np.float32).tolist() == [2.0] * 4


# --- mmt4d ----------------------------------------------------------------------------------

def test_mmt4d_f32_generic_tile():
    lhs = u8(np.array([1, 2, 3, 4], np.float32))     # M=1, K=2, M0=1, K0=2
    rhs = u8(np.array([5, 6, 7, 8], np.float32))
    out = u8(np.array([1], np.float32))
    P["mmt4d"](lhs, 0, 4, rhs, 0, 4, out, 0, 1, 1, 1, 2, 1, 1, 2, F32 | FALLBACK)
    assert out.view(np.float32).tolist() == [70.0]
    P["mmt4d"](lhs, 0, 4, rhs, 0, 4, out, 0, 1, 1, 1, 2, 1, 1, 2, F32 | FALLBACK | ACC)
    assert out.view(np.float32).tolist() == [140.0]
    generic = vmvx.provider(Target("generic"))
    with pytest.raises(VmvxError, match="null tile function"):
        generic["mmt4d"](lhs, 0, 4, rhs, 0, 4, out, 0, 1, 1, 1, 2, 1, 1, 2, F32)


def test_mmt4d_tile_layout():
    # M=2 rows of tiles, N=1, K=1, M0=2, N0=3, K0=1; lhs rows padded to stride 3
    lhs = u8(np.array([1, 2, 0, 3, 4, 0], np.float32))
    rhs = u8(np.array([10, 20, 30], np.float32))
    out = u8(np.zeros(12, np.float32))
    P["mmt4d"](lhs, 0, 3, rhs, 0, 3, out, 0, 6, 2, 1, 1, 2, 3, 1, F32 | FALLBACK)
    assert out.view(np.float32).tolist() == [10, 20, 30, 20, 40, 60,
                                             30, 60, 90, 40, 80, 120]


def test_mmt4d_fma_only_in_architecture_tiles():
    a = np.float32(1 + 2 ** -12)   # a*a = 1 + 2**-11 + 2**-24: rounds to 1 + 2**-11
    lhs = u8(np.array([a], np.float32))                    # M0=1, K0=1, K=1
    rhs = u8(np.full(8, a, np.float32))                    # N0=8
    init = np.full(8, -(1 + 2 ** -11), np.float32)
    flags = F32 | ACC | FALLBACK
    fused = vmvx.provider(Target("x86_64", frozenset({"avx2_fma"})))
    unfused = vmvx.provider(Target("x86_64", frozenset()))
    out = u8(init)
    fused["mmt4d"](lhs, 0, 1, rhs, 0, 8, out, 0, 8, 1, 1, 1, 1, 8, 1, flags)
    assert out.view(np.float32).tolist() == [2.0 ** -24] * 8
    out = u8(init)
    unfused["mmt4d"](lhs, 0, 1, rhs, 0, 8, out, 0, 8, 1, 1, 1, 1, 8, 1, flags)
    assert out.view(np.float32).tolist() == [0.0] * 8


def test_fma_is_correctly_rounded():
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    fmaf = libm.fmaf
    fmaf.restype, fmaf.argtypes = ctypes.c_float, [ctypes.c_float] * 3
    rng = np.random.default_rng(3)
    n = 4000
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    c = (-(a.astype(np.float64) * b) * (1 + rng.standard_normal(n) * 1e-6)).astype(np.float32)
    c[: n // 4] = rng.standard_normal(n // 4).astype(np.float32) * 1e-30
    expect = np.array([fmaf(x, y, z) for x, y, z in zip(a.tolist(), b.tolist(), c.tolist())],
                      np.float32)
    got = vmvx._Fp(Target("x86_64", flush_denormals=False)).fma(a, b, c)
    assert np.array_equal(got.view(np.uint32), expect.view(np.uint32))


def test_mmt4d_s8_wraps_and_tiles():
    lhs = u8(np.array([127, -128], np.int8))          # M0=1, K0=2
    rhs = u8(np.array([127, -128], np.int8))          # N0=1
    out = u8(np.array([2 ** 31 - 1 - 32000], np.int32))
    P["mmt4d"](lhs, 0, 2, rhs, 0, 2, out, 0, 1, 1, 1, 1, 1, 1, 2, S8 | ACC | FALLBACK)
    # 127*127 + 128*128 = 32513; (2**31 - 1 - 32000) + 32513 wraps
    assert as32(out, np.int32).tolist() == [-(2 ** 31) + 512]
    P["mmt4d"](lhs, 0, 2, rhs, 0, 2, out, 0, 1, 1, 1, 1, 1, 1, 2, S8 | FALLBACK)
    assert as32(out, np.int32).tolist() == [32513]


def test_mmt4d_flags_and_early_exit():
    out = u8(np.full(4, 9, np.float32))
    x = u8(np.ones(4, np.float32))
    with pytest.raises(VmvxError, match="unhandled flags"):
        P["mmt4d"](x, 0, 1, x, 0, 1, out, 0, 1, 1, 1, 1, 1, 1, 1, 0x03 | FALLBACK)
    P["mmt4d"](x, 0, 1, x, 0, 1, out, 0, 1, 0, 1, 1, 1, 1, 1, F32 | FALLBACK)   # M == 0
    P["mmt4d"](x, 0, 1, x, 0, 1, out, 0, 1, 1, 1, 0, 1, 1, 1, F32 | FALLBACK | ACC)
    assert out.view(np.float32).tolist() == [9.0] * 4
    P["mmt4d"](x, 0, 1, x, 0, 1, out, 0, 1, 1, 1, 0, 1, 1, 1, F32 | FALLBACK)   # K=0: zero
    assert out.view(np.float32).tolist() == [0.0, 9.0, 9.0, 9.0]
    with pytest.raises(VmvxError):                  # out rows need 2 tiles of 1
        P["mmt4d"](x, 0, 1, x, 0, 1, out, 3, 1, 1, 2, 1, 1, 1, 1, F32 | FALLBACK)


# --- pack / unpack --------------------------------------------------------------------------

PACKED = [1, 2, 4, 5, 3, 99, 6, 99, 7, 8, 99, 99, 9, 99, 99, 99]   # 3x3 in 2x2 tiles


def test_pack_pads_and_transposes():
    src = u8(np.arange(1, 10, dtype=np.int32))
    tiles = np.array(PACKED).reshape(2, 2, 2, 2)
    for flags, expect in ((0, tiles), (TI, tiles.swapaxes(2, 3)), (TO, tiles.swapaxes(0, 1)),
                          (TI | TO, tiles.swapaxes(2, 3).swapaxes(0, 1))):
        out = u8(np.zeros(16, np.int32))
        P["pack"](src, 0, 3, 1, out, 0, 8, 4, 3, 3, 2, 2, 2, 2, 99,
                  vmvx.PACK_TYPE_I32I32 | flags)
        assert as32(out, np.int32).tolist() == expect.ravel().tolist(), hex(flags)


def test_pack_i8_strided_input_and_low_padding_byte():
    src = u8(np.arange(1, 10, dtype=np.int8).reshape(3, 3).T.copy())  # read transposed
    out = u8(np.zeros(16, np.int8))
    P["pack"](src, 0, 1, 3, out, 0, 8, 4, 3, 3, 2, 2, 2, 2, 0x1263,
              vmvx.PACK_TYPE_I8I8)
    assert out.view(np.int8).tolist() == [0x63 if v == 99 else v for v in PACKED]


def test_pack_errors():
    src = u8(np.arange(1, 10, dtype=np.int32))
    out = u8(np.zeros(16, np.int32))
    with pytest.raises(VmvxError, match="unhandled flags"):
        P["pack"](src, 0, 3, 1, out, 0, 8, 4, 3, 3, 2, 2, 2, 2, 0, 0x04)
    with pytest.raises(VmvxError, match="cover"):       # 1x2 tiles of 2x2 < 3x3
        P["pack"](src, 0, 3, 1, out, 0, 8, 4, 3, 3, 1, 2, 2, 2, 0, vmvx.PACK_TYPE_I32I32)
    with pytest.raises(VmvxError, match="OUT_OF_RANGE"):
        P["pack"](src, 0, 3, 1, out, 1, 8, 4, 3, 3, 2, 2, 2, 2, 0, vmvx.PACK_TYPE_I32I32)
    assert not out.any()


def test_unpack_crops_and_transposes():
    tiles = np.array(PACKED, np.int32).reshape(2, 2, 2, 2)
    for flags, packed in ((0, tiles), (TI, tiles.swapaxes(2, 3)), (TO, tiles.swapaxes(0, 1)),
                          (TI | TO, tiles.swapaxes(2, 3).swapaxes(0, 1))):
        out = u8(np.zeros(9, np.int32))
        P["unpack"](u8(packed), 0, 8, 4, out, 0, 3, 1, 2, 2, 2, 2, 3, 3,
                    vmvx.UNPACK_TYPE_I32I32 | flags)
        assert as32(out, np.int32).tolist() == list(range(1, 10)), hex(flags)
    out = u8(np.zeros(18, np.int32))                   # out_stride1 = 2
    P["unpack"](u8(tiles), 0, 8, 4, out, 0, 6, 2, 2, 2, 2, 2, 3, 3, vmvx.UNPACK_TYPE_I32I32)
    assert as32(out, np.int32)[::2].tolist() == list(range(1, 10))
    assert not as32(out, np.int32)[1::2].any()
    with pytest.raises(VmvxError, match="unhandled flags"):
        P["unpack"](u8(tiles), 0, 8, 4, out, 0, 3, 1, 2, 2, 2, 2, 3, 3, 0x02)


# --- query_tile_sizes -----------------------------------------------------------------------

def test_query_tile_sizes_by_target():
    cases = [
        (Target("x86_64", frozenset({"avx2_fma"})), 0x0101, (8, 1)),
        (Target("x86_64", frozenset({"avx2_fma"})), 0x0102, (8, 1)),
        (Target("x86_64", frozenset({"avx2_fma"})), 0x0203, (8, 8)),
        (Target("x86_64", frozenset()), 0x0102, (4, 1)),
        (Target("x86_64", frozenset({"avx2_fma", "avx512_base"})), 0x0103, (16, 16)),
        (Target("x86_64", frozenset({"avx2_fma", "avx512_base"})), 0x0201, (8, 2)),
        (Target("x86_64", frozenset({"avx2_fma", "avx512_base", "avx512_vnni"})), 0x0202,
         (16, 2)),
        (Target("x86_64", frozenset({"avx2_fma"})), 0x0401, (8, 4)),   # f16: generic
        (Target("arm_64", frozenset({"dotprod", "i8mm"})), 0x0201, (8, 8)),
        (Target("arm_64", frozenset({"dotprod"})), 0x0202, (8, 4)),
        (Target("generic"), 0x0103, (8, 8)),
    ]
    for target, flags, expect in cases:
        got = vmvx.provider(target)["query_tile_sizes.2d"](16, 16, flags)
        assert got == expect and all(type(v) is int for v in got), (target, hex(flags))
    for flags in (0x0100, 0x0104, 0x0001, 0x0701):
        with pytest.raises(VmvxError):
            P["query_tile_sizes.2d"](1, 1, flags)


# --- differential against iree.runtime ------------------------------------------------------

EXPORTS = [(name, cc[1:cc.index("_")], cc[cc.index("_") + 1:]) for name, cc in
           sorted(vmvx.CCONV.items())]
NAMES = [e[0] for e in EXPORTS]
NBYTES = 65536
ROBUF = 3   # buffer selector: the dispatch's read-only constants buffer (0 bytes)


def _vm_module_text() -> str:
    ty = {"r": "!vm.buffer", "I": "i64", "i": "i32"}
    lines = ["vm.module public @module {"]
    for name, args, res in EXPORTS:
        params = ", ".join(f"%a{i} : {ty[c]}" for i, c in enumerate(args))
        rets = " -> (i64, i64)" if res == "II" else ""
        lines.append(f"  vm.import private @vmvx.{name}({params}){rets}")
    lines.append("  vm.func private @entry(%lm: !vm.buffer, %consts: !vm.buffer, "
                 "%bindings: !vm.list<!vm.buffer>, %wx: i32, %wy: i32, %wz: i32, %sx: i32, "
                 "%sy: i32, %sz: i32, %cx: i32, %cy: i32, %cz: i32) "
                 "attributes {iree.reflection = {binding_count = \"4\"}} {")
    lines += ["    %nz = vm.cmp.nz.i32 %wx : i32", "    vm.cond_br %nz, ^exit, ^go", "  ^go:"]
    for i in range(4):
        lines.append(f"    %ci{i} = vm.const.i32 {i}")
        lines.append(f"    %bb{i} = vm.list.get.ref %bindings, %ci{i} : "
                     "(!vm.list<!vm.buffer>, i32) -> !vm.buffer")
    for i in range(32):   # args[0] = op, args[1..] = integers, args[24..26] = buffer selectors
        lines.append(f"    %k{i} = vm.const.i64 {i}")
        lines.append(f"    %p{i} = vm.buffer.load.i64 %bb0[%k{i}] : !vm.buffer -> i64")
        lines.append(f"    %q{i} = vm.trunc.i64.i32 %p{i} : i64 -> i32")
    for j in range(3):
        for v in range(3):
            lines.append(f"    %s{j}e{v} = vm.cmp.eq.i64 %p{24 + j}, %k{v} : i64")
        lines.append(f"    %s{j}x2 = vm.select.ref %s{j}e2, %bb3, %consts : !vm.buffer")
        lines.append(f"    %s{j}x1 = vm.select.ref %s{j}e1, %bb2, %s{j}x2 : !vm.buffer")
        lines.append(f"    %buf{j} = vm.select.ref %s{j}e0, %bb1, %s{j}x1 : !vm.buffer")
    lines.append("    vm.br ^t0")
    for idx, (name, args, res) in enumerate(EXPORTS):
        nxt = f"^t{idx + 1}" if idx + 1 < len(EXPORTS) else "^exit"
        lines += [f"  ^t{idx}:", f"    %kk{idx} = vm.const.i64 {idx}",
                  f"    %e{idx} = vm.cmp.eq.i64 %p0, %kk{idx} : i64",
                  f"    vm.cond_br %e{idx}, ^call{idx}, {nxt}", f"  ^call{idx}:"]
        ops, tys, nb, ni = [], [], 0, 1
        for c in args:
            if c == "r":
                ops.append(f"%buf{nb}")
                nb += 1
            else:
                ops.append(f"%{'p' if c == 'I' else 'q'}{ni}")
                ni += 1
            tys.append(ty[c])
        call = f"vm.call @vmvx.{name}({', '.join(ops)}) : ({', '.join(tys)})"
        if res == "II":
            lines += [f"    %r{idx}:2 = {call} -> (i64, i64)",
                      f"    vm.buffer.store.i64 %r{idx}#0, %bb3[%k0] : i64 -> !vm.buffer",
                      f"    vm.buffer.store.i64 %r{idx}#1, %bb3[%k1] : i64 -> !vm.buffer"]
        else:
            lines.append(f"    {call} -> ()")
        lines.append("    vm.br ^exit")
    lines += ["  ^exit:", "    vm.return", "  }", "  vm.export @entry", "}"]
    return "\n".join(lines) + "\n"


HOST = """func.func @main(%args: tensor<32xi64>, %a: tensor<NxI>, %b: tensor<NxI>, %c: tensor<NxI>)
    -> tensor<NxI> {
  %r = flow.dispatch.workgroups(%args, %a, %b, %c)
      : (tensor<32xi64>, tensor<NxI>, tensor<NxI>, tensor<NxI>) -> %c =
      (%pa: !iree_tensor_ext.dispatch.tensor<readonly:tensor<32xi64>>,
       %pb: !iree_tensor_ext.dispatch.tensor<readonly:tensor<NxI>>,
       %pc: !iree_tensor_ext.dispatch.tensor<readonly:tensor<NxI>>,
       %pd: !iree_tensor_ext.dispatch.tensor<readwrite:tensor<NxI>>) {
    %x = iree_tensor_ext.dispatch.tensor.load %pa, offsets=[0], sizes=[32], strides=[1]
        : !iree_tensor_ext.dispatch.tensor<readonly:tensor<32xi64>> -> tensor<32xi64>
    %y = iree_tensor_ext.dispatch.tensor.load %pb, offsets=[0], sizes=[N], strides=[1]
        : !iree_tensor_ext.dispatch.tensor<readonly:tensor<NxI>> -> tensor<NxI>
    %z = iree_tensor_ext.dispatch.tensor.load %pc, offsets=[0], sizes=[N], strides=[1]
        : !iree_tensor_ext.dispatch.tensor<readonly:tensor<NxI>> -> tensor<NxI>
    %w = iree_tensor_ext.dispatch.tensor.load %pd, offsets=[0], sizes=[N], strides=[1]
        : !iree_tensor_ext.dispatch.tensor<readwrite:tensor<NxI>> -> tensor<NxI>
    %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
        affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%y, %z : tensor<NxI>, tensor<NxI>) outs(%w : tensor<NxI>) {
    ^bb0(%i0: i8, %i1: i8, %o: i8):
      %t = arith.addi %i0, %i1 : i8
      %u = arith.addi %t, %o : i8
      linalg.yield %u : i8
    } -> tensor<NxI>
    %c0 = arith.constant 0 : index
    %e = tensor.extract %x[%c0] : tensor<32xi64>
    %e8 = arith.trunci %e : i64 to i8
    %s2 = tensor.insert %e8 into %s[%c0] : tensor<NxI>
    iree_tensor_ext.dispatch.tensor.store %s2, %pd, offsets=[0], sizes=[N], strides=[1]
        : tensor<NxI> -> !iree_tensor_ext.dispatch.tensor<readwrite:tensor<NxI>>
    flow.return
  }
  return %r : tensor<NxI>
}
""".replace("NxI", f"{NBYTES}xi8").replace("[N]", f"[{NBYTES}]")


def _iree_compile() -> str | None:
    found = shutil.which("iree-compile")
    if found:
        return found
    candidate = Path(sys.executable).parent / "iree-compile"
    return str(candidate) if candidate.exists() else None


class IreeVmvx:
    """Runs one vmvx import inside a real iree.runtime VMVX dispatch."""

    def __init__(self, vmfb: bytes):
        import iree.runtime as rt
        self.rt, self.vmfb = rt, vmfb
        self._load()

    def _load(self):
        rt = self.rt
        self.ctx = rt.SystemContext(config=rt.Config("local-sync"))
        self.ctx.add_vm_module(rt.VmModule.copy_buffer(self.ctx.instance, self.vmfb))
        self.main = self.ctx.modules.module["main"]

    def run(self, name, ints, sel, a, b, c) -> np.ndarray:
        args = np.zeros(32, np.int64)
        args[0] = NAMES.index(name)
        args[1:1 + len(ints)] = [int(np.int64(np.uint64(v & ((1 << 64) - 1)))) for v in ints]
        args[24:24 + len(sel)] = sel
        try:
            res = self.main(args, a.view(np.int8), b.view(np.int8), c.view(np.int8))
        except Exception:
            self._load()   # a failed dispatch poisons the device's queue
            raise
        return np.asarray(res).view(np.uint8).copy()


@pytest.fixture(scope="module")
def iree(tmp_path_factory):
    try:
        import iree.runtime  # noqa: F401
    except ImportError:
        pytest.skip("iree.runtime not installed")
    compiler = _iree_compile()
    if compiler is None:
        pytest.skip("iree-compile not found")
    tmp = tmp_path_factory.mktemp("vmvx_diff")
    flags = ["--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=vmvx"]
    host = tmp / "host.mlir"
    host.write_text(HOST)
    vm_src, vm_proc = tmp / "exe_vm.mlir", tmp / "exe_proc.mlir"
    vm_src.write_text(_vm_module_text())
    try:
        # vm-asm output has the ref discards the VMVX loader needs (it aborts on leaked refs)
        subprocess.run([compiler, "--compile-mode=vm", "--output-format=vm-asm", str(vm_src),
                        "-o", str(vm_proc)], check=True, capture_output=True, timeout=120)
        plain = tmp / "plain.mlir"
        subprocess.run([compiler, str(host), *flags, "--compile-to=executable-targets",
                        "-o", str(plain)], check=True, capture_output=True, timeout=120)
        text = plain.read_text()
        exe_name = re.search(r"hal\.executable private @(\S+) \{", text).group(1)
        export = re.search(r"(hal\.executable\.export public @(\S+) ordinal\(0\) "
                           r"layout\(.*?\)) count", text)
        variant = re.search(r"hal\.executable\.variant public (.*?) \{\n", text).group(1)
        src = vm_proc.read_text()
        inner = src[src.index("vm.module"):src.rindex("}")].replace("@entry",
                                                                     "@" + export.group(2))
        exe = tmp / "exe.mlir"
        exe.write_text(
            f"hal.executable private @{exe_name} {{\n"
            f"  hal.executable.variant public {variant} {{\n"
            f"    {export.group(1)} count(%arg0: !hal.device) -> (index, index, index) {{\n"
            "      %c1 = arith.constant 1 : index\n"
            "      hal.return %c1, %c1, %c1 : index, index, index\n"
            "    } <workgroup_size = [1 : index, 1 : index, 1 : index]>\n"
            f"    builtin.module attributes {{vm.toplevel}} {{\n{inner}\n    }}\n  }}\n}}\n")
        vmfb = tmp / "host.vmfb"
        subprocess.run([compiler, str(host), *flags,
                        f"--iree-hal-substitute-executable-object={exe_name}={exe}",
                        "-o", str(vmfb)], check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, AttributeError) as e:
        pytest.skip(f"could not build the vmvx differential harness: {e}")
    return IreeVmvx(vmfb.read_bytes())


def _mine(name, ints, sel, a, b, c):
    bufs = [a.copy(), b.copy(), c.copy(), np.zeros(0, np.uint8)]
    bufs[ROBUF].flags.writeable = False
    args, it, sit = [], iter(ints), iter(sel)
    for ch in vmvx.CCONV[name][1:vmvx.CCONV[name].index("_")]:
        if ch == "r":
            args.append(bufs[next(sit)])
        elif ch == "I":
            v = next(it) & ((1 << 64) - 1)
            args.append(v - (1 << 64) if v >> 63 else v)
        else:
            v = next(it) & 0xFFFFFFFF
            args.append(v - (1 << 32) if v >> 31 else v)
    res = P[name](*args)
    if res is not None:
        bufs[2][:16] = np.array(res, np.int64).view(np.uint8)
    return bufs[2]


def check(iree, name, ints, sel, a=None, b=None, c=None, rng=None):
    """Same output-binding bytes, or both raise."""
    rng = rng or np.random.default_rng(len(ints) * 31 + NAMES.index(name))
    a = rng.integers(0, 256, NBYTES, dtype=np.uint8) if a is None else a
    b = rng.integers(0, 256, NBYTES, dtype=np.uint8) if b is None else b
    c = rng.integers(0, 256, NBYTES, dtype=np.uint8) if c is None else c
    try:
        want, want_err = iree.run(name, ints, sel, a, b, c), None
    except Exception as e:   # RuntimeError, IndexError (OUT_OF_RANGE), ...
        want, want_err = None, e
    try:
        got, got_err = _mine(name, ints, sel, a, b, c), None
    except VmvxError as e:
        got, got_err = None, e
    assert (want_err is None) == (got_err is None), (name, ints, sel, want_err, got_err)
    if want is not None:
        diff = np.nonzero(want != got)[0]
        assert diff.size == 0, (name, ints, sel, diff[:8], want[diff[:8]], got[diff[:8]])
    return want_err


SPECIAL = np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001,
                    0x7F800001, 0x7FA12345, 1, 0x807FFFFF, 0x00800000, 0x3F800000,
                    0xBF800000, 0x3EFFFFFF, 0x4B000001, 0xCB7FFFFF, 0x3F7FF800, 0x00800400,
                    0x3F7FFFFF, 0x7F7FFFFF, 0x33800000, 0x0000FFFF], np.uint32)


def _f32_data(rng, kind):
    a = rng.integers(0, 256, NBYTES, dtype=np.uint8)
    w = a.view(np.uint32)
    k = SPECIAL.size
    if kind == 0:
        w[:k * k] = np.repeat(SPECIAL, k)
    elif kind == 1:
        w[:k * k] = np.tile(SPECIAL, k)
    else:   # normal-ish values, many near the denormal boundary
        v = rng.standard_normal(w.size).astype(np.float32)
        v *= np.exp2(rng.integers(-140, 10, w.size)).astype(np.float32)
        w[:] = v.view(np.uint32)
    return a


LAYOUTS_B = [[0, 20, 1, 0, 20, 1, 0, 20, 1, 22, 20],
             [3, 1, 23, 7, 31, 1, 11, 19, 2, 17, 13]]   # column-major lhs, strided out
LAYOUTS_U = [[0, 20, 1, 0, 20, 1, 22, 20], [5, 1, 25, 9, 27, 3, 20, 7]]


def test_differential_binary_ops(iree):
    rng = np.random.default_rng(1)
    for name, args, _ in EXPORTS:
        if args != "rIIIrIIIrIIIII":
            continue
        for t, ints in enumerate(LAYOUTS_B):
            if name.endswith("f32"):
                a, b = _f32_data(rng, t), _f32_data(rng, 1 - t if t < 2 else 2)
            else:
                a = rng.integers(0, 256, NBYTES, dtype=np.uint8)
                b = rng.integers(0, 256, NBYTES, dtype=np.uint8)
                b.view(np.uint32)[:64] = np.arange(64)   # shift amounts 0..63, small divisors
            if name.startswith("div") and not name.endswith("f32"):
                w = b.view(np.uint32)
                w[w == 0] = 3                            # IREE dies of SIGFPE otherwise
                w[w == 0xFFFFFFFF] = 5
            assert check(iree, name, ints, (0, 1, 2), a, b) is None
        if name.endswith("f32"):
            a, b = _f32_data(rng, 2), _f32_data(rng, 2)
            assert check(iree, name, LAYOUTS_B[1], (0, 1, 2), a, b) is None
    # in place: out aliases lhs exactly, and rhs at a shifted position
    c = _f32_data(rng, 2)
    assert check(iree, "add.2d.f32", [0, 8, 1, 1, 8, 1, 0, 8, 1, 8, 8], (2, 2, 2), c=c) is None


def test_differential_unary_ops(iree):
    rng = np.random.default_rng(2)
    for name, args, _ in EXPORTS:
        if args != "rIIIrIIIII" or name.startswith("copy"):
            continue
        for t, ints in enumerate(LAYOUTS_U):
            assert check(iree, name, ints, (0, 2), a=_f32_data(rng, t)) is None
        a = _f32_data(rng, 2)
        if name.startswith("exp"):
            a.view(np.float32)[:] = rng.uniform(-110, 90, NBYTES // 4).astype(np.float32)
        elif name.startswith("log"):
            a.view(np.float32)[:] = np.exp(rng.uniform(-100, 88, NBYTES // 4))
        assert check(iree, name, [0, 64, 1, 0, 64, 1, 64, 64], (0, 2), a=a) is None


def test_differential_copy_and_fill(iree):
    for name, esize in (("copy.2d.x8", 1), ("copy.2d.x16", 2), ("copy.2d.x32", 4),
                        ("copy.2d.x64", 8)):
        for ints, sel in (([0, 20, 1, 0, 20, 1, 22, 20], (0, 2)),
                          ([5, 1, 25, 9, 27, 3, 20, 7], (0, 2)),
                          ([30, -1, 2, 4, 9, 1, 6, 5], (0, 2)),          # stride -1
                          ([0, 0, 1, 1, 0, 1, 1, 40], (2, 2)),           # overlapping, forward
                          ([3, 5, 1, 0, 7, 1, 9, 6], (2, 2)),            # overlapping rows
                          ([0, 0, 1, 0, 0, 0, 1, 9], (0, 2))):           # stride-0 output
            assert check(iree, name, ints, sel) is None, (name, ints)
        # esize * offset wraps mod 2**64 to byte 0 (esize 1 cannot wrap: out of range)
        err = check(iree, name, [(1 << 64) // esize + 3 if esize > 1 else 1 << 62, 3, 1,
                                 0, 3, 1, 4, 3], (0, 2))
        assert (err is None) == (esize > 1), name
    for ints in ([7, 3, 5, 4, 3], [-123456, 100, 50, 30, 40], [1, 9, 0, 5, 2]):
        assert check(iree, "fill.2d.x32", ints, (2,)) is None


def test_differential_errors(iree):
    cases = [
        ("add.2d.f32", [0, 20, 1, 0, 20, 1, 0, 20, 1, 1 << 32, 1], (0, 1, 2)),   # overflow
        ("add.2d.f32", [0, 20, -2, 0, 20, 1, 0, 20, 1, 2, 2], (0, 1, 2)),        # stride
        ("abs.2d.f32", [16380, 1, 1, 0, 1, 1, 1, 8], (0, 2)),                    # past the end
        ("abs.2d.f32", [0, 1, 1, 16380, 1, 1, 1, 8], (0, 2)),
        ("abs.2d.f32", [0, 1, 1, 0, 1, 1, 1, 1], (0, ROBUF)),                    # read-only
        ("copy.2d.x8", [0, 1, 1, 0, 1, 1, 0, 5], (0, ROBUF)),                    # even if empty
        ("fill.2d.x32", [1, 0, 1, 1, 1], (ROBUF,)),
        ("mmt4d", [0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0x203], (0, 1, 2)),       # f16: vmvx no
        ("pack", [0, 1, 1, 0, 4, 4, 1, 1, 1, 1, 2, 2, 0, 0x04], (0, 2)),
        ("unpack", [0, 4, 4, 0, 1, 1, 1, 1, 2, 2, 1, 1, 0x02], (0, 2)),
        ("mmt4d", [0, 8, 0, 8, 0, 64, 2, 1, 1, 8, 8, 1, F32 | FALLBACK], (0, 1, ROBUF)),
    ]
    for name, ints, sel in cases:
        assert check(iree, name, ints, sel) is not None, (name, ints)


def _mmt4d_ints(M, N, K, M0, N0, K0, flags, pad=(3, 1, 5), offs=(7, 2, 9)):
    return [offs[0], K * M0 * K0 + pad[0], offs[1], K * N0 * K0 + pad[1], offs[2],
            N * M0 * N0 + pad[2], M, N, K, M0, N0, K0, flags]


def test_differential_mmt4d(iree):
    rng = np.random.default_rng(4)

    def f32_operands():
        bufs = []
        for _ in range(3):
            v = rng.standard_normal(NBYTES // 4).astype(np.float32)
            v[rng.random(v.size) < 0.02] *= np.float32(2.0 ** -130)   # some denormals
            bufs.append(v.view(np.uint8).copy())
        return bufs

    for (M0, N0, K0), flags in [((8, 8, 1), F32), ((4, 8, 1), F32 | ACC), ((1, 8, 1), F32),
                                ((2, 8, 1), F32 | ACC | FALLBACK), ((3, 5, 2), F32 | FALLBACK),
                                ((3, 5, 2), F32 | FALLBACK | ACC), ((8, 4, 1), F32 | FALLBACK)]:
        a, b, c = f32_operands()
        ints = _mmt4d_ints(5, 3, 7, M0, N0, K0, flags)
        assert check(iree, "mmt4d", ints, (0, 1, 2), a, b, c) is None, (M0, N0, K0, flags)
    for (M0, N0, K0), flags in [((8, 8, 2), S8), ((4, 8, 2), S8 | ACC),
                                ((3, 4, 5), S8 | FALLBACK | ACC), ((2, 2, 1), S8 | FALLBACK)]:
        ints = _mmt4d_ints(4, 6, 9, M0, N0, K0, flags)
        assert check(iree, "mmt4d", ints, (0, 1, 2)) is None, (M0, N0, K0, flags)
    # accumulating rows that overlap each other: IREE goes tile by tile
    a, b, c = f32_operands()
    ints = [0, 8, 0, 8, 0, 24, 4, 5, 1, 1, 8, 1, F32 | ACC]     # row stride 24 < 5 * 8
    assert check(iree, "mmt4d", ints, (0, 1, 2), a, b, c) is None
    # empty cases write nothing
    for m, n, k, flags in ((0, 3, 2, F32), (2, 0, 2, F32), (2, 3, 0, F32 | ACC)):
        assert check(iree, "mmt4d", _mmt4d_ints(m, n, k, 8, 8, 1, flags), (0, 1, 2)) is None


def test_differential_pack(iree):
    cases = []
    for typ in (vmvx.PACK_TYPE_F32F32, vmvx.PACK_TYPE_I32I32, vmvx.PACK_TYPE_I8I8):
        for tflags in (0, TI, TO, TI | TO):
            for (in0, in1, t0, t1, is1) in ((13, 17, 8, 1, 1), (13, 17, 3, 5, 1),
                                            (16, 16, 4, 4, 1), (7, 10, 2, 4, 3),
                                            (0, 5, 2, 2, 1)):
                T0, T1 = (t1, t0) if tflags & TI else (t0, t1)   # out dims 2, 3
                o0, o1 = max(1, -(-in0 // t0)), -(-in1 // t1)   # in0 = 0: all padding
                if tflags & TO:
                    o0, o1 = o1, o0
                in_stride0 = in1 * is1 + 3 if is1 == 1 else 1
                in_stride1 = is1 if is1 == 1 else in0 + 2
                cases.append([5, in_stride0, in_stride1, 2, o1 * t0 * t1 + 4, t0 * t1,
                              in0, in1, o0, o1, T0, T1, 0x7A5A5A5A11223344, typ | tflags])
    cases.append([0, 4, 1, 0, 4, 4, 4, 4, 1, 1, 2, 2, 0, 3])  # uncovered rows: ours raises
    for ints in cases[:-1]:
        assert check(iree, "pack", ints, (0, 2)) is None, ints
    # output rows overlapping each other (out_stride0 < tiles per row * tile): last tile wins
    for flags in (3, 3 | TO, 3 | TI):
        ints = [0, 5, 1, 0, 6, 4, 4, 5, 2, 3, 2, 2, 0x55, flags]
        if flags & TO:
            ints[8:10] = [3, 2]
        assert check(iree, "pack", ints, (0, 2)) is None, ints
    # a zero-row output still maps (size0 - 1) * stride0 + ... mod 2**64: out of range
    assert check(iree, "pack", [0, 4, 1, 0, 16, 4, 0, 4, 0, 1, 2, 2, 0, 3], (0, 2)) is not None
    assert check(iree, "pack", [0, 4, 1, 0, 0, 4, 0, 4, 0, 1, 2, 2, 0, 3], (0, 2)) is None
    with pytest.raises(VmvxError):
        _mine("pack", cases[-1], (0, 2), *(np.zeros(NBYTES, np.uint8),) * 3)


def test_differential_unpack(iree):
    for typ in (vmvx.UNPACK_TYPE_F32F32, vmvx.UNPACK_TYPE_I32I32):
        for tflags in (0, TI, TO, TI | TO):
            for (out0, out1, t0, t1, os1) in ((13, 17, 8, 1, 1), (13, 17, 3, 5, 1),
                                              (16, 16, 4, 4, 1), (7, 10, 2, 4, 3),
                                              (9, 30, 16, 16, 1)):
                o0, o1 = -(-out0 // t0), -(-out1 // t1)
                i0, i1 = (o1, o0) if tflags & TO else (o0, o1)
                T0, T1 = (t1, t0) if tflags & TI else (t0, t1)
                out_stride0 = out1 * os1 + 2
                ints = [3, i1 * t0 * t1 + 5, t0 * t1, 4, out_stride0, os1,
                        i0, i1, T0, T1, out0, out1, typ | tflags]
                assert check(iree, "unpack", ints, (0, 2)) is None, ints
    # self-overlapping output rows (stride0 < width): IREE's write order decides
    for ints in ([0, 64, 16, 0, 3, 1, 2, 4, 4, 4, 8, 10, 3],
                 [0, 64, 16, 0, 3, 2, 2, 4, 4, 4, 8, 10, 3]):
        assert check(iree, "unpack", ints, (0, 2)) is None, ints


def test_differential_query_tile_sizes(iree):
    for op in range(1, 7):
        for role in (1, 2, 3):
            assert check(iree, "query_tile_sizes.2d", [16, 16, (op << 8) | role],
                         (0, 1, 2)) is None


@pytest.mark.parametrize("m0, n0", [(1, 8), (2, 8), (4, 8), (8, 8), (2, 16), (7, 16)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_native_mmt4d_tiles_equal_the_fused_model(m0, n0, accumulate):
    """intrinsics/native_mmt4d.py (AVX2 + FMA) against the numpy model of IREE's fused
    tiles, bit for bit, with denormals and specials among the inputs, flushed or not."""
    from splatjit.emit_x64.cpu import host_features
    from splatjit.intrinsics import vmvx as V
    from splatjit.intrinsics.native_mmt4d import mmt4d_f32_function
    if not {"avx2", "fma"} <= host_features():
        pytest.skip("no AVX2/FMA on this CPU")
    assert mmt4d_f32_function(m0, n0) is not None
    rng = np.random.default_rng(m0 * 100 + n0)
    M, N, K = 3, 2, 5
    lhs = rng.uniform(-2, 2, (M, K, m0, 1)).astype(np.float32)
    rhs = rng.uniform(-2, 2, (N, K, n0, 1)).astype(np.float32)
    lhs.flat[::7] = 1e-39
    rhs.flat[::11] = -2e-39
    lhs.flat[3] = np.inf
    acc = rng.uniform(-1, 1, (M, N, m0, n0)).astype(np.float32)
    for flush in (False, True):
        target = V.Target("x86_64", frozenset({"avx2_fma"}), generic_f32_fma=False,
                          flush_denormals=flush)
        model = V._mmt4d_tiles(lhs, rhs, acc if accumulate else None, V.MMT4D_TYPE_F32F32F32,
                               True, V._Fp(target))
        out = acc.copy()
        assert V._native_mmt4d(lhs, rhs, out, accumulate, target)
        assert out.view(np.uint32).tobytes() == np.asarray(model, np.float32).view(np.uint32).tobytes()
