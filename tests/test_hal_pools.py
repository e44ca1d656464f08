"""hal/pools.py and hal/program_call.py: the native fence.create hands out pooled fences
without Python, pooled objects are reused only when nothing refers to them any more, and
a warm program's main reaches no Python hal function."""
from __future__ import annotations

import ctypes
import platform

import numpy as np
import pytest

import corpus
from program_runs import random_inputs
from splatjit.frontend.cconv import parse_cconv
from splatjit.hal import ProgramArgs
from splatjit.hal.local import Fence, LocalHal
from splatjit.hal.pools import CAPACITY, LAZY_CALLS, ObjectPool, PooledCall
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace, lookup

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")


class FenceCreate:
    """The native fence.create of a fresh pool over a counting Python fallback."""

    def __init__(self):
        self.pool = ObjectPool(Fence, Fence.reset, initial=2)
        self.call = PooledCall("fence.create", "0rI_r", self.pool)
        self.python_calls, self.errors, self.keep = 0, [], []
        sig = parse_cconv("0rI_r")

        def counted(*args):
            self.python_calls += 1
            return self.call(*args)

        fallback = python_trampoline(sig, counted, self.errors, self.keep, ObjectSpace())
        address, memory = self.call.native_entry(fallback, sig)
        self.keep.append(memory)
        self.fn = NATIVE_FN(address)

    def __call__(self) -> Fence:
        args = (ctypes.c_uint64 * 2)(0, 0)
        results = (ctypes.c_uint64 * 1)(0)
        assert self.fn(None, ctypes.addressof(args), ctypes.addressof(results)) == 0
        return lookup(results[0])


def test_native_fence_create_pops_fresh_fences_then_falls_back():
    f = FenceCreate()
    first, second = f(), f()
    assert f.python_calls == 0 and first is not second
    assert isinstance(first, Fence) and not first.signaled and first.failure is None
    third = f()  # the stack is empty: Python makes an ordinary fence
    assert f.python_calls == 1 and isinstance(third, Fence) and not third.signaled
    assert third not in f.pool.stack


def test_recycle_reuses_only_fences_nothing_refers_to():
    f = FenceCreate()
    kept_address = f().ref_address      # popped, dropped by the caller
    held = f()                         # popped, still referred to from Python
    held.signaled = True
    f.pool.recycle(set())
    assert held not in f.pool.stack    # escaped: never handed out again
    assert held.signaled               # and left as it was
    assert len(f.pool.stack) == LAZY_CALLS * 2   # topped up to LAZY_CALLS calls of two
    reused = [f() for _ in range(LAZY_CALLS * 2)]
    assert f.python_calls == 0
    assert kept_address in [x.ref_address for x in reused]
    assert all(not x.signaled and x.failure is None for x in reused)


def test_recycle_of_free_fences_resets_them_where_they_are():
    """Every popped fence free again: reset in place, handed out again in the same order."""
    f = FenceCreate()
    first = [f(), f()]
    order = [x.ref_address for x in first]
    for x in first:
        x.signaled = True
    del first, x
    f.pool.recycle(set())
    assert f.pool.native[0] == LAZY_CALLS * 2 and list(f.pool.native[1:3]) == order[::-1]
    again = [f() for _ in range(LAZY_CALLS * 2)]
    assert [x.ref_address for x in again[-2:]] == order and f.python_calls == 0
    assert all(not x.signaled and x.failure is None for x in again)
    held = again.pop()                  # one escapes: none is reset where it is
    del again
    f.pool.recycle({held.ref_address})
    assert held not in f.pool.stack and held.ref_address not in list(f.pool.native[1:3])


def test_recycle_keeps_fences_a_ref_global_reaches_and_resets_used_ones():
    f = FenceCreate()
    live, used = f(), f()
    live_address, used_address = live.ref_address, used.ref_address
    held = {live_address: live}  # as the module's ObjectSpace adopts what globals reach
    used.failure = "status 3"
    del live, used
    f.pool.recycle(set(held))
    assert all(x is not held[live_address] for x in f.pool.stack)
    again = [x for x in f.pool.stack if x.ref_address == used_address]
    assert again and again[0].failure is None and not again[0].signaled
    assert ctypes.c_uint32.from_address(used_address + 16).value == 0  # not ready


