"""hal/execute.py: the native device.queue.execute.indirect replays a finalized command
buffer of packed dispatches without Python, gives exactly what the Python implementation
gives (buffers, fences, errors, traps), falls back before anything ran on any binding it
cannot resolve, and resumes in Python where a dispatch trapped, left something to release
or grew its bindings list."""
from __future__ import annotations

import ctypes
import platform

import numpy as np
import pytest

import corpus
from splatjit import TrapError
from splatjit.frontend.cconv import parse_cconv
from splatjit.hal import execute
from splatjit.hal.buffers import Buffer, HalError
from splatjit.hal.local import CommandBuffer, Executable, Fence, LocalHal
from splatjit.module import JitModule
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.objects import ObjectSpace

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")

_ARGS = "%local : !vm.buffer, %consts : !vm.buffer, %bindings : !vm.list<!vm.buffer>, " \
        "%x : i32, %y : i32, %z : i32, %sx : i32, %sy : i32, %sz : i32, " \
        "%cx : i32, %cy : i32, %cz : i32"
KERNELS = f"""
vm.module @kernels {{
  // binding 0 (i32 elements)[x] = constants[0] + x
  vm.export @write
  vm.func @write({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %i0 = vm.const.i64.zero
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %v = vm.add.i32 %k, %x : i32
    %x64 = vm.ext.i32.i64.s %x : i32 -> i64
    vm.buffer.store.i32 %v, %out[%x64] : i32 -> !vm.buffer
    vm.return
  }}

  // binding 1[x] = binding 0[x] + constants[0]
  vm.export @add
  vm.func @add({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %i0 = vm.const.i64.zero
    %in = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %out = vm.list.get.ref %bindings, %c1 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %x64 = vm.ext.i32.i64.s %x : i32 -> i64
    %a = vm.buffer.load.i32 %in[%x64] : !vm.buffer -> i32
    %v = vm.add.i32 %a, %k : i32
    vm.buffer.store.i32 %v, %out[%x64] : i32 -> !vm.buffer
    vm.return
  }}

  // as @write, with a scratch list it allocates (left for the host to release)
  vm.export @write_via_list
  vm.func @write_via_list({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %c4 = vm.const.i32 4
    %i0 = vm.const.i64.zero
    %scratch = vm.list.alloc %c4 : (i32) -> !vm.list<i32>
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %v = vm.add.i32 %k, %x : i32
    %x64 = vm.ext.i32.i64.s %x : i32 -> i64
    vm.buffer.store.i32 %v, %out[%x64] : i32 -> !vm.buffer
    vm.return
  }}

  // as @write, through a scratch buffer it allocates (from the native arena on x86-64)
  vm.export @write_via_scratch
  vm.func @write_via_scratch({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %i0 = vm.const.i64.zero
    %c16 = vm.const.i32 16
    %i16 = vm.const.i64 16
    %scratch = vm.buffer.alloc %i16, %c16 : !vm.buffer
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %v = vm.add.i32 %k, %x : i32
    vm.buffer.store.i32 %v, %scratch[%i0] : i32 -> !vm.buffer
    %w = vm.buffer.load.i32 %scratch[%i0] : !vm.buffer -> i32
    %x64 = vm.ext.i32.i64.s %x : i32 -> i64
    vm.buffer.store.i32 %w, %out[%x64] : i32 -> !vm.buffer
    vm.return
  }}

  // as @write, then grows its bindings list (its slot array is replaced) when binding 0
  // is 16 bytes or longer
  vm.export @write_and_grow
  vm.func @write_and_grow({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %c64 = vm.const.i32 64
    %i0 = vm.const.i64.zero
    %i16 = vm.const.i64 16
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %v = vm.add.i32 %k, %x : i32
    %x64 = vm.ext.i32.i64.s %x : i32 -> i64
    vm.buffer.store.i32 %v, %out[%x64] : i32 -> !vm.buffer
    %len = vm.buffer.length %out : !vm.buffer -> i64
    %short = vm.cmp.lt.i64.s %len, %i16 : i64
    vm.cond_br %short, ^done, ^grow
  ^grow:
    vm.list.reserve %bindings, %c64 : (!vm.list<!vm.buffer>, i32)
    vm.br ^done
  ^done:
    vm.return
  }}

  // writes the read-only constants: traps
  vm.export @trap
  vm.func @trap({_ARGS}) {{
    %c1 = vm.const.i32 1
    %i0 = vm.const.i64.zero
    vm.buffer.store.i32 %c1, %consts[%i0] : i32 -> !vm.buffer
    vm.return
  }}
}}
"""
NAMES = ["write", "add", "write_via_scratch", "write_and_grow", "trap", "write_via_list"]


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    return corpus.compile_vm_text(tmp_path_factory.mktemp("kernels"), "hal_execute_kernels",
                                  KERNELS)


