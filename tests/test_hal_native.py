"""hal/native.py: the native entries of the read-only hal calls answer ordinary calls
themselves, exactly as the Python implementations do, and hand every other call (wrong
object, failing assert, unsignalled fence, state the descriptor does not hold) to Python,
which then answers or raises as before."""
from __future__ import annotations

import ctypes
import platform

import numpy as np
import pytest

from splatjit.frontend.cconv import parse_cconv
from splatjit.hal.buffers import Buffer, BufferView, element_type, NT_FLOAT_IEEE, NT_SINT
from splatjit.hal.local import LocalHal, Fence
from splatjit.hal.native import ENTRIES, NativeHalCall
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import HostObject, ObjectSpace

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")
HAL = LocalHal()
PROVIDER = HAL.provider()
F32 = element_type(NT_FLOAT_IEEE, 32)
_CODES = {"i32": "i", "i64": "q", "ref": "Q"}


class Harness:
    """One hal function's native entry over a counting Python fallback."""

    def __init__(self, name: str):
        self.name, self.calls, self.errors, self.keep = name, 0, [], []
        self.sig = parse_cconv(ENTRIES[name][0])
        python = PROVIDER[name].fn

        def counted(*args):
            self.calls += 1
            return python(*args)

        fallback = python_trampoline(self.sig, counted, self.errors, self.keep, ObjectSpace())
        address, memory = NativeHalCall(name, counted).native_entry(fallback, self.sig)
        self.keep.append(memory)
        self.fn = NATIVE_FN(address)

    def __call__(self, *args, native: bool):
        """args as the Python function takes them (objects or None for refs, a span as a
        list of tuples); returns (status, result). Asserts whether Python was called."""
        raw = packed_args(self.sig.args, args)
        results = (ctypes.c_int64 * 2)(-7, -7)
        before = self.calls
        status = self.fn(None, ctypes.addressof(raw), ctypes.addressof(results))
        assert self.calls == before + (0 if native else 1), "native" if native else "fallback"
        code = {"i": "i", "I": "q", "r": "Q", "v": None}[self.sig.text[-1]]
        value = None if code is None else np.array(results).view(np.int64)[0]
        if code == "i":
            value = int(np.int64(value).astype(np.int32))
        return status, value


def _ref(obj) -> int:
    return 0 if obj is None else obj.ref_address


def packed_args(types, args):
    """The args buffer of a native hal call: `args` as the Python function takes them
    (objects or None for refs, a span as a list of tuples) in `types` (a span's types as a
    tuple), laid out as the import ABI wants (a span's count before its elements)."""
    flat, counts = [], []
    for t, v in zip(types, args):
        if isinstance(t, tuple):
            counts.append(len(v))
            flat.append(len(v))
            flat.extend(_ref(x) if et == "ref" else x for item in v for et, x in zip(t, item))
        else:
            counts.append(0)
            flat.append(_ref(v) if t == "ref" else v)
    st, size = abi.layout_struct(abi.flatten_variadic(types, counts), codes=_CODES)
    return ctypes.create_string_buffer(st.pack(*flat), max(size, 8))


def _view(shape, et=F32, encoding=1) -> BufferView:
    n = int(np.prod(shape)) if shape else 1
    return BufferView(Buffer.allocate(4 * n), shape, et, encoding)


def check(name, *args, native: bool):
    """The native entry's (status, value) against the Python function's answer."""
    got = Harness(name)(*args, native=native)
    try:
        want = PROVIDER[name].fn(*args)
    except Exception:  # noqa: BLE001 - the entry must trap the same way
        assert got[0] == abi.TRAP_IMPORT
        return "error"
    assert got[0] == 0
    if isinstance(want, HostObject):
        assert got[1] == want.ref_address
    elif want is not None:
        assert got[1] == want
    return want