def test_recycle_waits_for_running_calls_and_grows_to_demand():
    f = FenceCreate()

    class User:
        _depth_cell = ctypes.c_int64(1)
    f.pool.bind(User)
    made = [f() for _ in range(5)]     # 2 pooled, 3 fallbacks
    del made
    f.pool.recycle(set())
    assert f.pool.native[0] == 0       # a user call is running: nothing recycled yet
    User._depth_cell.value = 0
    f.pool.recycle(set())
    assert f.pool.native[0] == len(f.pool.stack) == LAZY_CALLS * 5 <= CAPACITY


def test_recycling_waits_while_the_stack_lasts_another_call_and_binds_escapes_at_once():
    """Calls take two fences each. `before_collect` looks at each call's fences at the end
    of that call (one something refers to is bound then; one only the pool holds never is),
    while `recycle` does nothing as long as two or more are left: the popped fences wait,
    unreset. When fewer than two are left, one recycle resets every free fence."""
    bound = []
    f = FenceCreate()
    f.pool.bind_popped = bound.append

    def call():
        taken = [f(), f()]
        return taken

    def end_of_call():
        f.pool.before_collect(frozenset())
        f.pool.recycle(set())

    call()                                   # the first call: the stack of 2 runs dry
    end_of_call()
    assert f.pool.native[0] == len(f.pool.stack) == LAZY_CALLS * 2 and bound == []
    a1, a2 = call()
    a1.signaled = a2.signaled = True
    a2_address = a2.ref_address
    del a2
    end_of_call()
    assert bound == [a1]                     # escaped: bound at the end of its own call
    assert f.pool.native[0] == LAZY_CALLS * 2 - 2        # nothing recycled yet
    waiting = [x for x in f.pool.stack if x.ref_address == a2_address]
    assert waiting and waiting[0].signaled   # a2 waits, unreset
    del waiting
    for _ in range(LAZY_CALLS - 2):
        call()
        end_of_call()
    assert f.pool.native[0] == 2 and bound == [a1]
    assert a1.signaled and f.pool.bound == [a1]       # still held: still bound, as it was
    call()                                   # none left for another call: recycled now
    end_of_call()
    assert f.pool.native[0] == len(f.pool.stack) == LAZY_CALLS * 2 and f.python_calls == 0
    assert a1 not in f.pool.stack and a1.signaled      # escaped: left to its holder
    (a2,) = [x for x in f.pool.stack if x.ref_address == a2_address]
    assert not a2.signaled and bound == [a1]          # free: reset, never bound


def test_an_escaped_object_let_go_is_reset_at_the_end_of_the_next_call():
    """Recycling waits (the stack lasts), but an object bound because it escaped is reset
    as soon as a later call ends with its holder gone: what it refers to is let go then."""
    bound = []                               # addresses: the record must not hold them
    f = FenceCreate()
    f.pool.bind_popped = lambda obj: bound.append(obj.ref_address)
    f(), f()
    f.pool.before_collect(frozenset())
    f.pool.recycle(set())                    # sized to LAZY_CALLS calls of two
    held, other = f(), f()
    held.signaled = other.signaled = True
    held_address = held.ref_address
    del other
    f.pool.before_collect(frozenset())
    assert bound == [held_address] and f.pool.bound == [held]
    f.pool.recycle(set())                    # lazy: nothing recycled
    del held
    f.pool.before_collect(frozenset())       # the next call popped no fence
    (again,) = [x for x in f.pool.stack if x.ref_address == held_address]
    assert not again.signaled and f.pool.bound == []  # reset at this call's end
    assert f.pool.native[0] == LAZY_CALLS * 2 - 2      # still not recycled


def test_wrong_signature_gets_no_native_entry():
    call = PooledCall("fence.create", "0rI_r", ObjectPool(Fence, Fence.reset))
    assert call.native_entry(0, parse_cconv("0ri_r")) is None


def _program(name: str, variant: str):
    from splatjit.module import JitModule
    item = next(i for i in corpus.program_items() if i.name == name and i.variant == variant)
    data = corpus.compile_item(item)
    return JitModule(data), random_inputs(item, 3)