def _ref(obj) -> int:
    return 0 if obj is None else obj.ref_address


class Queue:
    """A LocalHal's execute.indirect: native (its entry over a counting Python fallback)
    or Python only (counted too), with the kernels as one executable."""

    def __init__(self, kernels: bytes, native: bool):
        self.hal = LocalHal()
        self.hal.native_modes["execute"] = native
        self.exe = Executable(JitModule(kernels), NAMES)
        self.python_calls, self.errors, self.keep = 0, [], []
        call = self.hal.provider()["device.queue.execute.indirect"]
        assert isinstance(call, execute.NativeExecute) == native

        def counted(*args):  # every entry into Python
            self.python_calls += 1
            return call(*args)
        sig = parse_cconv(execute.CCONV)
        fallback = python_trampoline(sig, counted, self.errors, self.keep, ObjectSpace())
        if native:
            address, memory = call.native_entry(fallback, sig)
            self.keep.append(memory)
            fallback = address
        self.fn = NATIVE_FN(fallback)

    def command_buffer(self, *dispatches, finalize=True) -> CommandBuffer:
        """dispatches: (kernel name, grid x, constant, [(slot, buffer, offset, length)]), or
        ("fill", (slot, buffer, offset, length), pattern, width)."""
        cb = CommandBuffer(8)
        for d in dispatches:
            if d[0] == "fill":
                cb.record(*d)
                continue
            name, x, constant, bindings = d
            self.hal.cb_dispatch(cb, self.exe, NAMES.index(name), x, 1, 1, 0, [(constant,)],
                                 [(0, *b) for b in bindings])
        cb.finalized = finalize
        return cb

    def __call__(self, cb, table, wait=None, signal=None, device=None, count=None):
        """(status, Python ran?): the error, if any, is in `errors`."""
        device = self.hal.device if device is None else device
        flat = [_ref(device), -1, _ref(wait), _ref(signal), _ref(cb), 0,
                len(table) if count is None else count]
        for buffer, offset, length in table:
            flat += [_ref(buffer), offset, length]
        raw = (ctypes.c_int64 * len(flat))(*flat)  # (the i32 count: its word's low half)
        before = self.python_calls
        self.errors.clear()
        status = self.fn(None, ctypes.addressof(raw), None)
        return status, self.python_calls != before


def _buffers(n=3, size=64):
    return [Buffer.allocate(size) for _ in range(n)]


def _run_both(kernels, dispatches, table_of, repeat=3, warm=None, **kw):
    """Runs the same command buffer `repeat` times natively and in Python only, on fresh
    buffers per run (table_of(buffers) -> table), after one run with `warm(buffers)` if
    given (a good table: the native plan exists from then on); returns the per-run
    outcomes, asserting both agree: (status, error, buffer bytes, fence state), and the
    native queue (its Python call count from the first of those runs on)."""
    native, python = Queue(kernels, True), Queue(kernels, False)
    outcomes = []
    for q in (native, python):
        cb = q.command_buffer(*dispatches(q))
        if warm is not None:
            q(cb, warm(_buffers()))
            q.python_calls = 0
        runs = []
        for _ in range(repeat):
            buffers = _buffers()
            signal = Fence()
            status, _ = q(cb, table_of(buffers), signal=signal, **kw)
            error = repr(q.errors[-1]) if q.errors else None
            runs.append((status, error, [b.array.tobytes() for b in buffers], signal.signaled))
        outcomes.append(runs)
    assert outcomes[0] == outcomes[1]
    return outcomes[0], native


def _values(data: bytes, n=4) -> list[int]:
    return np.frombuffer(data, np.int32)[:n].tolist()


