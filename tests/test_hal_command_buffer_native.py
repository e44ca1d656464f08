"""hal/command_buffer.py: command buffers recorded and executed in machine code
(command_buffer.create / dispatch / execution_barrier / finalize, device.queue.execute,
executable.lookup.function) give exactly what the Python implementation gives - buffers,
fences, errors, traps - and hand every unusual call (a binding outside its buffer, a table
slot, a foreign object, a full recording area) to Python before changing anything."""
from __future__ import annotations

import ctypes
import gc
import platform

import numpy as np
import pytest

import corpus
from program_runs import random_inputs
from splatjit.frontend.cconv import parse_cconv
from splatjit.hal import command_buffer as C
from splatjit.hal.buffers import Buffer
from splatjit.hal.local import Executable, Fence, LocalHal
from splatjit.module import JitModule
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.memory import ExecutableMemory
from splatjit.runtime.objects import ObjectSpace, VmBuffer, lookup
from test_hal_execute_native import _ARGS, NAMES, kernels  # noqa: F401 - the fixture
from test_hal_native import packed_args
from test_hal_queue_native import _program

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")
ENTRY_NAMES = list(C.ENTRIES)


class Hal:
    """A LocalHal's command-buffer calls as a program's import table calls them: native
    entries over counting Python fallbacks (`native`), or the Python implementation only
    (through the same trampolines), with the test kernels as one executable."""

    def __init__(self, kernels: bytes, native: bool, names=NAMES):
        self.hal = LocalHal()
        self.hal.native_modes["command_buffer"] = native
        self.provider = self.hal.provider()
        self.names = names
        self.exe = Executable(JitModule(kernels), names)
        self.python_calls, self.errors, self.keep = 0, [], []
        self.space = ObjectSpace()
        self.fns = {}
        for name in ENTRY_NAMES:
            sig = parse_cconv(C.ENTRIES[name][0])
            fn = self.provider[name]
            assert isinstance(fn, C.NativeCall | C.NativeCreate) == native

            def counted(*args, fn=fn):
                self.python_calls += 1
                return fn(*args)
            entry = python_trampoline(sig, counted, self.errors, self.keep, self.space)
            if native:
                memory = ExecutableMemory(fn.native_code(entry, sig))
                self.keep.append(memory)
                entry = memory.address
            self.fns[name] = (NATIVE_FN(entry), sig)

    def __call__(self, name, *args):
        """(status, result (an object for a ref result), Python ran?)."""
        fn, sig = self.fns[name]
        raw = packed_args(sig.args, args)
        out = ctypes.c_uint64(0)
        before = self.python_calls
        self.errors.clear()
        status = fn(None, ctypes.addressof(raw), ctypes.addressof(out))
        value = out.value
        if sig.results == ("ref",):
            value = lookup(value) if value else None
        return status, value, self.python_calls != before

    def create(self):
        status, cb, _ = self("command_buffer.create", self.hal.device, 1, 3, -1, 0)
        assert status == 0
        return cb

    def dispatch(self, cb, kernel, x, constants, bindings, y=1, z=1):
        """bindings: (buffer, offset, length) (buffer None: a table slot)."""
        return self("command_buffer.dispatch", cb, self.exe, self.names.index(kernel), x, y, z, 0,
                    [(c,) for c in constants], [(0, 0, *b) for b in bindings])

    def execute(self, cb, wait=None, signal=None, device=None):
        device = self.hal.device if device is None else device
        return self("device.queue.execute", device, -1, wait, signal, cb, 0)

    def record(self, commands, finalize=True):
        """A command buffer with `commands` (kernel, x, constants, bindings) and barriers."""
        cb = self.create()
        for kernel, x, constants, bindings in commands:
            assert self.dispatch(cb, kernel, x, constants, bindings)[0] == 0
            assert self("command_buffer.execution_barrier", cb, 28, 13, 0)[0] == 0
        if finalize:
            assert self("command_buffer.finalize", cb)[0] == 0
        return cb

    def warm(self, commands):
        """Records and executes `commands` once, then recycles: their frames are listed
        (the first dispatch of a shape is Python's) and the pool is full again."""
        cb = self.record(commands)
        assert self.execute(cb)[0] == 0
        del cb
        self.recycle()

    def recycle(self, live=frozenset()):
        """What the module does after its outermost call, bind then recycle, with the
        recycle made at once (as when the stack would not last another call)."""
        pool = getattr(self.hal, "command_buffer_pool", None)
        if pool is None:
            return
        pool.before_collect(frozenset(live))
        pool.recycle(set(live), force=True)


