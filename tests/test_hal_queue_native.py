"""hal/pools.py's native queue calls (device.queue.alloca on a BufferPool): ordinary calls
are answered in machine code exactly as the Python implementation answers them, every
other call reaches Python (same results, same errors), and a pooled object is handed out
again only once nothing but the pool refers to it. Whole programs give the same results
with the native calls on and off, and as iree.runtime."""
from __future__ import annotations

import ctypes
import gc
import platform

import numpy as np
import pytest

import corpus
from program_runs import random_inputs
from splatjit.errors import TrapError
from splatjit.frontend.cconv import parse_cconv
from splatjit.hal import local
from splatjit.hal.buffers import INLINE_RANK, Buffer, BufferView, HalError, PooledView
from splatjit.hal.inline import _view_create
from splatjit.hal.local import Fence, LocalHal
from splatjit.hal.pools import CLASS_CAPACITY, NativeAlloca, NativeViewCreate, ObjectPool
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace, lookup
from test_hal_native import packed_args

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")
ALLOCA_USAGE, ALLOCA_TYPES = 3075, 48


class Harness:
    """A native entry (`call.native_entry`) over a counting Python fallback (`call.fn`)."""

    def __init__(self, call, cconv: str):
        self.call, self.calls, self.errors, self.keep = call, 0, [], []
        self.sig = parse_cconv(cconv)
        self.space = ObjectSpace()
        python = call.fn

        def counted(*args):
            self.calls += 1
            return python(*args)

        call.fn = counted
        fallback = python_trampoline(self.sig, call, self.errors, self.keep, self.space)
        address, memory = call.native_entry(fallback, self.sig)
        self.keep.append(memory)
        self.fn = NATIVE_FN(address)

    def __call__(self, *args, native: bool):
        """args as the Python function takes them (objects or None for refs, a span as a
        list of tuples); (status, the result object or None). Asserts whether Python ran."""
        raw = packed_args(self.sig.args, args)
        results = (ctypes.c_uint64 * 2)(0, 0)
        before = self.calls
        status = self.fn(None, ctypes.addressof(raw), ctypes.addressof(results))
        assert self.calls == before + (0 if native else 1), "native" if native else "fallback"
        return status, (lookup(results[0]) if results[0] else None)


class Alloca:
    """A LocalHal's native queue.alloca, its pool bound to a fake user module."""

    def __init__(self):
        self.hal = LocalHal()
        self.pool = self.hal.buffer_pool
        self.h = Harness(NativeAlloca(self.hal.queue_alloca, self.pool), NativeAlloca.CCONV)

        class User:
            _depth_cell = ctypes.c_int64(0)
        self.user = User
        self.pool.bind(User)

    def __call__(self, size, wait=None, signal=None, native=True, device=None, pool=0,
                 types=ALLOCA_TYPES, usage=ALLOCA_USAGE):
        device = self.hal.device if device is None else device
        return self.h(device, -1, wait, signal, pool, types, usage, size, 0, native=native)


def test_alloca_pops_pooled_buffers_after_a_miss():
    a = Alloca()
    status, first = a(64, native=False)        # no class yet: Python allocates, notes it
    assert status == 0 and isinstance(first, Buffer) and first.length == 64
    assert first.memory_type == ALLOCA_TYPES and first.usage == ALLOCA_USAGE
    a.pool.recycle(set())
    signal = Fence()
    status, buf = a(64, signal=signal)
    assert status == 0 and isinstance(buf, Buffer) and buf is not first
    assert buf.length == 64 and buf.address % 64 == 0 and buf.access == abi.ACCESS_MUTABLE
    assert (buf.memory_type, buf.usage) == (ALLOCA_TYPES, ALLOCA_USAGE)
    assert not buf.array.any() and signal.signaled and signal.failure is None
    assert a(64, native=False)[0] == 0         # the class is empty now: Python again
    # another size, memory type or usage is another class
    for kw in ({"size": 65}, {"size": 64, "types": 49}, {"size": 64, "usage": 1}):
        assert a(native=False, **kw)[0] == 0


