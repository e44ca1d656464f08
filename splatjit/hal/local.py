"""A local, synchronous HAL: the `hal` module imports of a VMVX program (IREE 3.13
`iree/modules/hal/`), with the semantics of the `local-sync` driver.

Model: one device; queue operations run to completion when issued (after checking their
wait fence), then signal their signal fence; command buffers record commands and replay
them on `queue.execute[.indirect]`; executables are the program's nested VMVX modules,
compiled by splatjit (`JitModule`) with the `vmvx.*` intrinsics as their imports (those the
program's load found by `compile_executables`, as the program is built); a dispatch runs
the JIT-compiled function over the workgroup grid (hal/dispatch.py).

Contract: `LocalHal(...).provider()` returns {function name: callable} covering every
`hal.*` import the corpus programs use plus their close relatives; misuse (a wrong ref
type, a range outside a buffer, an unknown executable format) raises `HalError`, which
traps the calling program with that message.
"""
from __future__ import annotations

import fnmatch

import numpy as np

from ..errors import SplatJitError
from ..runtime import abi
from ..runtime.objects import HostObject
from .buffers import Buffer, HalError
from .dispatch import DispatchRunner, resolve
from .inline import _view_create, buffer_exports, expect, string_of
from .buffers import PooledView
from .execute import NativeExecute
from .pools import BufferPool, NativeAlloca, NativeViewCreate, ObjectPool, PooledCall

_TAGS = abi.HOST_TYPE_TAGS
WHOLE_BUFFER = -1               # IREE_HAL_WHOLE_BUFFER as a signed i64
STATUS_OK, STATUS_DEADLINE_EXCEEDED = 0, 4
#: a fence descriptor's access bits (see Fence); FENCE_READY: signalled, not failed
FENCE_SIGNALED, FENCE_FAILED = 1, 2
FENCE_READY = FENCE_SIGNALED
EXECUTABLE_FORMATS = ("vmvx-bytecode-fb",)
#: which native queue entries new LocalHals use (off: the Python implementation only; for
#: tests and A/B timing): "alloca" (hal/pools.NativeAlloca), "view" (buffer_view.create,
#: hal/pools.NativeViewCreate), "execute" (device.queue.execute.indirect, hal/execute.py),
#: "command_buffer" (command buffers recorded and executed natively, executable.lookup
#: .function: hal/command_buffer.py), "queue" (fence.join, device.queue.dealloca:
#: hal/native_queue.py)
NATIVE_MODES = {"alloca": True, "view": True, "execute": True, "command_buffer": True,
                "queue": True}
#: IREE's HAL module rejects dispatches with more bindings (IREE_HAL_MODULE_MAX_DESCRIPTOR_
#: BINDING_COUNT)
MAX_DISPATCH_BINDINGS = 32


class Device(HostObject):
    """The one device; its descriptor's first field is its allocator's ref address."""
    TYPE_TAG = _TAGS["!hal.device"]

    def __init__(self):
        super().__init__()
        self.allocator = Allocator()
        self.describe_natively(self.allocator.ref_address)

    def query(self, category: str, key: str) -> tuple[int, int]:
        """(ok, value) as iree_hal_device_query_i64 answers for a local VMVX device."""
        if category == "hal.device.id":
            return 1, int(fnmatch.fnmatchcase("local-sync", key) or fnmatch.fnmatchcase("local", key))
        if category == "hal.executable.format":
            return 1, int(key in EXECUTABLE_FORMATS)
        if category == "hal.device":
            return (1, 1) if key == "concurrency" else (0, 0)
        if category == "hal.dispatch":
            return (1, 1) if key == "concurrency" else (0, 0)
        return 0, 0


class Allocator(HostObject):
    TYPE_TAG = _TAGS["!hal.allocator"]