GRID_KERNEL = f"""
vm.module @grid_kernels {{
  // binding 0 (i32)[x + cx * (y + cy * z)] = constants[0] + x + 10 y + 100 z
  //                                          + 1000 cx + 10000 cy + 100000 cz
  vm.export @ids
  vm.func @ids({_ARGS}) {{
    %c0 = vm.const.i32.zero
    %i0 = vm.const.i64.zero
    %c10 = vm.const.i32 10
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %v1 = vm.mul.i32 %cz, %c10 : i32
    %v2 = vm.add.i32 %v1, %cy : i32
    %v3 = vm.mul.i32 %v2, %c10 : i32
    %v4 = vm.add.i32 %v3, %cx : i32
    %v5 = vm.mul.i32 %v4, %c10 : i32
    %v6 = vm.add.i32 %v5, %z : i32
    %v7 = vm.mul.i32 %v6, %c10 : i32
    %v8 = vm.add.i32 %v7, %y : i32
    %v9 = vm.mul.i32 %v8, %c10 : i32
    %v10 = vm.add.i32 %v9, %x : i32
    %v = vm.add.i32 %v10, %k : i32
    %j1 = vm.mul.i32 %cy, %z : i32
    %j2 = vm.add.i32 %j1, %y : i32
    %j3 = vm.mul.i32 %j2, %cx : i32
    %j = vm.add.i32 %j3, %x : i32
    %j64 = vm.ext.i32.i64.s %j : i32 -> i64
    vm.buffer.store.i32 %v, %out[%j64] : i32 -> !vm.buffer
    vm.return
  }}
}}
"""


@pytest.fixture(scope="module")
def grid_kernel(tmp_path_factory):
    return corpus.compile_vm_text(tmp_path_factory.mktemp("kernels"), "hal_grid_kernel",
                                  GRID_KERNEL)


def _buffers(n=3, size=64):
    return [Buffer.allocate(size) for _ in range(n)]


def _values(data, n=4) -> list[int]:
    return np.frombuffer(bytes(data), np.int32)[:n].tolist()


def _run_both(kernels, commands_of, repeat=3, finalize=True):
    """Records and executes the same commands natively and in Python only, on fresh
    buffers per run, `repeat` times (a new command buffer each run, as a program re-records
    its own); asserts both give the same (statuses, error, buffer bytes, fence state) per
    run and returns those and the native Hal."""
    outcomes = []
    for native in (True, False):
        h = Hal(kernels, native)
        runs = []
        for _ in range(repeat):
            buffers = _buffers()
            cb = h.create()
            statuses = []
            for kernel, x, constants, bindings in commands_of(buffers):
                statuses.append(h.dispatch(cb, kernel, x, constants, bindings)[0])
                statuses.append(h("command_buffer.execution_barrier", cb, 28, 13, 0)[0])
            if finalize:
                statuses.append(h("command_buffer.finalize", cb)[0])
            signal = Fence()
            statuses.append(h.execute(cb, signal=signal)[0])
            error = repr(h.errors[-1]) if h.errors else None
            runs.append((statuses, error, [b.array.tobytes() for b in buffers], signal.signaled))
            del cb
            h.recycle()
        outcomes.append(runs)
        if native:
            native_hal = h
    assert outcomes[0] == outcomes[1]
    return outcomes[0], native_hal


def test_recorded_dispatches_run_natively_after_the_first_call(kernels):
    """The first dispatch of a shape lists its frame (Python); from then on create,
    dispatch, barrier, finalize and execute never enter Python, and the results are the
    Python implementation's."""
    h = Hal(kernels, True)
    for k in range(4):
        a, b = _buffers(2)
        before = h.python_calls
        cb = h.record([("write", 4, [10 + k], [(a, 0, 16)]),
                       ("add", 4, [5], [(a, 0, -1), (b, 16, 16)])])
        signal = Fence()
        assert h.execute(cb, signal=signal)[0] == 0 and signal.signaled
        assert type(cb) is C.NativeCommandBuffer and cb.active == (k > 0)
        assert (h.python_calls == before) == (k > 0)
        assert _values(a.array) == [10 + k, 11 + k, 12 + k, 13 + k]
        assert _values(b.array[16:]) == [15 + k, 16 + k, 17 + k, 18 + k]
        assert not b.array[:16].any() and not b.array[32:].any()
        del cb
        h.recycle()


