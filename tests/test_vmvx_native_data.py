"""intrinsics/native_copy.py: the native copy / fill entries
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
    for name in ("fill.2d.x32", *COPIES):
        assert name in ASSEMBLERS
    wrapped = native_provider(PROVIDER)
    for name in ("fill.2d.x32", *COPIES):
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
