"""intrinsics/native_copy.py and native_pack.py: the native copy / fill / pack / unpack entries
write exactly the bytes the Python model (intrinsics/vmvx.py) writes, take the fast path for
ordinary calls, and hand every unusual call (null, read-only, out of range, overlap, odd flags
or shapes) to the model, which then gives its own result or error."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from splatjit.frontend.cconv import parse_cconv
from splatjit.intrinsics import vmvx as V
from splatjit.intrinsics.native_x64 import ASSEMBLERS, NativeIntrinsic, native_provider
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace

PROVIDER = V.provider()
TI, TO = V.TRANSPOSE_INNER, V.TRANSPOSE_OUTER
COPIES = {"copy.2d.x8": 1, "copy.2d.x16": 2, "copy.2d.x32": 4, "copy.2d.x64": 8}
_CODES = {"ref": "Q", "i64": "q", "i32": "i"}


class Harness:
    """One op's native entry over a counting Python fallback; called like the model."""

    def __init__(self, name: str):
        self.name, self.calls, self.errors, self.keep = name, 0, [], []

        def counted(*args):
            self.calls += 1
            return PROVIDER[name](*args)

        self.types = parse_cconv(V.CCONV[name]).args
        self.struct, _ = abi.layout_struct(self.types, codes=_CODES)
        fallback = python_trampoline(parse_cconv(V.CCONV[name]), counted, self.errors,
                                     self.keep, ObjectSpace())
        address, memory = NativeIntrinsic(name, counted).native_entry(fallback)
        self.keep.append(memory)
        self.fn = NATIVE_FN(address)

    def __call__(self, *args) -> int:
        """args as the model takes them (uint8 arrays or None for buffers); the status."""
        values, descs = [], []
        for t, v in zip(self.types, args):
            if t != "ref":
                values.append(v)
            elif v is None:
                values.append(0)
            else:
                d = abi.BufferDesc(v.ctypes.data, v.nbytes,
                                   abi.ACCESS_MUTABLE if v.flags.writeable else 0,
                                   abi.TYPE_BUFFER)
                descs.append(d)
                values.append(ctypes.addressof(d))
        raw = ctypes.create_string_buffer(self.struct.pack(*values), self.struct.size)
        return self.fn(None, ctypes.addressof(raw), None)


_HARNESSES: dict[str, Harness] = {}


def harness(name: str) -> Harness:
    if name not in _HARNESSES:
        _HARNESSES[name] = Harness(name)
    return _HARNESSES[name]


def _clone(args):
    """A copy of every buffer (the same copy where one buffer is passed twice), keeping
    read-only buffers read-only."""
    copies: dict[int, np.ndarray] = {}
    out = []
    for v in args:
        if isinstance(v, np.ndarray):
            if id(v) not in copies:
                c = v.copy()
                c.flags.writeable = v.flags.writeable
                copies[id(v)] = c
            out.append(copies[id(v)])
        else:
            out.append(v)
    return out


def check(name: str, *args, native: bool) -> V.VmvxError | None:
    """Run the native entry and the model on copies of the same buffers; assert the same
    bytes, the same error (or none), and whether the native path handled the call alone.
    Returns the model's error."""
    h = harness(name)
    mine, theirs = _clone(args), _clone(args)
    before = h.calls
    status = h(*mine)
    try:
        PROVIDER[name](*theirs)
        error = None
    except V.VmvxError as e:
        error = e
    if error is None:
        assert status == 0, h.errors[-1:]
    else:
        assert status == abi.TRAP_IMPORT
        got = h.errors.pop()
        assert type(got) is type(error) and str(got) == str(error)
    for m, t in zip(mine, theirs):
        if isinstance(m, np.ndarray):
            assert m.tobytes() == t.tobytes()
    assert h.calls == before + (0 if native else 1), "native" if native else "fallback"
    return error


def _bytes(rng, n: int) -> np.ndarray:
    return rng.integers(0, 256, n, dtype=np.uint8)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


def test_every_native_op_is_registered_and_wrapped():
    for name in ("pack", "unpack", "fill.2d.x32", *COPIES):
        assert name in ASSEMBLERS
    wrapped = native_provider(PROVIDER)
    for name in ("pack", "unpack", "fill.2d.x32", *COPIES):
        assert isinstance(wrapped[name], NativeIntrinsic)


# --- copies -----------------------------------------------------------------------------------