class Fence(HostObject):
    """Synchronous fence: signalled, failed (with a message) or still pending.

    Its state lives in its descriptor's access field, so native code may read and signal
    it without Python: FENCE_SIGNALED | FENCE_FAILED bits (FENCE_READY = signalled and not
    failed, what hal/native.py's fence.await and the native queue calls of hal/pools.py
    check); `failure` (the message) is Python's, set together with FENCE_FAILED."""
    TYPE_TAG = _TAGS["!hal.fence"]
    __slots__ = ("_failure",)

    def __init__(self, signaled: bool = False):
        super().__init__()
        self._failure = None
        self.describe_natively(access=FENCE_SIGNALED if signaled else 0)

    def _state(self) -> int:
        return self._desc[abi.BUF_ACCESS]

    def _set_state(self, bits: int) -> None:
        self._desc[abi.BUF_ACCESS] = bits

    @property
    def signaled(self) -> bool:
        return bool(self._state() & FENCE_SIGNALED)

    @signaled.setter
    def signaled(self, value: bool) -> None:
        state = self._state()
        self._set_state(state | FENCE_SIGNALED if value else state & ~FENCE_SIGNALED)

    @property
    def failure(self) -> str | None:
        return self._failure

    @failure.setter
    def failure(self, value: str | None) -> None:
        self._failure = value
        state = self._state()
        self._set_state(state | FENCE_FAILED if value is not None else state & ~FENCE_FAILED)

    def reset(self) -> None:
        """Unsignalled and not failed again, as a new fence (hal/pools.py reuses it)."""
        self._failure = None
        self._desc[abi.BUF_ACCESS] = 0


class Executable(HostObject):
    """A program's nested executable: its JitModule and export names; its descriptor's
    data field is its native table (hal/command_buffer.ExecutableTable: export names and
    the packed dispatch frames native recording uses)."""
    TYPE_TAG = _TAGS["!hal.executable"]

    def __init__(self, module, export_names: list[str]):
        from .command_buffer import ExecutableTable
        super().__init__()
        self.module = module
        self.export_names = export_names
        self.runners: dict[int, object] = {}
        self.table = ExecutableTable(export_names)
        self.describe_natively(self.table.address)

    def release(self) -> None:
        """Once nothing can dispatch to it: closes its module and drops its runners' frames
        (a runner and its frames refer to each other), so that the module, its code and
        its frames are freed by reference counting. A module with a call still running
        stays open (the cycle collector frees it then)."""
        for runner in self.runners.values():
            runner.forget_frames()
        try:
            self.module.close()
        except SplatJitError:
            pass

    def runner(self, ordinal: int):
        runner = self.runners.get(ordinal)
        if runner is None:
            if not 0 <= ordinal < len(self.export_names):
                raise HalError(f"executable has {len(self.export_names)} functions, no "
                               f"function {ordinal}")
            runner = self.runners[ordinal] = DispatchRunner(self.module,
                                                             self.export_names[ordinal])
        return runner


class CommandBuffer(HostObject):
    """Records (kind, payload) commands; `execute` replays them against a binding table.
    The recorded commands are compiled once into replay steps (dispatches packed by
    hal/dispatch.py), again only if more are recorded. Once finalized and executed, it may
    own a native plan of its steps (`plan`, hal/execute.py), whose address its
    descriptor's data field holds (0: none)."""
    TYPE_TAG = _TAGS["!hal.command_buffer"]

    def __init__(self, binding_capacity: int):
        super().__init__()
        self.binding_capacity = binding_capacity
        self.commands: list[tuple] = []
        self.finalized = False
        self._steps: list | None = None
        #: None: not tried yet; False: no plan possible; else an ExecutePlan
        self.plan = None
        self.describe_natively()  # no plan (a reused descriptor slot keeps its bytes)

    def make_plan(self) -> None:
        """Builds the native plan once the buffer is finalized and its steps exist."""
        if self.plan is None and self.finalized and self._steps is not None:
            from .execute import make_plan
            plan = make_plan(self._steps)
            self.plan = plan or False
            if plan:
                self.describe_natively(plan.address)

    def record(self, *command) -> None:
        if self.finalized:
            raise HalError("command buffer is finalized and cannot record more commands")
        self.commands.append(command)
        self._steps = None

    def execute(self, table: list[tuple], start: int = 0) -> None:
        """Runs the steps from `start` on (0: all)."""
        steps = self._steps
        if steps is None:
            steps = self._steps = [_STEPS[kind](*payload) for kind, *payload in self.commands]
        for step in steps[start:] if start else steps:
            step(table)