def test_every_entry_is_wrapped_in_both_hals():
    from splatjit.hal.inline import provider as inline_provider
    for name in ENTRIES:
        assert isinstance(PROVIDER[name], NativeHalCall)
    inline = inline_provider()
    for name in ("buffer_view.assert", "buffer_view.buffer", "buffer_view.dim", "buffer.length"):
        assert isinstance(inline[name], NativeHalCall)


def test_object_reads():
    view, buffer = _view((2, 3)), Buffer.allocate(40)
    deep = _view((1,) * 9)
    check("buffer_view.buffer", view, native=True)
    check("device.allocator", HAL.device, native=True)
    check("buffer.length", buffer, native=True)
    assert check("buffer.length", buffer.subspan(8, 16), native=True) == 16
    assert check("buffer_view.rank", view, native=True) == 2
    assert check("buffer_view.rank", deep, native=False) == 9
    assert check("buffer_view.element_type", view, native=True) == F32
    assert check("buffer_view.encoding_type", view, native=True) == 1
    assert check("buffer_view.dim", view, 1, native=True) == 3
    assert check("buffer_view.dim", deep, 8, native=False) == 1
    for name, args in (("buffer_view.buffer", (buffer,)), ("buffer_view.buffer", (None,)),
                       ("device.allocator", (view,)), ("buffer.length", (view,)),
                       ("buffer_view.rank", (None,)), ("buffer_view.dim", (view, 2)),
                       ("buffer_view.dim", (view, -1)), ("buffer_view.dim", (buffer, 0))):
        assert check(name, *args, native=False) == "error", (name, args)


def test_buffer_assert():
    buffer = Buffer.allocate(64)
    check("buffer.assert", buffer, None, None, 64, 0, 0, native=True)
    check("buffer.assert", buffer, None, None, -5, 0, 0, native=True)
    assert check("buffer.assert", buffer, None, None, 65, 0, 0, native=False) == "error"
    assert check("buffer.assert", _view((1,)), None, None, 0, 0, 0, native=False) == "error"


def test_buffer_view_assert():
    message = Buffer.allocate(0)  # any non-null ref: only read when the assert fails
    view = _view((4, 8))
    dims = [(4,), (8,)]
    check("buffer_view.assert", view, message, F32, 1, dims, native=True)
    check("buffer_view.assert", _view((4, 8), encoding=0), message, F32, 1, dims, native=True)
    check("buffer_view.assert", _view(()), message, F32, 1, [], native=True)
    # compatible, not equal: Python decides (signless i32 asserted on an si32 view)
    si32 = element_type(NT_SINT, 32)
    check("buffer_view.assert", _view((4, 8), et=si32), message, element_type(0x10, 32), 1,
          dims, native=False)
    for args in ((view, None, F32, 1, dims), (view, message, si32, 1, dims),
                 (view, message, F32, 2, dims), (view, message, F32, 1, [(4,)]),
                 (view, message, F32, 1, [(4,), (9,)]), (Buffer.allocate(4), message, F32, 1,
                                                        dims)):
        assert check("buffer_view.assert", *args, native=False) == "error", args[2:]


def test_fence_await():
    ready, pending, failed = Fence(signaled=True), Fence(), Fence(signaled=True)
    failed.failure = "status 3"
    assert check("fence.await", -1, 0, [(ready,), (ready,)], native=True) == 0
    assert check("fence.await", -1, 0, [], native=True) == 0
    assert check("fence.await", -1, 0, [(ready,), (pending,)], native=False) == 4
    for fences in ([(failed,)], [(None,)], [(_view((1,)),)]):
        assert check("fence.await", -1, 0, fences, native=False) == "error"
    pending.signaled = True  # the descriptor follows the Python state
    assert check("fence.await", -1, 0, [(pending,)], native=True) == 0


def test_refs_native_code_got_are_held_while_a_global_reaches_them():
    """A view's buffer, returned natively, outlives its view if a ref global holds it:
    the collection after a call adopts live objects it did not hold."""
    space = ObjectSpace()
    view = _view((1,))
    buffer = view.buffer
    space.hold(view)
    space.collect({buffer.ref_address})
    assert space.held == {buffer.ref_address: buffer}