def test_alloca_unusual_calls_reach_python_and_fail_as_before():
    a = Alloca()
    a(64, native=False)
    a.pool.recycle(set())
    pending, failed, signal = Fence(), Fence(signaled=True), Fence()
    failed.failure = "status 3"
    for kw in ({"wait": pending}, {"wait": failed}, {"signal": Buffer.allocate(4)},
               {"wait": Buffer.allocate(4)}, {"device": Buffer.allocate(4)}, {"pool": 1},
               {"size": -1}):
        status, _ = a(**{"size": 64, "signal": signal, **kw}, native=False)
        assert status == abi.TRAP_IMPORT, kw
        assert not signal.signaled                # nothing signalled on failure
        assert a.h.errors.pop()
    assert a.pool.words[2] == 1                   # the pooled buffer is still there
    ready = Fence(signaled=True)
    assert a(64, wait=ready, signal=signal)[0] == 0 and signal.signaled
    assert ready.signaled


def _stack(a: Alloca) -> list[int]:
    """The ref addresses of the first class's pooled buffers, as native code sees them."""
    words = a.pool.words
    return [words[3 + i] for i in range(words[2])]


def _popped(a: Alloca):
    """A buffer popped natively (after a miss made its class) and its address."""
    a(64, native=False)
    a.pool.recycle(set())
    status, buf = a(64)
    assert status == 0
    return buf


def test_recycled_buffers_come_back_zeroed_only_when_unreferenced():
    a = Alloca()
    buf = _popped(a)
    address = buf.ref_address
    buf.array[:] = 7
    result = buf.array[8:16].view(np.float32)     # e.g. a result array: a view of its bytes
    del buf
    for _ in range(3):
        a.pool.recycle(set())
        assert address not in _stack(a)          # held by the result: not reused
        assert a(64)[0] == 0                      # a fresh buffer instead
    assert (result.view(np.uint8) == 7).all()
    del result
    a.pool.recycle(set())                          # now free: back, zeroed
    status, again = a(64)
    if again.ref_address != address:              # the class may hold a fresh one on top
        status, again = a(64)
    assert again.ref_address == address and not again.array.any()


@pytest.mark.parametrize("holder", ["view", "subspan", "storage", "global", "object",
                                    "running"])
def test_buffers_something_refers_to_are_not_reused(holder):
    a = Alloca()
    buf = _popped(a)
    address = buf.ref_address
    live = set()
    keep = None
    if holder == "view":
        keep = BufferView(buf, (16,), 0x20000020)
    elif holder == "subspan":
        keep = buf.subspan(0, 8)
    elif holder == "storage":
        buf.storage()
    elif holder == "global":
        live = {address}
    elif holder == "object":
        keep = buf
    elif holder == "running":
        a.user._depth_cell.value = 1
    del buf
    for _ in range(3):
        a.pool.recycle(live)
        assert address not in _stack(a)
    a.user._depth_cell.value = 0
    del keep
    if holder in ("view", "subspan", "global", "object", "running"):
        a.pool.recycle(set())
        assert address in _stack(a)


def test_pool_sizes_follow_demand_up_to_capacity():
    a = Alloca()
    for _ in range(CLASS_CAPACITY + 3):
        a(64, native=False)
    a.pool.recycle(set())
    assert a.pool.words[2] == CLASS_CAPACITY
    held = [a(64)[1] for _ in range(CLASS_CAPACITY)]
    assert len({b.ref_address for b in held}) == CLASS_CAPACITY
    assert a(64, native=False)[0] == 0


class ViewCreate:
    """A native buffer_view.create over a pool of two views, bound to a fake user module."""

    def __init__(self):
        self.pool = ObjectPool(PooledView, PooledView.reset, initial=2, bind=PooledView.bind)
        self.h = Harness(NativeViewCreate(_view_create, self.pool), NativeViewCreate.CCONV)

        class User:
            _depth_cell = ctypes.c_int64(0)
        self.pool.bind(User)

    def __call__(self, buffer, offset, length, et, encoding, dims, native=True):
        return self.h(buffer, offset, length, et, encoding, [(d,) for d in dims],
                      native=native)

    def after_call(self, live=frozenset()):
        """What JitModule._retain_globals does with the pool after the outermost call, with
        the recycle made at once (as when the stack would not last another call)."""
        self.pool.before_collect(frozenset(live))
        gc.collect()
        self.pool.recycle(set(live), force=True)