def _view(table, binding) -> np.ndarray:
    buffer, offset, length = resolve(table, *binding)
    return buffer.array[offset:offset + length]


def _dispatch_step(exe, ordinal, grid, constants, bindings):
    return exe.runner(ordinal).prepare(grid, constants, bindings).run


def _fill_step(target, pattern, width):
    pat = np.frombuffer(int(pattern & ((1 << (8 * width)) - 1)).to_bytes(width, "little"),
                        np.uint8)

    def fill(table):
        data = _view(table, target)
        if data.nbytes % width:
            raise HalError(f"fill length {data.nbytes} is not a multiple of {width}")
        data[:] = np.tile(pat, data.nbytes // width)
    return fill


def _copy_step(source, target):
    def copy(table):
        src, dst = _view(table, source), _view(table, target)
        dst[:] = src
    return copy


def _update_step(data, target):
    def update(table):
        _view(table, target)[:] = data
    return update


#: command kind -> make(*payload) -> step(binding table)
_STEPS = {"dispatch": _dispatch_step, "fill": _fill_step, "copy": _copy_step,
          "update": _update_step}


def intrinsic_providers(kernel_bytes: bytes, defn=None) -> dict:
    """Providers for a kernel module's imports: the `vmvx` microkernels if it uses them.
    `defn`: the kernel's ModuleDef when already parsed."""
    from ..frontend.archive import load_module_def
    defn = load_module_def(kernel_bytes) if defn is None else defn
    if not any(imp.name.partition(".")[0] == "vmvx" for imp in defn.imports):
        return {}
    return {"vmvx": vmvx_provider()}


#: the `vmvx` provider every kernel module shares (`vmvx_provider`), made on first use
_VMVX: list = []


def vmvx_provider() -> dict:
    """{vmvx function name: callable} for this host (intrinsics/vmvx.provider for
    `host_target()`, with native entries where intrinsics/native_x64 has them), made once
    per process: its callables keep no state (pure microkernels over their arguments),
    and host_target reads /proc/cpuinfo, which does not change. Callers must not change it."""
    if not _VMVX:
        from ..intrinsics.native_x64 import native_provider
        from ..intrinsics.vmvx import provider
        _VMVX.append(native_provider(provider()))
    return _VMVX[0]


def _pool_buffer(size: int, memory_types: int, usage: int) -> Buffer:
    """A new buffer for the queue.alloca pool (as queue_alloca allocates one)."""
    return Buffer.allocate(size, 64, memory_type=memory_types, usage=usage)


class LocalHal:
    """The state behind one program's `hal` imports (one device)."""

    def __init__(self, target: str = "native", features=None, fuel: int | None = None,
                 executables: dict | None = None, tier: str | None = None):
        """`target` / `features` / `fuel`: how the program's executables are compiled and
        bounded (as the program's own JitModule: a fuel budget then applies per workgroup).
        `executables`: executable data (bytes) -> its module as the program's load already
        decoded and verified it (frontend/loader.py), so it is not loaded twice."""
        self.target, self.features, self.fuel = target, features, fuel
        self.tier = tier  # the program's compiler tier (module.py), for its executables too
        self._loaded = executables or {}
        self.device = Device()
        self._compiled: dict[bytes, Executable] = {}
        self.fence_pool = ObjectPool(Fence, Fence.reset)
        self.native_modes = dict(NATIVE_MODES)
        self.view_pool = ObjectPool(PooledView, PooledView.reset, bind=PooledView.bind)
        self.buffer_pool = BufferPool(_pool_buffer)

    def __del__(self):
        """The executables go with the HAL that made them (`Executable.release`): each is
        then freed as soon as its last holder lets it go, not when the cycle collector
        next runs. Nothing can dispatch to them any more: only this HAL's calls did."""
        try:
            for exe in self._compiled.values():
                exe.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the process frees them
            pass

    # -- executables -------------------------------------------------------------
    def executable_create(self, device, affinity, format_, data, constants):
        expect(device, Device, "executable.create")
        fmt = string_of(format_)
        if fmt not in EXECUTABLE_FORMATS:
            raise HalError(f"executable format {fmt!r} is not supported (splatjit runs "
                           f"{', '.join(EXECUTABLE_FORMATS)})")
        if data is None:
            raise HalError("executable.create: null executable data")
        key = bytes(np.asarray(data))
        exe = self._compiled.get(key)
        if exe is None:
            exe = self._compiled[key] = self._executable(key)
        if constants is not None and len(constants):
            raise HalError("executable-level constants are not supported")
        return exe

    def compile_executables(self) -> None:
        """Makes now the Executable of each executable the program's load decoded (what
        `executable.create` makes at its first call with that data): the program's
        JitModule calls this while it constructs itself, so the kernels' IR is gone before
        the cycle collector runs again (instead of being walked by its passes while the
        program's __init creates them one by one)."""
        for key in self._loaded:
            if key not in self._compiled:
                self._compiled[key] = self._executable(key)

    def _executable(self, key: bytes) -> "Executable":
        """The Executable of executable data `key`: its kernel module compiled as the
        program's (target, features, fuel, tier), linked to this HAL."""
        from ..module import JitModule
        loaded = self._loaded.get(key)
        module = JitModule(key if loaded is None else loaded, target=self.target,
                           features=self.features, fuel=self.fuel, tier=self.tier,
                           imports=intrinsic_providers(key, loaded and loaded.defn))
        module.link(self)  # recorded dispatches call its code natively
        names = [e.name for e in module.loaded.defn.exports if not e.name.startswith("__")]
        return Executable(module, names)

    def lookup_function(self, exe, name):
        exe = expect(exe, Executable, "executable.lookup.function")
        name = string_of(name)
        if name not in exe.export_names:
            raise HalError(f"executable has no function {name!r} ({', '.join(exe.export_names)})")
        return exe.export_names.index(name)

    # -- queue -------------------------------------------------------------------
    @staticmethod
    def _wait(fence) -> None:
        if fence is None:
            return
        fence = expect(fence, Fence, "queue wait fence")
        if fence.failure is not None:
            raise HalError(f"wait fence failed: {fence.failure}")
        if not fence.signaled:
            raise HalError("queue operation waits on a fence nothing will signal (deadlock "
                           "in a synchronous HAL)")

    @staticmethod
    def _signal(fence) -> None:
        if fence is not None:
            expect(fence, Fence, "queue signal fence").signaled = True

    def queue_alloca(self, device, affinity, wait, signal, pool, memory_types, usage, size, flags):
        expect(device, Device, "device.queue.alloca")
        if pool:
            raise HalError("VM queue allocation pools are not supported")
        self._wait(wait)
        buffer = Buffer.allocate(size, 64, memory_type=memory_types, usage=usage)
        self._signal(signal)
        self.buffer_pool.note_miss(size, memory_types, usage)
        return buffer

    def queue_dealloca(self, device, affinity, wait, signal, buffer, flags):
        expect(device, Device, "device.queue.dealloca")
        self._wait(wait)
        expect(buffer, Buffer, "device.queue.dealloca")
        self._signal(signal)

    def queue_execute(self, device, affinity, wait, signal, cb, flags, table=(), start=0):
        """`start`: the first step to run (hal/execute.py resumes where native code
        stopped)."""
        expect(device, Device, "device.queue.execute")
        self._wait(wait)
        if cb is not None:
            expect(cb, CommandBuffer, "device.queue.execute").execute(list(table), start)
        self._signal(signal)

    def queue_execute_indirect(self, device, affinity, wait, signal, cb, flags, table, start=0):
        """queue_execute, then (native mode "execute") the command buffer's native plan,
        also when the execution failed (a dispatch trapped: the plan reports the trap)."""
        try:
            self.queue_execute(device, affinity, wait, signal, cb, flags, table, start)
        finally:
            if type(cb) is CommandBuffer and cb.plan is None and self.native_modes["execute"]:
                cb.make_plan()

    def queue_barrier(self, device, affinity, wait, signal, flags):
        self._wait(wait)
        self._signal(signal)

    def queue_fill(self, device, affinity, wait, signal, target, offset, length, pattern,
                   pattern_length, flags):
        cb = CommandBuffer(0)
        cb.record("fill", (0, target, offset, length), pattern, pattern_length)
        self.queue_execute(device, affinity, wait, signal, cb, flags)

    def queue_copy(self, device, affinity, wait, signal, source, source_offset, target,
                   target_offset, length, flags):
        cb = CommandBuffer(0)
        cb.record("copy", (0, source, source_offset, length), (0, target, target_offset, length))
        self.queue_execute(device, affinity, wait, signal, cb, flags)

    def queue_update(self, device, affinity, wait, signal, source, source_offset, target,
                     target_offset, length, flags):
        cb = CommandBuffer(0)
        self.cb_update(cb, source, source_offset, target, target_offset, length, 0, flags)
        self.queue_execute(device, affinity, wait, signal, cb, flags)

    # -- fences --------------------------------------------------------------------
    @staticmethod
    def fence_await(timeout, flags, fences):
        for (fence,) in fences:
            fence = expect(fence, Fence, "fence.await")
            if fence.failure is not None:
                raise HalError(f"fence failed: {fence.failure}")
            if not fence.signaled:
                return STATUS_DEADLINE_EXCEEDED
        return STATUS_OK

    @staticmethod
    def fence_join(flags, fences):
        signaled, failure = True, None
        for (fence,) in fences:
            if fence is None:
                continue
            fence = expect(fence, Fence, "fence.join")
            signaled &= fence.signaled
            failure = failure or fence.failure
        joined = Fence(signaled=signaled)
        if failure is not None:
            joined.failure = failure
        return joined

    @staticmethod
    def fence_query(fence):
        fence = expect(fence, Fence, "fence.query")
        return STATUS_OK if fence.signaled else STATUS_DEADLINE_EXCEEDED

    @staticmethod
    def fence_fail(fence, status):
        expect(fence, Fence, "fence.fail").failure = f"status {status}"

    # -- command buffers -------------------------------------------------------------
    @staticmethod
    def cb_dispatch(cb, exe, ordinal, x, y, z, flags, constants, bindings):
        cb = expect(cb, CommandBuffer, "command_buffer.dispatch")
        exe = expect(exe, Executable, "command_buffer.dispatch")
        if len(bindings) > MAX_DISPATCH_BINDINGS:
            raise HalError(f"binding count {len(bindings)} > {MAX_DISPATCH_BINDINGS}")
        words = np.array([c & 0xFFFFFFFF for (c,) in constants], np.uint32)
        refs = [(slot, buf, off, length) for _, slot, buf, off, length in bindings]
        for _, buf, _, _ in refs:
            if buf is not None:
                expect(buf, Buffer, "dispatch binding")
        cb.record("dispatch", exe, ordinal, (x & 0xFFFFFFFF, y & 0xFFFFFFFF, z & 0xFFFFFFFF),
                  words, refs)

    @staticmethod
    def cb_create(device, modes, categories, affinity, capacity):
        expect(device, Device, "command_buffer.create")
        return CommandBuffer(capacity)

    @staticmethod
    def cb_barrier(cb, source, target, flags):
        """Nothing to do: the local HAL runs commands in order."""
        expect(cb, CommandBuffer, "command_buffer.execution_barrier")

    @staticmethod
    def cb_finalize(cb):
        expect(cb, CommandBuffer, "command_buffer.finalize").finalized = True

    @staticmethod
    def cb_fill(cb, target, offset, length, target_slot, pattern, pattern_length, flags):
        expect(cb, CommandBuffer, "command_buffer.fill_buffer").record(
            "fill", (target_slot, target, offset, length), pattern, pattern_length)

    @staticmethod
    def cb_copy(cb, source_slot, target_slot, source, source_offset, target, target_offset,
                length, flags):
        expect(cb, CommandBuffer, "command_buffer.copy_buffer").record(
            "copy", (source_slot, source, source_offset, length),
            (target_slot, target, target_offset, length))

    @staticmethod
    def cb_update(cb, source, source_offset, target, target_offset, length, target_slot, flags):
        data = np.array(np.asarray(source)[source_offset:source_offset + length])
        expect(cb, CommandBuffer, "command_buffer.update_buffer").record(
            "update", data, (target_slot, target, target_offset, length))

    def provider(self) -> dict:
        dev = self.device
        def buffer_assert(buffer, message, allocator, minimum_length, memory_types, usage):
            buffer = expect(buffer, Buffer, "buffer.assert")
            if buffer.length < minimum_length:
                raise HalError(f"{string_of(message)} buffer byte length {buffer.length} less "
                               f"than expected minimum {minimum_length}")

        def buffer_load(buffer, offset, length):
            data = expect(buffer, Buffer, "buffer.load").range(offset, length)
            return int.from_bytes(bytes(data[:4]).ljust(4, b"\0"), "little", signed=True)

        def buffer_store(value, buffer, offset, length):
            data = expect(buffer, Buffer, "buffer.store").range(offset, length)
            data[:] = np.frombuffer((value & 0xFFFFFFFF).to_bytes(4, "little")[:length], np.uint8)

        def allocate(allocator, affinity, memory_types, usage, size):
            expect(allocator, Allocator, "allocator.allocate")
            return Buffer.allocate(size, 64, memory_type=memory_types, usage=usage)

        from .native import with_native_entries
        provider = with_native_entries({
            "devices.count": lambda: 1,
            "devices.get": lambda i: dev if i == 0 else None,
            "device.allocator": lambda d: expect(d, Device, "device.allocator").allocator,
            "device.query.i64": lambda d, c, k: expect(d, Device, "device.query.i64").query(
                string_of(c), string_of(k)),
            "device.queue.alloca": (NativeAlloca(self.queue_alloca, self.buffer_pool)
                                    if self.native_modes["alloca"] else self.queue_alloca),
            "device.queue.dealloca": self.queue_dealloca,
            "device.queue.execute": self.queue_execute,
            "device.queue.execute.indirect": (
                NativeExecute(self.queue_execute_indirect) if self.native_modes["execute"]
                else self.queue_execute_indirect),
            "device.queue.barrier": self.queue_barrier,
            "device.queue.fill": self.queue_fill,
            "device.queue.copy": self.queue_copy,
            "device.queue.update": self.queue_update,
            "device.queue.flush": lambda d, a: None,
            "allocator.allocate": allocate,
            "buffer.assert": buffer_assert,
            "buffer.load": buffer_load,
            "buffer.store": buffer_store,
            **buffer_exports(),
            **({"buffer_view.create": NativeViewCreate(_view_create, self.view_pool)}
               if self.native_modes["view"] else {}),
            "command_buffer.create": self.cb_create,
            "command_buffer.finalize": self.cb_finalize,
            "command_buffer.begin_debug_group": lambda cb, label: None,
            "command_buffer.end_debug_group": lambda cb: None,
            "command_buffer.execution_barrier": self.cb_barrier,
            "command_buffer.dispatch": self.cb_dispatch,
            "command_buffer.fill_buffer": self.cb_fill,
            "command_buffer.copy_buffer": self.cb_copy,
            "command_buffer.update_buffer": self.cb_update,
            "executable.create": self.executable_create,
            "executable.lookup.function": self.lookup_function,
            "fence.create": PooledCall("fence.create", "0rI_r", self.fence_pool),
            "fence.join": self.fence_join,
            "fence.await": self.fence_await,
            "fence.query": self.fence_query,
            "fence.signal": lambda f: setattr(expect(f, Fence, "fence.signal"), "signaled", True),
            "fence.fail": self.fence_fail,
        })
        if self.native_modes["command_buffer"]:
            from .command_buffer import entries
            provider.update(entries(self))
        if self.native_modes["queue"]:
            from . import native_queue
            provider.update(native_queue.entries(self))
        return provider