def test_ordinary_replays_run_natively_after_the_first(kernels):
    q = Queue(kernels, True)
    cb = q.command_buffer(("write", 4, 10, [(0, None, 0, 16)]),
                          ("add", 4, 5, [(0, None, 0, -1), (1, None, 16, 16)]))
    for k in range(4):
        a, b = _buffers(2)
        signal = Fence()
        status, python = q(cb, [(a, 0, 64), (b, 16, 48)], signal=signal)
        assert status == 0 and python == (k == 0) and signal.signaled
        assert _values(a.array) == [10, 11, 12, 13]
        assert _values(b.array[32:]) == [15, 16, 17, 18] and not b.array[:32].any()
    assert cb.plan and ctypes.c_uint64.from_address(cb.ref_address).value == cb.plan.address


def test_results_match_python_over_runs(kernels):
    runs, _ = _run_both(kernels, lambda q: [("write", 4, 7, [(2, None, 8, 16)]),
                                            ("add", 3, 1, [(2, None, 8, -1), (0, None, 0, 12)])],
                        lambda bs: [(bs[0], 4, 60), (bs[1], 0, 0), (bs[2], 0, 64)])
    assert all(r[0] == 0 for r in runs)
    assert _values(runs[-1][2][0], 4) == [0, 8, 9, 10]


@pytest.mark.parametrize("table, count", [
    (lambda bs: [(bs[0], 0, 64)], None),                       # slot 1 outside the table
    (lambda bs: [(bs[0], 0, 64), (None, 0, 0)], None),         # a null buffer
    (lambda bs: [(bs[0], 0, 64), (bs[1], 60, 4)], None),       # offset + length past the end
    (lambda bs: [(bs[0], 0, 64), (bs[1], 65, 0)], None),       # offset past the end, length -1
    (lambda bs: [(bs[0], 0, 64), (bs[1], -8, 0)], None),       # a negative offset
    (lambda bs: [(bs[0], 0, 64), (bs[1], (1 << 63) - 4, 0)], None),  # offset overflow
    (lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)], 1),          # the count says one entry
])
def test_bad_bindings_fall_back_before_anything_ran(kernels, table, count):
    """The first dispatch is fine, the second's binding is not: Python runs the first and
    fails on the second, exactly as without the native entry (which touched nothing)."""
    runs, native = _run_both(kernels, lambda q: [("write", 4, 3, [(0, None, 0, 16)]),
                                                 ("write", 2, 9, [(1, None, 0, 8)])],
                             table, count=count,
                             warm=lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)])
    for status, error, buffers, signalled in runs:
        assert status == abi.TRAP_IMPORT and "HalError" in error and not signalled
        assert _values(buffers[0]) == [3, 4, 5, 6]            # ran once, by Python
    assert native.python_calls == 3


@pytest.mark.parametrize("table", [
    lambda bs: [(bs[0], 0, 64), (bs[1], 65, 0)],              # offset past the end
    lambda bs: [(bs[0], 0, 64), (bs[1], -4, 0)],              # a negative offset
    lambda bs: [(bs[0], 0, 64), (bs[1], 1 << 62, 0)],         # far past the end
])
def test_bad_bindings_to_the_end_fall_back(kernels, table):
    """As above, the failing binding's length recorded as -1 (to the end)."""
    runs, native = _run_both(kernels, lambda q: [("write", 4, 3, [(0, None, 0, 16)]),
                                                 ("write", 2, 9, [(1, None, 0, -1)])],
                             table, warm=lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)])
    for status, error, buffers, signalled in runs:
        assert status == abi.TRAP_IMPORT and "HalError" in error and not signalled
        assert _values(buffers[0]) == [3, 4, 5, 6]
    assert native.python_calls == 3


def test_wrong_object_in_the_table_falls_back(kernels):
    runs, _ = _run_both(kernels, lambda q: [("write", 2, 1, [(0, None, 0, 8)])],
                        lambda bs: [(Fence(), 0, 0)], warm=lambda bs: [(bs[0], 0, 64)])
    assert all(r[0] == abi.TRAP_IMPORT and "expected a Buffer, got Fence" in r[1] for r in runs)


def test_directly_named_buffers(kernels):
    fixed = Buffer.allocate(32)
    runs, native = _run_both(kernels, lambda q: [("write", 4, 2, [(0, fixed, 16, 16)])],
                             lambda bs: [])
    assert all(r[0] == 0 and r[3] for r in runs) and native.python_calls == 1  # the first
    assert _values(fixed.array[16:].tobytes()) == [2, 3, 4, 5]