def test_results_match_python_over_runs(kernels):
    runs, native = _run_both(kernels, lambda bs: [
        ("write", 4, [7], [(bs[2], 8, 16)]),
        ("add", 3, [1], [(bs[2], 8, -1), (bs[0], 0, 12)]),
        ("write", 0, [3], [(bs[1], 0, 64)]),                   # an empty grid
        ("write", 2, [9], [(bs[1], 0, 8)])], repeat=4)
    assert all(r[1] is None and r[3] for r in runs)
    assert _values(runs[-1][2][0]) == [8, 9, 10, 0] and _values(runs[-1][2][1], 2) == [9, 10]


def test_every_record_runs_with_its_own_grid(grid_kernel):
    """Dispatches of one shape share a frame: each run sees its own workgroup counts and
    ids (x fastest) and constants, as in Python."""
    grids = [(3, 2, 2), (1, 1, 1), (2, 3, 1), (4, 1, 3), (0, 2, 2)]
    outcomes = []
    for native in (True, False):
        h = Hal(grid_kernel, native, ["ids"])
        for _ in range(3):
            bs = _buffers(len(grids))
            cb = h.create()
            for k, (grid, b) in enumerate(zip(grids, bs)):
                assert h.dispatch(cb, "ids", grid[0], [7 * k], [(b, 0, -1)], *grid[1:])[0] == 0
            h("command_buffer.finalize", cb)
            assert h.execute(cb)[0] == 0
            del cb
            h.recycle()
        outcomes.append([b.array.tobytes() for b in bs])
    assert outcomes[0] == outcomes[1]
    first = np.frombuffer(outcomes[0][0], np.int32)
    assert first[:3].tolist() == [223000, 223001, 223002]
    assert first[3 * 2 * 2 - 1] == 223000 + 2 + 10 * 1 + 100 * 1
    assert np.frombuffer(outcomes[0][1], np.int32)[0] == 111000 + 7
    assert not any(outcomes[0][4])