def test_main_reaches_python_only_for_calls_without_native_entries(monkeypatch):
    """Counts the Python hal functions a warm matmul main runs: a native entry that falls
    back on its ordinary case (a descriptor written wrongly, say) shows up here."""
    counts: dict[str, int] = {}
    provider = LocalHal.provider

    def counting(self):
        out = provider(self)
        for name, fn in list(out.items()):
            if not hasattr(fn, "native_entry"):  # (NativeAlloca: its `fn` is the fallback)
                def wrapped(*args, _name=name, _fn=fn):
                    counts[_name] = counts.get(_name, 0) + 1
                    return _fn(*args)
                out[name] = wrapped
            elif hasattr(fn, "fn"):  # NativeHalCall: count its Python fallback
                original = fn.fn

                def fallback(*args, _name=name, _fn=original):
                    counts[_name] = counts.get(_name, 0) + 1
                    return _fn(*args)
                fn.fn = fallback
        return out
    monkeypatch.setattr(LocalHal, "provider", counting)
    m, inputs = _program("matmul", "scalar")
    m.main(*inputs)
    counts.clear()
    for _ in range(3):
        m.main(*inputs)
    assert counts == {}


def test_program_args_fast_path_matches_the_general_path():
    m, inputs = _program("matmul", "scalar")
    want = m.main(*inputs)
    export = m["main"]
    assert export._program_args.pack(inputs) is not None
    unusual = [np.asfortranarray(inputs[0]), inputs[1]]   # not C-contiguous: general path
    assert export._program_args.pack(unusual) is None
    np.testing.assert_array_equal(m.main(*unusual), want)
    for bad in ([inputs[0]], [inputs[0], inputs[1], inputs[1]], [inputs[0].astype(np.complex64),
                                                                  inputs[1]], [1, inputs[1]]):
        assert export._program_args.pack(bad) is None
        with pytest.raises(TypeError):
            m.main(*bad)
    for _ in range(3):  # pooled fences and fresh argument views change nothing
        np.testing.assert_array_equal(m.main(*inputs), want)


def test_program_args_scalars_take_the_general_path_when_unusual():
    from splatjit.frontend.cconv import Signature
    sig = Signature(text="0ifr_v", args=("i32", "f32", "ref"), results=())
    pa = ProgramArgs(sig)
    assert pa.pack([-1, 1.5, None]) is not None
    assert pa.pack([(1 << 32) - 1, 1.5, None])[0] == pa.pack([-1, 1.5, None])[0]
    for args in ([1 << 32, 1.5, None], [True, 1.5, None], [np.int32(1), 1.5, None],
                 [1, 1, None], [1, 1e300, None], [1, 1.5, "x"]):
        assert pa.pack(args) is None, args


def test_buffer_pool_keeps_no_spares_of_huge_buffers():
    """A missed key becomes a pooled class (spares made at recycle) only up to
    POOLED_BYTES_MAX bytes: a fuzzed program's 4 GiB alloca is made per call instead of
    being held as a spare between calls."""
    from splatjit.hal.buffers import Buffer
    from splatjit.hal.pools import POOLED_BYTES_MAX, BufferPool
    made = []

    def make(size, types, usage):
        made.append(size)
        return Buffer.allocate(min(size, 64), memory_type=types, usage=usage)

    pool = BufferPool(make)
    made.clear()
    pool.note_miss(POOLED_BYTES_MAX + 1, 0, 0)
    pool.recycle(set())
    assert made == [] and pool.keys == []
    pool.note_miss(POOLED_BYTES_MAX, 0, 0)
    pool.recycle(set())
    assert made == [POOLED_BYTES_MAX] and pool.keys == [(POOLED_BYTES_MAX, 0, 0)]


def test_failed_buffer_allocation_is_a_hal_error(monkeypatch):
    from splatjit.hal import buffers
    from splatjit.hal.local import HalError

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(buffers.np, "zeros", no_memory)
    with pytest.raises(HalError, match="out of memory: a buffer of 4294967296 bytes"):
        buffers.Buffer.allocate(1 << 32)


def test_a_pool_several_imports_share_runs_its_steps_once():
    """fence.create and fence.join pop from one fence pool: a program using both runs
    that pool's before_collect and recycle once after each call, every pool's once."""
    from splatjit.module import JitModule
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "datatiled")
    m = JitModule(corpus.compile_item(item))
    names = {type(h).__name__: h for h in m._imports.hooks}
    assert names["PooledCall"].pool is names["NativePooledCall"].pool  # fence.create / join
    pools = []
    for h in m._imports.hooks:
        if not any(h.pool is p for p in pools):
            pools.append(h.pool)
    assert [step.__self__ for step in m._after_steps] == pools
    assert [step.__self__ for step in m._collect_steps] == [p for p in pools
                                                           if hasattr(p, "before_collect")]
    assert all(step.__func__ is type(step.__self__).recycle for step in m._after_steps)