def test_trap_with_later_steps_pending(kernels):
    """A trap in the second of three dispatches: the first ran, the third did not, the
    signal fence stays unsignalled, the error is the kernel's trap (reported by Python)."""
    runs, native = _run_both(kernels, lambda q: [("write", 2, 4, [(0, None, 0, 8)]),
                                                 ("trap", 1, 0, []),
                                                 ("write", 2, 6, [(1, None, 0, 8)])],
                             lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)],
                             warm=lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)])
    for status, error, buffers, signalled in runs:
        assert status == abi.TRAP_IMPORT and "read-only" in error and not signalled
        assert _values(buffers[0], 2) == [4, 5] and not any(buffers[1])
    assert native.python_calls == 3
    frame = native.exe.runners[NAMES.index("trap")]._frames
    module = native.exe.module
    assert module._context.trap_code == 0 and module._depth == 0 and frame


def test_release_then_go_on_natively(kernels):
    """A dispatch that leaves a list to release: native code releases it through the
    release callback and runs the rest; only the first execution (the plan's) is Python."""
    runs, native = _run_both(kernels, lambda q: [("write_via_list", 3, 20, [(0, None, 0, 12)]),
                                                 ("write", 2, 6, [(1, None, 0, 8)])],
                             lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)])
    for status, error, buffers, signalled in runs:
        assert status == 0 and error is None and signalled
        assert _values(buffers[0], 3) == [20, 21, 22] and _values(buffers[1], 2) == [6, 7]
    module = native.exe.module
    assert not module._heap.by_address and module._depth == 0
    assert native.python_calls == 1


def test_a_failed_release_stops_and_python_releases(kernels, monkeypatch):
    """The release callback fails: native code stops after that step, Python releases
    (here: fails again, the error is the call's) or resumes the rest."""
    q = Queue(kernels, True)
    cb = q.command_buffer(("write_via_list", 3, 20, [(0, None, 0, 12)]),
                          ("write", 2, 6, [(1, None, 0, 8)]))
    q(cb, [(b, 0, 64) for b in _buffers(2)])
    from splatjit.hal.dispatch import Frame
    real, failures = Frame.release, []

    def release(frame):
        if len(failures) < 3:               # the callback, the fallback, the callback
            failures.append(frame)
            raise RuntimeError("release failed")
        real(frame)
    monkeypatch.setattr(Frame, "release", release)
    a, b = _buffers(2)
    status, python = q(cb, [(a, 0, 64), (b, 0, 64)])
    assert status == abi.TRAP_IMPORT and python and "release failed" in str(q.errors[-1])
    assert _values(a.array, 3) == [20, 21, 22] and not b.array.any()
    signal = Fence()
    status, python = q(cb, [(a, 0, 64), (b, 0, 64)], signal=signal)
    assert status == 0 and python and signal.signaled and len(failures) == 3
    assert _values(b.array, 2) == [6, 7] and not q.exe.module._heap.by_address


def test_scratch_buffers_stay_native(kernels):
    """Dispatches that allocate scratch buffers take them from the kernel module's native
    arena: no stop, no Python call after the first run, the arena rewound after each step
    (the cursor back at the chunk start, the same chunk reused)."""
    runs, native = _run_both(kernels, lambda q: [("write_via_scratch", 3, 20, [(0, None, 0, 12)]),
                                                 ("write_via_scratch", 2, 6, [(1, None, 0, 8)])],
                             lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)])
    for status, error, buffers, signalled in runs:
        assert status == 0 and error is None and signalled
        assert _values(buffers[0], 3) == [20, 21, 22] and _values(buffers[1], 2) == [6, 7]
    module = native.exe.module
    assert not module._heap.by_address and module._depth == 0
    assert native.python_calls == 1                  # the first run only
    arena = module._heap.arena
    assert len(arena.chunks) == 1 and not arena.used()
    python = Queue(kernels, False)                   # Frame.run rewinds the same way
    cb = python.command_buffer(("write_via_scratch", 3, 20, [(0, None, 0, 12)]))
    chunks = []
    for _ in range(3):
        python(cb, [(b, 0, 64) for b in _buffers()])
        arena = python.exe.module._heap.arena
        assert not arena.used() and not python.exe.module._heap.by_address
        chunks.append(arena.chunks)
    assert chunks[0] == chunks[1] == chunks[2] and len(chunks[0]) == 1