def _copy_case(rng, esize: int):
    n0, n1 = int(rng.integers(1, 9)), int(rng.integers(1, 12))
    s1_in = int(rng.choice([1, 1, 0, 2, 3]))
    s0_in = int(rng.choice([0, max(n1 * s1_in, 1) + int(rng.integers(0, 3)), 1]))
    s1_out = int(rng.choice([1, 1, 2, 0]))
    s0_out = int(rng.choice([max(n1 * s1_out, 1) + int(rng.integers(0, 3)), 0, 1]))
    off_in, off_out = int(rng.integers(0, 5)), int(rng.integers(0, 5))
    n_in = off_in + (n0 - 1) * s0_in + (n1 - 1) * s1_in + 1 + int(rng.integers(0, 3))
    n_out = off_out + (n0 - 1) * s0_out + (n1 - 1) * s1_out + 1 + int(rng.integers(0, 3))
    return (_bytes(rng, esize * n_in), off_in, s0_in, s1_in,
            _bytes(rng, esize * n_out), off_out, s0_out, s1_out, n0, n1)


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_fast_path_equals_the_model(name):
    """Random shapes, offsets and strides (zero strides and self-overlapping outputs
    included: the native row-major order keeps the model's last write)."""
    rng = np.random.default_rng(COPIES[name])
    for _ in range(150):
        check(name, *_copy_case(rng, COPIES[name]), native=True)


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_long_rows_use_every_tail_size(name):
    es = COPIES[name]
    rng = np.random.default_rng(7)
    for n1 in range(1, 70 // es):
        src, dst = _bytes(rng, es * (3 * n1 + 5)), _bytes(rng, es * (3 * n1 + 9))
        check(name, src, 1, n1 + 1, 1, dst, 2, n1 + 2, 1, 3, n1, native=True)


@pytest.mark.parametrize("name", sorted(COPIES))
def test_unusual_copies_go_to_the_model(name):
    es = COPIES[name]
    rng = np.random.default_rng(3)
    buf = _bytes(rng, 64 * es)
    out = _bytes(rng, 64 * es)
    # overlapping ranges (in place, shifted by one in both directions): IREE's element order
    check(name, buf, 0, 8, 1, buf, 0, 8, 1, 4, 8, native=False)
    check(name, buf, 0, 0, 1, buf, 1, 0, 1, 1, 16, native=False)
    check(name, buf, 1, 0, 1, buf, 0, 0, 1, 1, 16, native=False)
    # errors: null, read-only output, out of range, negative offset / stride / size, size 0
    assert check(name, None, 0, 8, 1, out, 0, 8, 1, 4, 8, native=False)
    assert check(name, buf, 0, 8, 1, None, 0, 8, 1, 4, 8, native=False)
    assert check(name, buf, 0, 8, 1, _read_only(out), 0, 8, 1, 4, 8, native=False)
    assert check(name, buf, 0, 8, 1, out, 40, 8, 1, 4, 8, native=False)
    assert check(name, buf, 1, 8, 1, out, 0, 8, 1, 8, 8, native=False)
    check(name, buf, 6, -1, 0, out, 0, 1, 0, 4, 1, native=False)
    check(name, buf, -1, 8, 1, out, 0, 8, 1, 2, 2, native=False)
    check(name, buf, 0, 8, 1, out, 0, 8, 1, 0, 8, native=False)
    check(name, buf, 0, 8, 1, out, 0, 8, 1, 4, 0, native=False)
    check(name, buf, 0, 8, 1, out, 0, 8, 1, -1, 2, native=False)
    check(name, buf, 0, 1 << 31, 1, out, 0, 8, 1, 1, 2, native=False)


# --- fill -------------------------------------------------------------------------------------

def test_fill_fast_path_equals_the_model():
    rng = np.random.default_rng(11)
    for _ in range(200):
        n0, n1 = int(rng.integers(1, 7)), int(rng.integers(1, 23))
        stride = int(rng.choice([n1, n1 + int(rng.integers(1, 4)), 0, max(n1 - 2, 0)]))
        off = int(rng.integers(0, 4))
        value = int(rng.integers(-2**31, 2**31))
        out = _bytes(rng, 4 * (off + (n0 - 1) * stride + n1 + int(rng.integers(0, 3))))
        check("fill.2d.x32", value, out, off, stride, n0, n1, native=True)


def test_unusual_fills_go_to_the_model():
    out = np.zeros(64, np.uint8)
    assert check("fill.2d.x32", 7, None, 0, 4, 4, 4, native=False)
    assert check("fill.2d.x32", 7, _read_only(out), 0, 4, 4, 4, native=False)
    assert check("fill.2d.x32", 7, out, 1, 4, 4, 4, native=False)       # one element past
    check("fill.2d.x32", 7, out, 0, 4, 0, 4, native=False)
    check("fill.2d.x32", 7, out, 0, 4, 4, 0, native=False)
    check("fill.2d.x32", 7, out, -1, 4, 1, 1, native=False)
    check("fill.2d.x32", 7, out, 0, -1, 2, 1, native=False)


# --- pack -------------------------------------------------------------------------------------

PACK_TYPES = {V.PACK_TYPE_F32F32: 4, V.PACK_TYPE_I32I32: 4, V.PACK_TYPE_I8I8: 1}


def _pack_case(rng, typ: int, flags: int, full: bool = False):
    """Random pack arguments whose tiles cover the input (exactly when `full`)."""
    es = PACK_TYPES[typ]
    s2, s3 = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    tile0, tile1 = (s3, s2) if flags & TI else (s2, s3)
    n0, n1 = int(rng.integers(1, 14)), int(rng.integers(1, 14))
    if full:
        n0, n1 = tile0 * max(n0 // tile0, 1), tile1 * max(n1 // tile1, 1)
    outer0 = -(-n0 // tile0) + int(rng.integers(0, 2) if not full else 0)
    outer1 = -(-n1 // tile1) + int(rng.integers(0, 2) if not full else 0)
    s0, s1 = (outer1, outer0) if flags & TO else (outer0, outer1)
    is1 = int(rng.choice([1, 1, 2, 0]))
    is0 = int(rng.choice([n1 * max(is1, 1) + int(rng.integers(0, 3)), 1, 0]))
    row = s1 * s2 * s3
    os0 = row + int(rng.integers(0, 4))
    in_off, out_off = int(rng.integers(0, 4)), int(rng.integers(0, 4))
    n_in = in_off + (n0 - 1) * is0 + (n1 - 1) * is1 + 1 + int(rng.integers(0, 3))
    n_out = out_off + (s0 - 1) * os0 + row + int(rng.integers(0, 3))
    pad = int(rng.integers(-2**63, 2**63))
    return [_bytes(rng, es * n_in), in_off, is0, is1, _bytes(rng, es * n_out), out_off, os0,
            int(rng.integers(-5, 5)), n0, n1, s0, s1, s2, s3, pad, typ | flags]


@pytest.mark.parametrize("typ", sorted(PACK_TYPES))
@pytest.mark.parametrize("flags", [0, TI, TO, TI | TO])
def test_pack_fast_path_equals_the_model(typ, flags):
    """Partial tiles, padding (64-bit values: only the low bytes count), transposes,
    strided and broadcast inputs (stride 0), spare output tiles, both loop variants."""
    rng = np.random.default_rng(typ * 7 + flags)
    for k in range(120):
        check("pack", *_pack_case(rng, typ, flags, full=k % 4 == 0), native=True)


def test_pack_shapes_of_the_data_tiled_matmuls():
    """The calls IREE 3.13's data-tiled matmul programs make (tests/corpus/programs/matmul*.mlir,
    bench/programs/matmul_f32.mlir): lhs without flags, rhs with both transposes."""
    rng = np.random.default_rng(5)
    for (n0, n1, s0, s1, s2, s3, flags) in ((128, 64, 16, 64, 8, 1, 0),
                                            (64, 128, 16, 64, 8, 1, TI | TO),
                                            (4, 8, 1, 8, 8, 1, 0), (8, 4, 1, 8, 8, 1, TI | TO),
                                            (4, 8, 1, 2, 4, 4, 0), (8, 16, 2, 2, 8, 4, TI | TO)):
        src = _bytes(rng, 4 * n0 * n1)
        out = _bytes(rng, 4 * s0 * s1 * s2 * s3)
        check("pack", src, 0, n1, 1, out, 0, s1 * s2 * s3, s2 * s3, n0, n1, s0, s1, s2, s3, 0,
              V.PACK_TYPE_F32F32 | flags, native=True)


@pytest.mark.parametrize("typ", sorted(PACK_TYPES))
@pytest.mark.parametrize("flags", [0, TI, TO, TI | TO])
def test_pack_runs_of_whole_one_column_tiles(typ, flags):
    """Tiles of one column (s3 = 1, as every matmul operand's) in rows of whole tiles: the
    tight loops (16-byte copies of contiguous tiles, 4 x 4 transposes of strided 4-byte
    ones) then the general loop for what is left - runs not a multiple of four tiles,
    partial and spare tiles, padded input rows, a broadcast (stride 0) input row."""
    rng = np.random.default_rng(100 + typ * 7 + flags)
    es = PACK_TYPES[typ]
    for s2 in (4, 8, 12, 16, 32):
        for n_outer, spare, ragged, is1 in ((5, 0, 0, 1), (8, 0, 0, 1), (9, 1, 0, 1),
                                            (7, 0, 3, 1), (6, 1, 1, 1), (4, 0, 0, 0)):
            tile0, tile1 = (1, s2) if flags & TI else (s2, 1)
            n0 = tile0 * (3 if tile0 > 1 else n_outer) - (ragged if tile0 > 1 else 0)
            n1 = tile1 * (3 if tile1 > 1 else n_outer) - (ragged if tile1 > 1 else 0)
            outer0 = -(-n0 // tile0) + (spare if tile0 == 1 else 0)
            outer1 = -(-n1 // tile1) + (spare if tile1 == 1 else 0)
            s0, s1 = (outer1, outer0) if flags & TO else (outer0, outer1)
            is0 = n1 * max(is1, 1) + int(rng.integers(0, 3))
            row = s1 * s2
            n_in = (n0 - 1) * is0 + (n1 - 1) * is1 + 1
            src, out = _bytes(rng, es * n_in), _bytes(rng, es * s0 * row)
            check("pack", src, 0, is0, is1, out, 0, row, int(rng.integers(-5, 5)), n0, n1,
                  s0, s1, s2, 1, int(rng.integers(-2**63, 2**63)), typ | flags, native=True)


def test_unusual_packs_go_to_the_model():
    rng = np.random.default_rng(1)
    # a 5 x 7 input in 3 x 3 tiles of 2 x 3 (padded), both dense
    base = [_bytes(rng, 4 * 35), 0, 7, 1, _bytes(rng, 4 * 54), 0, 18, 0, 5, 7, 3, 3, 2, 3,
            -1, V.PACK_TYPE_F32F32]

    def variant(**changes):
        args = list(base)
        for k, v in changes.items():
            args[int(k[1:])] = v
        return args

    check("pack", *base, native=True)
    ro = _read_only(base[4])
    shared = _bytes(rng, 8192)
    for args, error in (
            (variant(a0=None), True), (variant(a4=None), True), (variant(a4=ro), True),
            (variant(a5=base[5] + 1), True),                            # output out of range
            (variant(a1=base[1] + 1), True),                            # input out of range
            (variant(a15=0x04), True), (variant(a15=0x401), False),     # flags
            (variant(a10=base[10] - 1), True),                          # tiles do not cover
            (variant(a8=0), False), (variant(a10=0), False), (variant(a12=0), False),
            (variant(a2=-1), None), (variant(a8=-1), True),
            (variant(a6=base[6] - 1), None),                            # rows overlap
            (variant(a0=shared, a1=0, a4=shared, a5=3), None),          # input overlaps output
            (variant(a12=64, a13=17, a10=1, a11=1, a4=_bytes(rng, 4 * 64 * 17)), True),  # big tile
    ):
        err = check("pack", *args, native=False)
        if error is not None:
            assert bool(err) == error, (args[1:4], args[5:], err)


# --- unpack -----------------------------------------------------------------------------------

UNPACK_TYPES = (V.UNPACK_TYPE_F32F32, V.UNPACK_TYPE_I32I32)


def _unpack_case(rng, typ: int, flags: int):
    s2, s3 = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    tile0, tile1 = (s3, s2) if flags & TI else (s2, s3)
    m0, m1 = int(rng.integers(1, 14)), int(rng.integers(1, 14))
    outer0 = -(-m0 // tile0) + int(rng.integers(0, 2))
    outer1 = -(-m1 // tile1) + int(rng.integers(0, 2))
    s0, s1 = (outer1, outer0) if flags & TO else (outer0, outer1)
    row = s1 * s2 * s3
    is0 = int(rng.choice([row, row + int(rng.integers(1, 4))]))
    os1 = int(rng.choice([1, 1, 2, 3]))
    os0 = (m1 - 1) * os1 + 1 + int(rng.choice([0, 0, int(rng.integers(1, 4))]))
    in_off, out_off = int(rng.integers(0, 4)), int(rng.integers(0, 4))
    n_in = in_off + (s0 - 1) * is0 + row + int(rng.integers(0, 3))
    n_out = out_off + (m0 - 1) * os0 + (m1 - 1) * os1 + 1 + int(rng.integers(0, 3))
    return [_bytes(rng, 4 * n_in), in_off, is0, int(rng.integers(-5, 5)),
            _bytes(rng, 4 * n_out), out_off, os0, os1, s0, s1, s2, s3, m0, m1, typ | flags]


@pytest.mark.parametrize("typ", UNPACK_TYPES)
@pytest.mark.parametrize("flags", [0, TI, TO, TI | TO])
def test_unpack_fast_path_equals_the_model(typ, flags):
    rng = np.random.default_rng(typ * 5 + flags + 100)
    for _ in range(150):
        check("unpack", *_unpack_case(rng, typ, flags), native=True)


def test_unpack_shape_of_the_data_tiled_matmul_bias():
    rng = np.random.default_rng(9)
    tiles, out = _bytes(rng, 4 * 1 * 2 * 4 * 8), _bytes(rng, 4 * 64)
    check("unpack", tiles, 0, 64, 32, out, 0, 16, 1, 1, 2, 4, 8, 4, 16,
          V.UNPACK_TYPE_F32F32, native=True)


def test_unusual_unpacks_go_to_the_model():
    rng = np.random.default_rng(4)
    # 2 x 3 tiles of 4 x 2 -> a 7 x 5 output (cropped)
    base = [_bytes(rng, 4 * 48), 0, 24, 0, _bytes(rng, 4 * 35), 0, 5, 1, 2, 3, 4, 2, 7, 5,
            V.UNPACK_TYPE_F32F32]

    def variant(**changes):
        args = list(base)
        for k, v in changes.items():
            args[int(k[1:])] = v
        return args

    check("unpack", *base, native=True)
    shared = _bytes(rng, 4096)
    for args, error in (
            (variant(a0=None), True), (variant(a4=None), True),
            (variant(a4=_read_only(base[4])), True),
            (variant(a1=1), True), (variant(a5=1), True),               # out of range
            (variant(a14=0x02), True), (variant(a14=0x801), False),     # flags
            (variant(a12=9), True),                                     # tiles do not cover
            (variant(a12=0), False), (variant(a8=0), True), (variant(a8=-1), True),
            (variant(a7=0), None), (variant(a6=4), None),               # self-overlapping out
            (variant(a0=shared, a4=shared, a5=40), None),               # input overlaps output
            (variant(a10=64, a11=32, a12=5, a13=5, a8=1, a9=1, a2=2048,
                     a0=_bytes(rng, 4 * 2048)), None),                  # tile > 4096 bytes
            (variant(a7=1 << 31), True),
    ):
        err = check("unpack", *args, native=False)
        if error is not None:
            assert bool(err) == error, (args[1:4], args[5:], err)


# --- whole programs ---------------------------------------------------------------------------

@pytest.mark.parametrize("stem, variant", [("matmul", "datatiled"), ("matmul_bias", "datatiled"),
                                           ("matmul", "ukernel"), ("matmul_bias", "ukernel")])
def test_programs_move_data_without_python(monkeypatch, stem, variant):
    """The corpus's data-tiled and microkernel matmuls (pack, unpack, fill, mmt4d,
    query_tile_sizes.2d) never reach the Python model: every such call takes its native
    fast path (mmt4d: unless this CPU's architecture tile has no native loop, e.g. AVX-512's
    16 x 16)."""
    import corpus
    from program_runs import random_inputs
    from splatjit.intrinsics.native_mmt4d import native_tile_shapes
    from splatjit.module import JitModule

    item = next(i for i in corpus.program_items() if i.name == stem and i.variant == variant)
    try:
        data = corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item.id}: {e.reason}")
    calls: dict[str, int] = {}
    model = V.provider
    target = V.host_target()
    native = {n for n, f in native_provider(model()).items() if isinstance(f, NativeIntrinsic)}

    def no_native_loop(name, args) -> bool:
        m0, n0, k0, flags = args[12:16]
        return (name == "mmt4d" and V._mmt4d_arch_tile(target, flags & 0xFF, m0, n0, k0)
                and (m0, n0) not in native_tile_shapes())

    def counting_provider():
        def wrap(name, fn):
            def counted(*args):
                if not no_native_loop(name, args):
                    calls[name] = calls.get(name, 0) + 1
                return fn(*args)
            return counted
        return {name: wrap(name, fn) for name, fn in model().items()}

    monkeypatch.setattr(V, "provider", counting_provider)
    JitModule(data).main(*random_inputs(item, 3))
    moved = {n: c for n, c in calls.items() if n in native}
    assert moved == {}, f"Python model called for {moved}"