@pytest.mark.parametrize("nconst", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("nbind", [1, 2, 3])
def test_constant_and_binding_counts(kernels, nconst, nbind):
    """The bindings span follows a constants span of any length (odd counts shift its
    alignment): the records hold the constants, buffers, offsets and lengths passed, and
    run as Python runs them (`write` reads constant 0 - none: a trap - and binding 0)."""
    def commands(bs):
        bindings = [(bs[i], 4 * i, 16 + 4 * i) for i in range(nbind)]
        return [("write", 3, [40 + i for i in range(nconst)], bindings)] * 2
    runs, native = _run_both(kernels, commands)
    assert all((r[1] is None) == (nconst > 0) for r in runs)
    assert native.python_calls == 4 + 2 * (nconst == 0)  # the first run; a trap per run
    bs = _buffers()
    cb = native.create()
    for kernel, x, constants, bindings in commands(bs):
        assert native.dispatch(cb, kernel, x, constants, bindings) == (0, 0, False)
    recorded = [record for _, record in cb.records()]
    assert cb.active and len(recorded) == 2
    _, _, constants, bindings = commands(bs)[0]
    for record in recorded:
        assert record[C._R_NCONST] == nconst and record[C.X._S_COUNT] == nbind
        assert cb._bindings(record) == [(b.ref_address, o, n) for b, o, n in bindings]
        words = np.frombuffer(bytes(record[C._R_HEAD:C._R_HEAD + (nconst + 1) // 2]),
                              np.uint32)[:nconst].tolist()
        assert words == constants


@pytest.mark.parametrize("binding", [
    (0, 60, 8),                     # offset + length past the end
    (0, 65, -1),                    # offset past the end, to the end
    (0, -8, 4),                     # a negative offset
    (0, -8, 16),                    # ... ending inside the buffer
    (0, 0, -2),                     # a negative length
    (0, 8, -4),                     # ... with an offset that would bring it back
    (0, (1 << 63) - 4, 8),          # offset + length overflows
    (0, 1 << 62, -1),               # far past the end, to the end
])
def test_a_binding_outside_its_buffer_is_recorded_by_python_and_raises(kernels, binding):
    """The native dispatch declines (nothing recorded natively); Python records it and the
    execution raises IREE's range error at that dispatch, after running the ones before
    it: no kernel ever sees the bad range."""
    def commands(bs):
        slot, offset, length = binding
        return [("write", 4, [3], [(bs[0], 0, 16)]), ("write", 2, [9], [(bs[1], offset, length)])]
    runs, native = _run_both(kernels, commands)
    for statuses, error, buffers, signalled in runs:
        assert statuses[:-1] == [0] * 5 and statuses[-1] == abi.TRAP_IMPORT
        assert "HalError" in error and "outside a 64-byte buffer" in error and not signalled
        assert _values(buffers[0]) == [3, 4, 5, 6] and not any(buffers[1])


def test_a_bad_binding_leaves_the_native_record_untouched(kernels):
    h = Hal(kernels, True)
    a, b = _buffers(2)
    h.warm([("write", 4, [1], [(a, 0, 16)])])
    cb = h.record([("write", 4, [1], [(a, 0, 16)])], finalize=False)
    assert cb.active and len(list(cb.records())) == 1
    used = cb.words[C.A_END]
    status, _, python = h.dispatch(cb, "write", 2, [2], [(b, 60, 8)])
    assert status == 0 and python and not cb.active              # Python took it over
    assert cb.words[C.A_END] == used                              # nothing committed
    assert cb.words[C.A_PLAN + C.X._P_STEPS] == 1
    assert [c[0] for c in cb.commands] == ["dispatch", "dispatch"]
    h("command_buffer.finalize", cb)
    status, _, _ = h.execute(cb)
    assert status == abi.TRAP_IMPORT and "[60, 60+8) outside a 64-byte buffer" in str(h.errors[-1])
    assert _values(a.array) == [1, 2, 3, 4] and not b.array.any()


def test_finalized_buffers_and_unknown_functions_are_errors(kernels):
    """Recording into a finalized buffer fails at once; a function the executable does
    not have fails when executed (both Python's errors, the native entries decline)."""
    h = Hal(kernels, True)
    (a,) = _buffers(1)
    h.warm([("write", 1, [1], [(a, 0, 4)])])
    cb = h.record([("write", 1, [1], [(a, 0, 4)])])
    assert cb.active
    status, _, python = h.dispatch(cb, "write", 1, [1], [(a, 0, 4)])
    assert status == abi.TRAP_IMPORT and python and "finalized" in str(h.errors[-1])
    for ordinal in (len(NAMES), -1, 1 << 40):
        del cb
        h.recycle()
        cb = h.create()
        status, _, python = h("command_buffer.dispatch", cb, h.exe, ordinal, 1, 1, 1, 0, [(1,)],
                              [(0, 0, a, 0, 4)])
        assert status == 0 and python and not cb.active
        h("command_buffer.finalize", cb)
        status, _, _ = h.execute(cb)
        assert status == abi.TRAP_IMPORT and f"no function {ordinal}" in str(h.errors[-1])


def test_more_than_32_bindings_is_an_error(kernels):
    h = Hal(kernels, True)
    bs = _buffers(1)
    cb = h.create()
    status, _, python = h.dispatch(cb, "write", 1, [1], [(bs[0], 0, 4)] * 33)
    assert status == abi.TRAP_IMPORT and python and "binding count 33 > 32" in str(h.errors[-1])
    status, _, _ = h.dispatch(cb, "write", 1, [1], [(bs[0], 0, 4)] * 32)
    assert status == 0


def test_table_slots_and_foreign_objects_go_to_python(kernels):
    """A table slot (null buffer) and a non-buffer in a binding are Python's: the
    execution without a binding table fails there, as in IREE."""
    runs, _ = _run_both(kernels, lambda bs: [("write", 2, [1], [(bs[0], 0, 8)]),
                                             ("write", 2, [1], [(None, 0, 8)])])
    assert all("binding table slot 0 out of range (0 slots)" in r[1] for r in runs)
    h = Hal(kernels, True)
    cb = h.create()
    status, _, python = h.dispatch(cb, "write", 2, [1], [(Fence(), 0, 8)])
    assert status == abi.TRAP_IMPORT and python and "expected a Buffer" in str(h.errors[-1])


def test_trap_with_later_dispatches_pending(kernels):
    runs, native = _run_both(kernels, lambda bs: [("write", 2, [4], [(bs[0], 0, 8)]),
                                                  ("trap", 1, [0], []),
                                                  ("write", 2, [6], [(bs[1], 0, 8)])])
    for statuses, error, buffers, signalled in runs:
        assert statuses[-1] == abi.TRAP_IMPORT and "read-only" in error and not signalled
        assert _values(buffers[0], 2) == [4, 5] and not any(buffers[1])
    module = native.exe.module
    assert module._context.trap_code == 0 and module._depth == 0


@pytest.mark.parametrize("kernel", ["write_via_list", "write_via_scratch"])
@pytest.mark.parametrize("last", [False, True])
def test_scratch_is_released_and_execution_goes_on(kernels, last, kernel):
    """A dispatch that leaves a list to release (first or last): native execution
    releases it at once (a callback) and runs the rest; a scratch buffer comes from the
    kernel's native arena, rewound after the step."""
    def commands(bs):
        out = [(kernel, 3, [20], [(bs[0], 0, 12)]), ("write", 2, [6], [(bs[1], 0, 8)])]
        return out[::-1] if last else out
    runs, native = _run_both(kernels, commands)
    for statuses, error, buffers, signalled in runs:
        assert error is None and signalled
        assert _values(buffers[0], 3) == [20, 21, 22] and _values(buffers[1], 2) == [6, 7]
    module = native.exe.module
    for _ in range(2):
        bs = _buffers()
        cb = native.record(commands(bs))
        assert cb.active
        assert native.execute(cb) == (0, 0, False)
        assert not module._heap.by_address and not module._heap.lists.by_address
        assert module._depth == 0 and not module._heap.arena.used()
        assert _values(bs[0].array, 3) == [20, 21, 22] and _values(bs[1].array, 2) == [6, 7]
        del cb
        native.recycle()


def test_a_failed_release_stops_and_python_reports_it(kernels, monkeypatch):
    h = Hal(kernels, True)

    def commands(bs):
        return [("write_via_list", 3, [20], [(bs[0], 0, 12)]),
                ("write", 2, [6], [(bs[1], 0, 8)])]
    h.warm(commands(_buffers()))
    bs = _buffers()
    real = C.FlexFrame.release
    failures = []

    def release(frame):                     # fails in the callback and in the fallback
        if len(failures) < 2:
            failures.append(frame)
            raise RuntimeError("release failed")
        real(frame)
    monkeypatch.setattr(C.FlexFrame, "release", release)
    cb = h.record(commands(bs))
    signal = Fence()
    status, _, python = h.execute(cb, signal=signal)
    assert status == abi.TRAP_IMPORT and python and "release failed" in str(h.errors[-1])
    assert len(failures) == 2 and not signal.signaled
    assert _values(bs[0].array, 3) == [20, 21, 22] and not bs[1].array.any()
    status, _, python = h.execute(cb, signal=signal)                 # released now
    assert status == 0 and not python and signal.signaled
    assert not h.exe.module._heap.lists.by_address and _values(bs[1].array, 2) == [6, 7]


def test_a_grown_bindings_list_is_restored(kernels):
    def commands(bs):
        return [("write_and_grow", 2, [1], [(bs[0], 0, 16)]),
                ("write_and_grow", 2, [1], [(bs[1], 0, 8)])]
    runs, native = _run_both(kernels, commands, repeat=4)
    for statuses, error, buffers, signalled in runs:
        assert error is None and signalled
        assert _values(buffers[0], 2) == _values(buffers[1], 2) == [1, 2]
    from splatjit.runtime.objects import array_address
    runner = native.exe.runners[NAMES.index("write_and_grow")]
    for _ in range(2):                      # Python restores the list and runs the rest
        bs = _buffers()
        cb = native.record(commands(bs))
        assert native.execute(cb) == (0, 0, True)
        assert _values(bs[0].array, 2) == _values(bs[1].array, 2) == [1, 2]
        del cb
        native.recycle()
    assert runner.flex
    for frame in runner.flex.values():
        assert frame.list.desc.storage == frame.slots_address == array_address(frame.list.storage)


def test_unfinalized_and_mixed_buffers_run_in_python(kernels):
    runs, _ = _run_both(kernels, lambda bs: [("write", 2, [5], [(bs[0], 0, 8)])], finalize=False)
    assert all(r[1] is None and _values(r[2][0], 2) == [5, 6] for r in runs)
    h = Hal(kernels, True)
    for k in range(3):
        (a,) = _buffers(1)
        cb = h.record([("write", 2, [5], [(a, 0, 8)])], finalize=False)
        assert cb.active == (k > 0)
        cb.record("fill", (0, a, 8, 8), 0x7F, 1)                      # Python's command
        h("command_buffer.finalize", cb)
        assert h.execute(cb)[0] == 0 and not cb.active
        assert _values(a.array, 2) == [5, 6] and a.array[8:16].tolist() == [0x7F] * 8
        del cb
        h.recycle()


def test_fences_and_devices(kernels):
    h = Hal(kernels, True)
    (a,) = _buffers(1)
    h.warm([("write", 1, [1], [(a, 0, 4)])])
    cb = h.record([("write", 1, [1], [(a, 0, 4)])])
    ready, pending = Fence(signaled=True), Fence()
    assert h.execute(cb, wait=ready, signal=pending) == (0, 0, False) and pending.signaled
    failed = Fence(signaled=True)
    failed.failure = "status 3"
    status, _, python = h.execute(cb, wait=failed)
    assert status == abi.TRAP_IMPORT and python and "status 3" in str(h.errors[-1])
    status, _, python = h.execute(cb, wait=Fence())
    assert status == abi.TRAP_IMPORT and python and "deadlock" in str(h.errors[-1])
    status, _, python = h.execute(cb, device=h.exe)
    assert status == abi.TRAP_IMPORT and python and "expected a Device" in str(h.errors[-1])
    del cb
    h.recycle()
    assert h.hal.command_buffer_pool.words[0]                     # a buffer to pop
    status, _, python = h("command_buffer.create", h.exe, 1, 3, -1, 0)
    assert status == abi.TRAP_IMPORT and python and "expected a Device" in str(h.errors[-1])
    for name in ("command_buffer.execution_barrier", "command_buffer.finalize"):
        args = (a, 28, 13, 0) if "barrier" in name else (a,)
        status, _, python = h(name, *args)
        assert status == abi.TRAP_IMPORT and python
        assert "expected a CommandBuffer" in str(h.errors[-1])


def test_a_full_recording_area_hands_over_to_python(kernels):
    h = Hal(kernels, True)
    (a,) = _buffers(1)
    h.warm([("write", 1, [1], [(a, 0, 4)])])
    cb = h.create()
    n = 0
    while cb.active:
        n += 1
        assert h.dispatch(cb, "write", 1, [n], [(a, 4 * (n % 16), 4)])[0] == 0
    assert n > 20 and len(cb.commands) == n
    h("command_buffer.finalize", cb)
    assert h.execute(cb)[0] == 0
    want = {k % 16: k for k in range(1, n + 1)}
    assert _values(a.array, 16) == [want.get(i, 0) for i in range(16)]


def test_an_escaped_command_buffer_keeps_what_it_recorded(kernels):
    """A command buffer still held after the call (a ref global: `live`) is not reused; it
    keeps its buffers alive after everything else let go of them and still executes
    natively into them; once let go it is reused."""
    h = Hal(kernels, True)
    (a,) = _buffers(1)
    h.warm([("write", 4, [1], [(a, 0, 16)])])
    (b,) = _buffers(1)
    cb = h.record([("write", 4, [30], [(b, 8, 16)])])
    address, b_address = cb.ref_address, b.ref_address
    h.recycle(live={address})
    assert address not in [o.ref_address for o in h.hal.command_buffer_pool.stack]
    del b
    gc.collect()
    _buffers(8)                                     # descriptor slots are reused
    kept = lookup(b_address)
    assert kept is not None and not kept.array.any()
    assert h.execute(cb) == (0, 0, False)
    assert _values(kept.array[8:]) == [30, 31, 32, 33]
    del cb, kept
    h.recycle()
    assert address in [o.ref_address for o in h.hal.command_buffer_pool.stack]


def _string(text: str) -> VmBuffer:
    return VmBuffer(np.frombuffer(text.encode(), np.uint8).copy())


def test_lookup_function(kernels):
    h = Hal(kernels, True)
    for k, name in enumerate(NAMES):
        assert h("executable.lookup.function", h.exe, _string(name)) == (0, k, False)
    for name in ("writ", "write_", "", "nothing"):
        status, _, python = h("executable.lookup.function", h.exe, _string(name))
        assert status == abi.TRAP_IMPORT and python and "has no function" in str(h.errors[-1])
    status, _, python = h("executable.lookup.function", h.hal.device, _string("write"))
    assert status == abi.TRAP_IMPORT and python


# -- whole programs ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["scalar", "ukernel", "datatiled"])
def test_dynamic_shape_records_natively_and_matches_iree(variant, monkeypatch):
    """dynamic_shape re-records its command buffer every call (its grid and constants
    follow the input's leading dimension): native, Python-only and iree.runtime agree on
    every shape, and a warm call records without Python."""
    rt = pytest.importorskip("iree.runtime")
    calls = []
    for fn in ("cb_create", "cb_dispatch", "cb_barrier", "cb_finalize", "lookup_function",
               "queue_execute"):
        raw = LocalHal.__dict__[fn]
        if isinstance(raw, staticmethod):
            counted = staticmethod(lambda *a, _f=raw.__func__, _n=fn: calls.append(_n) or _f(*a))
        else:
            counted = (lambda self, *a, _f=raw, _n=fn, **k: calls.append(_n)
                       or _f(self, *a, **k))
        monkeypatch.setattr(LocalHal, fn, counted)
    native, data, item = _program("dynamic_shape", variant)
    python, _, _ = _program("dynamic_shape", variant, command_buffer=False)
    iree = rt.load_vm_flatbuffer(data, driver="local-sync")
    held = []
    for rows in (5, 1, 64, 65, 130, 5, 0, 3):
        x = np.random.default_rng(rows).standard_normal((rows, 16)).astype(np.float32)
        got, ref = native.main(x), python.main(x)
        want = [np.asarray(w.to_host()) for w in iree.main(x)]
        for g, r, w in zip(got, ref, want):
            assert g.tobytes() == r.tobytes() == w.tobytes()
        held.append((got, want))
    for got, want in held:
        assert all(g.tobytes() == w.tobytes() for g, w in zip(got, want))
    calls.clear()
    x = random_inputs(item, 1)
    native.main(*x)
    native.main(*x)
    assert calls == []


def _random_session(rng, h, buffers):
    """One random command buffer: dispatches of random kernels, constants, grids and
    bindings (mostly valid, some outside their buffer or a table slot), sometimes a fill
    (Python's command) or no finalize, executed once or twice. Returns the statuses and
    errors seen."""
    out = []
    cb = h.create()
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.1:
            cb.record("fill", (0, buffers[int(rng.integers(3))], 0, 8), 0x11, 1)
            continue
        kernel = ["write", "add", "write_via_scratch", "write_via_list"][int(rng.integers(4))]
        nconst = int(rng.integers(1, 4))
        constants = [int(c) for c in rng.integers(-5, 100, nconst)]
        nbind = 2 if kernel == "add" else int(rng.integers(1, 3))
        bindings = []
        for _ in range(nbind):
            buffer = buffers[int(rng.integers(3))]
            offset, length = int(rng.choice([0, 4, 8, 16])), int(rng.choice([-1, 16, 32, 48]))
            if rng.random() < 0.08:
                offset = int(rng.choice([60, 64, 68, -4, 1 << 62]))
            if rng.random() < 0.08:
                length = int(rng.choice([0, 64, 100, -2, 1 << 62]))
            bindings.append((None if rng.random() < 0.02 else buffer, offset, length))
        x = int(rng.integers(0, 5))
        status, _, _ = h.dispatch(cb, kernel, x, constants, bindings)
        out.append((status, repr(h.errors[-1]) if status else None))
        out.append(h("command_buffer.execution_barrier", cb, 28, 13, 0)[0])
    if rng.random() < 0.9:
        h("command_buffer.finalize", cb)
    for _ in range(int(rng.integers(1, 3))):
        signal = Fence()
        status, _, _ = h.execute(cb, signal=signal)
        out.append((status, repr(h.errors[-1]) if status else None, signal.signaled))
    return out


def test_random_command_buffers_match_python(kernels):
    """Random recordings, executed natively and in Python only on the same buffers'
    contents: the same statuses, errors, fences and bytes (bad ranges never reach a
    kernel natively: they would corrupt the neighbouring buffer's bytes or crash)."""
    hals = [Hal(kernels, True), Hal(kernels, False)]
    for seed in range(200):
        results = []
        for h in hals:
            rng = np.random.default_rng(seed)
            buffers = _buffers(3, 64)
            out = _random_session(rng, h, buffers)
            results.append((out, [b.array.tobytes() for b in buffers]))
            h.recycle()
        assert results[0] == results[1], seed
    assert hals[0].python_calls < hals[1].python_calls / 2          # mostly native
