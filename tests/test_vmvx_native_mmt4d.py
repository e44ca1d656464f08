"""intrinsics/native_mmt4d.py's entries: a native `vmvx.mmt4d` call writes exactly the bits
the Python model (intrinsics/vmvx.py) writes (fused architecture tiles, unfused generic ones,
flushed denormals), takes the fast path for the ordinary calls of the data-tiled matmuls, and
hands every unusual call (s8 tiles, K = 0, overlap, errors) to the model;
`query_tile_sizes.2d` answers as the model."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from splatjit.frontend.cconv import parse_cconv
from splatjit.intrinsics import vmvx as V
from splatjit.intrinsics.native_mmt4d import native_tile_shapes
from splatjit.intrinsics.native_x64 import NativeIntrinsic, native_provider
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace
from test_vmvx_native_data import _read_only, check

pytestmark = pytest.mark.skipif(not native_tile_shapes(),
                                reason="no native f32 tile loop for this CPU's mmt4d tiles")
F32, S8 = V.MMT4D_TYPE_F32F32F32, V.MMT4D_TYPE_S8S8S32
ACC, GENERIC = V.MMT4D_ACCUMULATE, V.MMT4D_ALLOW_GENERIC_FALLBACK


def _floats(rng, n: int) -> np.ndarray:
    """n f32 values as bytes, with denormals, signed zeros and infinities among them."""
    x = rng.uniform(-2, 2, n).astype(np.float32)
    x[::13] = 1e-39
    x[5::17] = -2e-39
    x[7::29] = -0.0
    x[11::31] = np.inf
    return x.view(np.uint8)


def _case(rng, m0: int, n0: int, flags: int, M=None, N=None, K=None, k0: int = 1):
    """Arguments of an ordinary call: random sizes, offsets, row strides with slack."""
    M = M or int(rng.integers(1, 4))
    N = N or int(rng.integers(1, 4))
    K = K or int(rng.integers(1, 6))
    lo, ro, oo = (int(v) for v in rng.integers(0, 6, 3))
    ls = K * m0 * k0 + int(rng.integers(0, 3))
    rs = K * n0 * k0 + int(rng.integers(0, 3))
    os_ = N * m0 * n0 + int(rng.integers(0, 3))
    lhs = _floats(rng, 4 * (lo + (M - 1) * ls + K * m0 * k0 + int(rng.integers(0, 3))))
    rhs = _floats(rng, 4 * (ro + (N - 1) * rs + K * n0 * k0 + int(rng.integers(0, 3))))
    out = _floats(rng, 4 * (oo + (M - 1) * os_ + N * m0 * n0 + int(rng.integers(0, 3))))
    return [lhs, lo, ls, rhs, ro, rs, out, oo, os_, M, N, K, m0, n0, k0, flags]


def test_mmt4d_is_registered_and_wrapped():
    assert isinstance(native_provider(V.provider())["mmt4d"], NativeIntrinsic)
    assert isinstance(native_provider(V.provider())["query_tile_sizes.2d"], NativeIntrinsic)


@pytest.mark.parametrize("flags", [F32, F32 | ACC, F32 | GENERIC, F32 | ACC | GENERIC,
                                   F32 | GENERIC | V.MMT4D_SKIP_INTERMEDIATE_ROUNDINGS])
def test_mmt4d_fast_path_equals_the_model(flags):
    rng = np.random.default_rng(flags)
    for m0, n0 in native_tile_shapes():
        for _ in range(4):
            check("mmt4d", *_case(rng, m0, n0, flags), native=True)


@pytest.mark.parametrize("flags", [F32 | GENERIC, F32 | GENERIC | ACC])
def test_mmt4d_generic_tiles_equal_the_unfused_model(flags):
    """Shapes without an architecture tile (and architecture shapes with K0 > 1) run IREE's
    generic tile: a separate multiply and add per k, k0, as the model computes them."""
    rng = np.random.default_rng(flags + 1)
    for m0, n0, k0 in ((4, 8, 4), (3, 5, 2), (1, 1, 1), (8, 8, 2), (2, 16, 3), (5, 1, 7)):
        for _ in range(3):
            check("mmt4d", *_case(rng, m0, n0, flags, k0=k0), native=True)


def test_mmt4d_shapes_of_the_data_tiled_matmuls():
    """The 128^3 benchmark matmul's call (16 x 16 tiles of 8 x 8, K = 128), the corpus's
    matmul_bias generic tile (4 x 8 x 4) and a one-row call (M = 1: any row stride)."""
    rng = np.random.default_rng(7)
    check("mmt4d", *_case(rng, 8, 8, F32, 16, 16, 128), native=True)
    check("mmt4d", *_case(rng, 4, 8, F32 | GENERIC | V.MMT4D_SKIP_INTERMEDIATE_ROUNDINGS,
                          1, 2, 2, k0=4), native=True)
    args = _case(rng, 8, 8, F32 | ACC, 1, 2, 3)
    args[8] = 0
    check("mmt4d", *args, native=True)


def test_unusual_mmt4d_calls_go_to_the_model():
    rng = np.random.default_rng(3)
    base = _case(rng, 8, 8, F32 | ACC, 2, 2, 3)

    def variant(**changes):
        args = list(base)
        for k, v in changes.items():
            args[int(k[1:])] = v
        return args

    check("mmt4d", *base, native=True)
    shared = _floats(rng, 4 * 4096)
    for args, error in (
            (variant(a0=None), True), (variant(a3=None), True), (variant(a6=None), True),
            (variant(a6=_read_only(base[6])), True),
            (variant(a1=10**6), True), (variant(a4=10**6), True), (variant(a7=10**6), True),
            (variant(a15=S8 | GENERIC), None),                 # s8 tiles
            (variant(a15=F32, a12=3), True),                     # no tile function
            (variant(a15=F32 | 0x800), False),                   # unknown flag bit
            (variant(a15=0x03), True),                           # unknown type
            (variant(a14=2, a15=F32), True),                     # K0 = 2, no generic
            (variant(a12=0, a15=F32 | GENERIC), None),           # M0 = 0
            (variant(a13=1 << 15, a15=F32 | GENERIC), True),     # N0 too large
            (variant(a14=-1, a15=F32 | GENERIC), True),
            (variant(a11=0), False), (variant(a11=0, a15=F32), False),   # K = 0
            (variant(a9=0), None), (variant(a10=0), None),       # M = 0, N = 0
            (variant(a9=-1), True), (variant(a11=1 << 31), True),
            (variant(a8=64), None), (variant(a8=0), None),       # rows overlap
            (variant(a2=1 << 31), True), (variant(a8=-1), None),
            (variant(a0=shared, a6=shared, a7=30), None),        # output overlaps lhs
            (variant(a3=shared, a6=shared, a7=20), None),        # output overlaps rhs
            (variant(a0=shared, a6=shared, a7=3000), None),      # shared, disjoint: native
    ):
        native = args[6] is shared and args[7] == 3000
        err = check("mmt4d", *args, native=native)
        if error is not None:
            assert bool(err) == error, (args[1:3], args[4:6], args[7:], err)


# --- query_tile_sizes.2d ----------------------------------------------------------------------

def test_query_tile_sizes_answers_as_the_model():
    name = "query_tile_sizes.2d"
    model = V.provider()[name]
    calls, errors, keep = [], [], []

    def counted(*args):
        calls.append(args)
        return model(*args)

    sig = parse_cconv(V.CCONV[name])
    fallback = python_trampoline(sig, counted, errors, keep, ObjectSpace())
    address, memory = NativeIntrinsic(name, counted).native_entry(fallback)
    fn = NATIVE_FN(address)
    valid = [op | role for op in V._QTS_MATMUL_OPS for role in (1, 2, 3)]
    for flags in valid + [v | 0x7FFF0000 for v in valid] + [0, 0x100, 0x104, 0x703, 0xFF01]:
        args = (ctypes.c_int64 * 3)(16, 16, flags)
        results = (ctypes.c_int64 * 2)(-1, -1)
        before = len(calls)
        status = fn(None, ctypes.addressof(args), ctypes.addressof(results))
        try:
            want = model(16, 16, flags)
        except V.VmvxError as e:
            assert status == abi.TRAP_IMPORT and str(errors.pop()) == str(e)
            assert len(calls) == before + 1
            continue
        assert status == 0 and tuple(results) == want, hex(flags)
        assert len(calls) == before, "the native entry answers valid flags itself"


AVX512_TARGET = V.Target("x86_64", frozenset({"avx2_fma", "avx512_base"}))


@pytest.mark.parametrize("m0, n0", [(16, 16), (8, 16), (4, 16), (1, 16), (8, 8)])
@pytest.mark.parametrize("flags", [F32, F32 | ACC])
def test_fused_loops_equal_the_fused_model(m0, n0, flags, monkeypatch):
    """The fused loops compute bit for bit what IREE's tiles compute (the model, in numpy:
    one FMA per k, in k order; the model's own shortcut to the native loop is turned off
    here): AVX-512 hosts' f32 tiles (N0 = 16, M0 up to 16) in passes of rows when their
    accumulators do not fit 14 ymm registers, and AVX2's 8 x 8 tile in groups of three
    tiles (N = 3 .. 7: whole groups, then single tiles)."""
    from splatjit.intrinsics.native_mmt4d import Mmt4dParams, mmt4d_f32_function
    monkeypatch.setattr(V, "_native_mmt4d", lambda *args: False)
    fn = mmt4d_f32_function(m0, n0)
    assert fn is not None
    rng = np.random.default_rng(m0 * 100 + n0 + flags)
    for M, N, K in ((1, 1, 1), (2, 3, 5), (3, 2, 17), (2, 7, 9), (1, 4, 3), (2, 6, 1)):
        lhs, lo, ls, rhs, ro, rs, out, oo, os_, *_ = _case(rng, m0, n0, flags, M, N, K)
        want = out.copy()
        V.provider(AVX512_TARGET)["mmt4d"](lhs, lo, ls, rhs, ro, rs, want, oo, os_, M, N, K,
                                           m0, n0, 1, flags)
        got = out.copy()
        addr = lambda arr, off: arr.ctypes.data + 4 * off  # noqa: E731
        fn(ctypes.byref(Mmt4dParams(addr(got, oo), 4 * os_, addr(lhs, lo), 4 * ls,
                                    addr(rhs, ro), 4 * rs, M, N, K, bool(flags & ACC), 1,
                                    m0, n0, 1)))
        assert got.tobytes() == want.tobytes(), (M, N, K)