def test_a_grown_bindings_list_is_restored_by_python(kernels):
    """Two dispatches share a frame; the first grows the list: the second runs in Python
    (which restores the list and the Python side's view of it), and every later execution
    still gives the same bytes."""
    def dispatches(q):
        return [("write_and_grow", 2, 1, [(0, None, 0, 16)]),
                ("write_and_grow", 2, 1, [(1, None, 0, 8)])]
    runs, native = _run_both(kernels, dispatches, lambda bs: [(bs[0], 0, 64), (bs[1], 0, 64)],
                             repeat=4)
    for status, error, buffers, signalled in runs:
        assert status == 0 and signalled
        assert _values(buffers[0], 2) == _values(buffers[1], 2) == [1, 2]
    from splatjit.runtime.objects import array_address
    for frame in native.exe.runners[NAMES.index("write_and_grow")]._frames.values():
        assert frame.list.desc.storage == array_address(frame.list.storage)  # consistent


def test_fences(kernels):
    q = Queue(kernels, True)
    cb = q.command_buffer(("write", 1, 1, [(0, None, 0, 4)]))
    (a,) = _buffers(1)
    assert q(cb, [(a, 0, 64)]) == (0, True)                        # plan made, no fences
    assert q(cb, [(a, 0, 64)]) == (0, False)
    ready, pending, failed = Fence(signaled=True), Fence(), Fence(signaled=True)
    failed.failure = "status 3"
    assert q(cb, [(a, 0, 64)], wait=ready, signal=pending) == (0, False)
    assert pending.signaled and pending.failure is None
    status, python = q(cb, [(a, 0, 64)], wait=Fence())
    assert status == abi.TRAP_IMPORT and python and "deadlock" in str(q.errors[-1])
    status, python = q(cb, [(a, 0, 64)], wait=failed)
    assert status == abi.TRAP_IMPORT and python and "status 3" in str(q.errors[-1])
    status, python = q(cb, [(a, 0, 64)], signal=ready, wait=a)     # wait: not a fence
    assert status == abi.TRAP_IMPORT and python
    status, python = q(cb, [(a, 0, 64)], device=q.exe)           # not the device
    assert status == abi.TRAP_IMPORT and python


def test_other_commands_and_unfinalized_buffers_have_no_plan(kernels):
    q = Queue(kernels, True)
    mixed = q.command_buffer(("write", 2, 5, [(0, None, 0, 8)]),
                             ("fill", (0, None, 8, 8), 0x7F, 1))
    open_cb = q.command_buffer(("write", 2, 5, [(0, None, 0, 8)]), finalize=False)
    for cb in (mixed, open_cb):
        for _ in range(3):
            (a,) = _buffers(1)
            assert q(cb, [(a, 0, 64)]) == (0, True)
            assert _values(a.array, 2) == [5, 6]
        assert not cb.plan and ctypes.c_uint64.from_address(cb.ref_address).value == 0
    assert a.array[8:16].tolist() == [0] * 8                     # (the open one: no fill)


def test_a_reused_descriptor_slot_starts_without_a_plan(kernels):
    q = Queue(kernels, True)
    cb = q.command_buffer(("write", 1, 1, [(0, None, 0, 4)]))
    (a,) = _buffers(1)
    q(cb, [(a, 0, 64)])
    address = cb.ref_address
    del cb
    fresh = [CommandBuffer(1) for _ in range(300)]
    reused = [c for c in fresh if c.ref_address == address]
    assert reused and ctypes.c_uint64.from_address(address).value == 0


@pytest.mark.parametrize("name, variant", [("matmul", "ukernel"), ("softmax", "scalar"),
                                           ("elementwise_f32", "ukernel")])
def test_programs_reach_no_python_for_execute(monkeypatch, name, variant):
    """Whole programs: warm mains execute natively (softmax's and the micro-kernel
    elementwise kernels allocate scratch: released through the callback)."""
    from program_runs import random_inputs
    item = next(i for i in corpus.program_items() if i.name == name and i.variant == variant)
    calls = []
    original = execute.NativeExecute.__call__
    monkeypatch.setattr(execute.NativeExecute, "__call__",
                        lambda self, *a: calls.append(1) or original(self, *a))
    m = JitModule(corpus.compile_item(item))
    inputs = random_inputs(item, 2)
    first = m.main(*inputs)
    first = [first] if not isinstance(first, tuple) else list(first)
    for _ in range(3):
        out = m.main(*inputs)
        out = [out] if not isinstance(out, tuple) else list(out)
        assert [o.tobytes() for o in out] == [o.tobytes() for o in first]
    assert len(calls) == 1
