"""intrinsics/native_x64.py: the native element-wise entries compute exactly what the Python
model (intrinsics/vmvx.py) computes, take the fast path for ordinary calls, and hand every
unusual call (overlap, out of range, read-only output, null) to the model."""
from __future__ import annotations

import ctypes
import struct

import numpy as np
import pytest

from splatjit.frontend.cconv import parse_cconv
from splatjit.intrinsics import vmvx as V
from splatjit.emit_x64.cpu import host_features
from splatjit.intrinsics.native_x64 import (BINARY, CHECKED, LIBM_UNARY, NEEDS, UNARY,
                                            NativeIntrinsic)
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace

PROVIDER = V.provider()


class Harness:
    """One op's native entry over a counting Python fallback."""

    def __init__(self, name: str):
        self.name, self.calls, self.errors, self.keep = name, 0, [], []

        def counted(*args):
            self.calls += 1
            return PROVIDER[name](*args)

        sig = parse_cconv(V.CCONV[name])
        fallback = python_trampoline(sig, counted, self.errors, self.keep, ObjectSpace())
        address, memory = NativeIntrinsic(name, counted).native_entry(fallback)
        self.keep.append(memory)
        self.fn = NATIVE_FN(address)

    def __call__(self, buffers, scalars) -> int:
        """buffers: [(uint8 array or None, offset, stride0, stride1)], then size0, size1."""
        descs, raw = [], b""
        for arr, off, s0, s1 in buffers:
            if arr is None:
                address = 0
            else:
                d = abi.BufferDesc(arr.ctypes.data, arr.nbytes,
                                   abi.ACCESS_MUTABLE if arr.flags.writeable else 0, abi.TYPE_BUFFER)
                descs.append(d)
                address = ctypes.addressof(d)
            raw += struct.pack("<Qqqq", address, off, s0, s1)
        raw += struct.pack("<qq", *scalars)
        args = ctypes.create_string_buffer(raw, len(raw))
        return self.fn(None, ctypes.addressof(args), None)


def _values(rng, n, name):
    if name.endswith("f32"):
        v = rng.uniform(-4, 4, n).astype(np.float32)
        v[::7] = np.float32(1e-39)       # denormals: flushed inside dispatches
        v[3::11] = -np.float32(3e-40)
        v[5::13] = np.inf
        v[6::17] = np.nan
        return v.view(np.uint8)
    v = rng.integers(-2**31, 2**31, n, dtype=np.int64).astype(np.int32)
    v[::5] = rng.integers(0, 40, v[::5].size)  # shift counts beyond 31 too
    return v.view(np.uint8)


CASES = [(4, 5, 0, 5, 1), (3, 4, 2, 9, 2), (1, 7, 3, 0, 1), (2, 2, 0, 2, 1)]


@pytest.mark.parametrize("name", sorted(BINARY) + sorted(CHECKED) + sorted(UNARY) + sorted(LIBM_UNARY))
@pytest.mark.parametrize("n0, n1, offset, s0, s1", CASES)
def test_fast_path_equals_the_model(name, n0, n1, offset, s0, s1):
    if not NEEDS.get(name, set()) <= host_features():
        pytest.skip(f"this CPU lacks {NEEDS[name]}")
    rng = np.random.default_rng(abs(hash((name, n0, n1))) % 2**32)
    size = 4 * (offset + n0 * max(s0, 1) + n1 * s1 + 4)
    ins = [_values(rng, size // 4, name) for _ in range(2 if name in BINARY or name in CHECKED else 1)]
    if name in CHECKED:  # divisors: never 0, never -1 (those go to the model, tested below)
        d = ins[1].view(np.int32)
        d[(d == 0) | (d == -1)] = 7
    out_native = rng.integers(0, 256, size, dtype=np.uint8)
    out_model = out_native.copy()
    h = Harness(name)
    layout = [(x, offset, s0, s1) for x in ins]
    assert h(layout + [(out_native, offset + 1, s0, s1)], (n0, n1)) == 0
    assert h.calls == 0, "an ordinary call must not need the Python model"
    PROVIDER[name](*[v for x in ins for v in (x, offset, s0, s1)],
                   out_model, offset + 1, s0, s1, n0, n1)
    assert out_native.tobytes() == out_model.tobytes()


@pytest.mark.parametrize("name", ["add.2d.f32", "xor.2d.i32", "copy.2d.x32", "exp.2d.f32",
                                  "divs.2d.i32"])
def test_unusual_calls_go_to_the_model(name):
    rng = np.random.default_rng(0)
    n_in = 2 if name in BINARY or name in CHECKED else 1
    a = _values(rng, 64, name)
    h = Harness(name)
    # in place (output = first input): the model decides, and computes the same thing
    inplace, model = a.copy(), a.copy()
    ins = [(inplace, 0, 8, 1)] * n_in
    assert h(ins + [(inplace, 0, 8, 1)], (4, 8)) == 0 and h.calls == 1
    PROVIDER[name](*[v for _ in range(n_in) for v in (model, 0, 8, 1)], model, 0, 8, 1, 4, 8)
    assert inplace.tobytes() == model.tobytes()
    # out of range, read-only output, null input, negative stride: errors or the model
    for buffers, sizes in (([(a, 0, 8, 1)] * n_in + [(np.zeros(16, np.uint8), 0, 8, 1)], (4, 8)),
                           ([(a, 0, 8, 1)] * n_in + [(np.frombuffer(bytes(256), np.uint8), 0, 8, 1)], (4, 8)),
                           ([(None, 0, 8, 1)] * n_in + [(np.zeros(256, np.uint8), 0, 8, 1)], (4, 8))):
        before = h.calls
        assert h(buffers, sizes) == abi.TRAP_IMPORT
        assert h.calls == before + 1 and isinstance(h.errors.pop(), V.VmvxError)
    before = h.calls
    assert h([(a, 40, -1, 1)] * n_in + [(np.zeros(256, np.uint8), 0, 8, 1)], (2, 2)) in (0, abi.TRAP_IMPORT)
    assert h.calls == before + 1


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_division_by_zero_or_overflow_writes_nothing_and_raises(name):
    """A zero divisor (or INT_MIN / -1) anywhere sends the call to the model before the
    native pass writes anything; the model raises VmvxError (IREE dies of SIGFPE)."""
    h = Harness(name)
    lhs = np.full(16, -2**31, np.int32)
    for bad in (0, -1):
        rhs = np.full(16, 3, np.int32)
        rhs[13] = bad
        out = np.full(16, 99, np.int32)
        before = h.calls
        status = h([(lhs.view(np.uint8), 0, 4, 1), (rhs.view(np.uint8), 0, 4, 1),
                    (out.view(np.uint8), 0, 4, 1)], (4, 4))
        if bad == -1 and name == "divu.2d.i32":  # unsigned: 0xFFFFFFFF is an ordinary divisor
            assert status == 0 and h.calls == before
            continue
        assert status == abi.TRAP_IMPORT and isinstance(h.errors.pop(), V.VmvxError)
        assert np.all(out == 99)