def _same_view(got, want):
    """The same fields (a subspan: another Buffer over the same bytes) and descriptor."""
    assert isinstance(got, BufferView)
    assert (got.shape, got.element_type, got.encoding) == (
        want.shape, want.element_type, want.encoding)
    gb, wb = got.buffer, want.buffer
    assert gb is wb or (gb.address, gb.length, gb.access) == (wb.address, wb.length, wb.access)
    assert got.describe() == want.describe()
    rank = len(want.shape)  # the descriptor native entries read: dims inline up to INLINE_RANK
    n = 20 + 4 + 8 * (rank if rank <= INLINE_RANK else 0)  # (past it: a previous owner's)
    skip = 0 if gb is wb else 8       # (a subspan's ref differs)
    assert bytes(got._desc[skip:n]) == bytes(want._desc[skip:n])


def test_view_create_fills_pooled_views_as_python_makes_them():
    v = ViewCreate()
    buf = Buffer.allocate(24)
    buf.array[:] = np.arange(24)
    for args in ((0x21000020, 1, (2, 3)), (-1, -2, (6,)), (0x10000008, 0, ()),
                 (0x10000008, 1, (1,) * 8), (0x10000008, 1, (-5, 1 << 40))):
        et, encoding, dims = args
        status, got = v(buf, 0, 24, et, encoding, dims, native=True)
        assert status == 0 and isinstance(got, PooledView)
        want = _view_create(buf, 0, 24, et, encoding, [(d,) for d in dims])
        assert got.buffer is buf is want.buffer
        _same_view(got, want)
        del got
        v.after_call()
    status, got = v(buf, 0, 24, 0x21000020, 1, (2, 3), native=True)
    np.testing.assert_array_equal(got.to_array(), buf.array.view(np.float32).reshape(2, 3))


def test_view_create_of_a_subspan():
    """A range that is not the whole buffer: a pooled view whose buffer is the subspan
    Python would make, made when first asked for (and kept, also by the descriptor);
    bound views keep their parent buffer until then."""
    v = ViewCreate()
    buf = Buffer.allocate(24)
    buf.array[:] = np.arange(24)
    for offset, length, dims in ((4, 20, (5,)), (0, 16, (2, 2)), (8, 0, (0,)), (24, 0, (0, 3)),
                                 (23, 1, (1,))):
        status, got = v(buf, offset, length, 0x10000008, 1, dims, native=True)
        assert status == 0 and isinstance(got, PooledView)
        assert ctypes.c_uint64.from_address(got.ref_address).value == 0
        want = _view_create(buf, offset, length, 0x10000008, 1, [(d,) for d in dims])
        np.testing.assert_array_equal(got.to_array(), want.to_array())   # (no Buffer made)
        assert ctypes.c_uint64.from_address(got.ref_address).value == 0
        _same_view(got, want)
        assert got.buffer is got.buffer and got.buffer is not buf
        assert ctypes.c_uint64.from_address(got.ref_address).value == got.buffer.ref_address
        np.testing.assert_array_equal(got.to_array(), want.to_array())
        del got
        v.after_call()
    status, short = v(buf, 4, 8, 0x10000008, 1, (12,), native=True)   # a shape too big
    with pytest.raises(HalError, match="needs 12 bytes, its buffer has 8"):
        short.to_array()
    del short
    v.after_call()
    status, view = v(buf, 4, 8, 0x10000008, 1, (8,), native=True)
    v.after_call({view.ref_address})                       # escaped: bound to its parent
    del buf
    gc.collect()
    assert view.to_array().tolist() == list(range(4, 12))


def test_view_create_unusual_calls_reach_python():
    v = ViewCreate()
    buf = Buffer.allocate(24)
    for args in ((buf, 0, 24, (1,) * 9), (buf, 0, -1), (buf, 4, 21), (buf, 25, 0),
                 (buf, -4, 8), (buf, 8, -4), (buf, (1 << 63) - 2, 4)):
        buffer, offset, length, *dims = args
        dims = dims[0] if dims else (2,)
        status, got = v(buffer, offset, length, 0x21000020, 1, dims, native=False)
        want = _view_create(buffer, offset, length, 0x21000020, 1, [(d,) for d in dims]) \
            if 0 <= length and 0 <= offset and offset + length <= 24 else None
        if want is None:
            assert status == abi.TRAP_IMPORT and v.h.errors.pop()
        else:
            assert status == 0 and not isinstance(got, PooledView)
            _same_view(got, want)
    for bad in (None, BufferView(buf, (6,), 0x21000020), Fence()):
        status, _ = v(bad, 0, 24, 0x21000020, 1, (6,), native=False)
        assert status == abi.TRAP_IMPORT and v.h.errors.pop()
    assert v(buf, 0, 24, 0x21000020, 1, (6,), native=True)[0] == 0
    assert v(buf, 0, 24, 0x21000020, 1, (6,), native=True)[0] == 0
    assert v(buf, 0, 24, 0x21000020, 1, (6,), native=False)[0] == 0   # the pool is empty


def test_escaped_views_keep_their_buffer_and_come_back_when_dropped():
    v = ViewCreate()
    buf = Buffer.allocate(16)
    buf.array[:] = 3
    _, kept = v(buf, 0, 16, 0x21000020, 1, (4,))
    _, dropped = v(buf, 0, 16, 0x21000020, 1, (2, 2))
    kept_address, dropped_address = kept.ref_address, dropped.ref_address
    del dropped
    v.after_call()                        # bound to its buffer before anything collects
    del buf                               # (what held it during the call lets go)
    gc.collect()
    assert kept.buffer.length == 16 and (kept.to_array().view(np.uint8) == 3).all()
    stack = [o.ref_address for o in v.pool.stack]
    assert dropped_address in stack and kept_address not in stack
    again = lookup(dropped_address)
    assert again.buffer is None and again.shape == ()          # reset
    for _ in range(2):
        v.after_call()
        assert kept_address not in [o.ref_address for o in v.pool.stack]
    assert kept.shape == (4,) and kept.buffer.length == 16
    del kept
    v.after_call()
    assert kept_address in [o.ref_address for o in v.pool.stack]


def test_views_a_global_reaches_are_not_reused():
    v = ViewCreate()
    buf = Buffer.allocate(16)
    _, view = v(buf, 0, 16, 0x21000020, 1, (4,))
    address = view.ref_address
    del view
    v.after_call({address})
    del buf
    gc.collect()
    assert address not in [o.ref_address for o in v.pool.stack]
    assert lookup(address).buffer.length == 16


def _program(name: str, variant: str, **modes):
    from splatjit.module import JitModule
    item = next(i for i in corpus.program_items() if i.name == name and i.variant == variant)
    data = corpus.compile_item(item)
    saved = dict(local.NATIVE_MODES)
    local.NATIVE_MODES.update(modes)
    try:
        return JitModule(data), data, item
    finally:
        local.NATIVE_MODES.update(saved)


def _iree(data, inputs):
    rt = pytest.importorskip("iree.runtime")
    out = rt.load_vm_flatbuffer(data, driver="local-sync").main(*inputs)
    return [np.asarray(o.to_host()) for o in (out if isinstance(out, tuple) else (out,))]


def _as_list(out):
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("name, variant", [("matmul", "scalar"), ("matmul", "datatiled"),
                                           ("elementwise_f32", "ukernel"),
                                           ("dynamic_shape", "scalar"),
                                           ("reduction", "datatiled")])
def test_programs_native_and_python_agree_with_iree_and_results_survive(name, variant):
    """Results held across later calls keep their values and never share memory with
    later results; the native calls and the Python ones give iree.runtime's bytes."""
    native, data, item = _program(name, variant)
    python, _, _ = _program(name, variant, **{k: False for k in local.NATIVE_MODES})
    runs = [random_inputs(item, seed) for seed in range(4)]
    wants = [_iree(data, inputs) for inputs in runs]
    held = []
    for _ in range(3):
        for inputs, want in zip(runs, wants):
            got, ref = _as_list(native.main(*inputs)), _as_list(python.main(*inputs))
            for g, r, w in zip(got, ref, want):
                assert g.tobytes() == r.tobytes() == w.tobytes()
            held.append((got, want))
            gc.collect()
    for got, want in held:
        for g, w in zip(got, want):
            assert g.tobytes() == w.tobytes()
    starts = {g.__array_interface__["data"][0] for got, _ in held for g in got}
    assert len(starts) == sum(len(got) for got, _ in held)


def test_failed_calls_leave_the_pools_consistent():
    m, data, item = _program("matmul", "scalar")
    inputs = random_inputs(item, 1)
    want = _iree(data, inputs)
    for _ in range(3):
        assert m.main(*inputs).tobytes() == want[0].tobytes()
        with pytest.raises(TrapError):
            m.main(inputs[0][:2], inputs[1])       # the shape assert fails: a trap
        with pytest.raises(TypeError):
            m.main(inputs[0])
        kept = m.main(*inputs)
        assert m.main(*inputs).tobytes() == kept.tobytes() == want[0].tobytes()
