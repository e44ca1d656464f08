"""`JitModule`: a compiled `.vmfb` module with the interpreter's exported functions.

Contract: `JitModule(vmfb_bytes, target="native")` parses and verifies the module (unless
given an already loaded `LoadedModule` instead of bytes), compiles every function, maps the
code read-execute and runs the module's `__init` export if it has one (as IREE does on
context registration). Exported functions are attributes (and items);
calling one checks arity and types first (`TypeError`), then runs native code; a trap raises
`TrapError` naming function and bytecode offset. Refs are returned as the objects passed in
(zero-copy) or as read-only `bytes` for rodata. Python lists pass as `!vm.list<?>` (or typed,
see runtime/lists.TypedList), are updated in place after the call, and list results come
back as Python lists.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import platform
import types
import weakref

import numpy as np

from . import hal, tiers
from .emit_x64.cpu import host_features
from .errors import SplatJitError, TrapError, UnsupportedError
from .hal.buffers import BufferView
from .hal.pools import call_steps
from .frontend.loader import LoadedModule, load_module
from .runtime import abi
from .runtime.grid import FLUSH_DENORMALS, RESET_FUEL, GridParams, run_grid_function
from .runtime.helpers import BufferHeap
from .runtime.lean_loaded import LeanLoaded
from .runtime.lists import is_list, reachable
from .runtime.imports import ImportTable, pure_imports
from .runtime.memory import ExecutableMemory
from .runtime import pyentry
from .runtime.call_claim import CallLock
from .runtime.ctarrays import array_type
from .runtime.ref_group import RefGroup
from .runtime.objects import ObjectSpace, VmBuffer
from .runtime.values import Arena, ScalarMarshaller, pack_args, results_buffer, unpack_results

#: Re-entrant, process-wide: held by every call that enters native code from Python
#: (`ExportedFunction._python_call`, `call_raw`, `run_grid`). Python imports and runtime
#: helpers called from native code may let the GIL go; this lock keeps other threads' calls
#: out until the outermost call returns. It carries the process-wide claim that a scalar
#: export's CPython builtin takes natively (runtime/call_claim.py), so builtin calls wait
#: for other threads' calls too.
CALL_LOCK = CallLock()
# Native code runs with the GIL held (PYFUNCTYPE, and the same in runtime/pyentry.py and
# runtime/grid.py): a module's Context, arena, pools and reused argument objects are shared
# by its calls, so two Python threads must never run its code at once. Python imports called
# from native code run on the calling thread, which already holds the GIL.
_NATIVE_FN = ctypes.PYFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
#: The same ABI, with args passed as a bytes object (read only) and results as a ctypes buffer.
_SCALAR_FN = ctypes.PYFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
TARGETS = ("native", "x86_64", "aarch64")
#: platform.machine() -> the ISA whose code this process can execute directly.
NATIVE_ISA = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
#: this host's ISA (None: neither of those)
_HOST_ISA = NATIVE_ISA.get(platform.machine())


def host_symbol(name: str) -> int:
    """Address of a libm / libc function in this process (what native code `blr`s to)."""
    for lib in (_LIBM, _LIBC):
        fn = getattr(lib, name, None)
        if fn is not None:
            return ctypes.cast(fn, ctypes.c_void_p).value
    raise UnsupportedError(f"no host symbol {name!r}")


@contextlib.contextmanager
def gc_paused():
    """The cycle collector off for a block (as it was before, afterwards); cycles made
    meanwhile are collected on its next run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))


def _entry_dicts(heap: BufferHeap) -> tuple[dict, dict]:
    """The dicts a native entry checks after the call (non-empty: Python finishes it)."""
    return heap.by_address, heap.lists.by_address


def _bytes_data_offset() -> int:
    """Bytes from a `bytes` object's address (id) to its data (CPython: the header)."""
    probe = b"rodata probe"
    offset = ctypes.cast(probe, ctypes.c_void_p).value - id(probe)
    if ctypes.string_at(id(probe) + offset, len(probe)) != probe:  # pragma: no cover
        raise SplatJitError("cannot locate the data of a bytes object")
    return offset


_BYTES_DATA = _bytes_data_offset()


def _closed_call(where: str):
    def call(*args):
        raise SplatJitError(f"{where}: the module was closed")
    return call


class _Lazy:
    """An attribute computed by `make(instance)` on its first read and then stored in the
    instance's `__dict__` (which later reads find first: this is a non-data descriptor);
    assigning it simply stores the value."""

    __slots__ = ("make", "name")

    def __init__(self, make):
        self.make = make

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.make(instance)
        return value


class ExportedFunction:
    """A callable export: `fn(*args) -> result | tuple | None`.

    A call goes to `_call_target` (`__call__` is its slot, read in C): the native Python
    entry of a scalar export (runtime/pyentry.py), else the bound `_python_call`.
    """

    __slots__ = ("_call_target", "__dict__", "__weakref__")

    def __init__(self, module: "JitModule", name: str, ordinal: int):
        self.module, self.name, self.ordinal = module, name, ordinal
        self.signature = signature = module.loaded.defn.signatures[ordinal]
        if module._backend is None:  # native x86-64 code in this process
            self.address = module._memory.address + module.compiled.entries[ordinal]
        self._where = f"{module.name}.{name}"
        self._scalar = scalar = ScalarMarshaller.of(signature)
        self._missing = missing = module.compiled.unsupported.get(ordinal)
        self._busy = 0
        self._raw = False  # call_raw: keep buffer views
        program = module._program
        self._program_args = hal.ProgramArgs(signature) if program else None
        self._program_results = hal.ProgramResults(signature) if program else None
        #: the results buffer of program calls, None while one runs (a re-entrant call
        #: makes its own)
        self._program_resbuf = (ctypes.create_string_buffer(self._program_results.struct.size)
                                if program else None)
        #: the program exports' packer when _python_call may take the program path at once
        #: (native x86-64 code, nothing missing; None after close)
        self._program_fast = (self._program_args if program and module._backend is None
                              and not missing else None)
        self._entry = None
        self._closed = False
        self._call_target = types.MethodType(ExportedFunction._python_call, self)
        #: whether the scalar fast paths apply (`_fastpath`, a native entry)
        self._fast = module._fast_entries and scalar is not None and not missing
        #: whether the next Python-path call first makes the native entry (`_make_entry`)
        self._entry_due = self._fast

    # Made on first use (_Lazy): most exports are called through their native entry,
    # whose stub never needs these.
    _native = _Lazy(lambda self: _NATIVE_FN(self.address))
    _scalar_native = _Lazy(lambda self: _SCALAR_FN(self.address))
    _resbuf = _Lazy(lambda self: ctypes.create_string_buffer(self._scalar.result_size))
    #: everything the fast path of _python_call touches, gathered once (the heap's dicts
    #: are only ever changed in place); None: not a fast export, or no more (close, group)
    _fastpath = _Lazy(lambda self: (
        (self._scalar.pack, self._scalar_native, self.module._context_address,
         self._resbuf, self._scalar.unpack, self.module._heap.by_address,
         self.module._heap.lists.by_address, self.module) if self._fast else None))

    def _entry_spec(self) -> tuple | None:
        """(name, signature, options) of the native entry `_make_entry` builds
        (pyentry.build_many), or None: calls stay on the Python path."""
        if not self._fast:
            return None
        m = self.module
        return (self._where, self.signature, dict(
            context=m._context_address, entry=self.address, fallback=self._call_target,
            finish=self._finish_native, depth_cell=m._depth_cell, dicts=_entry_dicts(m._heap)))

    def _make_entry(self) -> None:
        """Made at the export's first call (under CALL_LOCK): its native entry, which the
        calls after it go to; none for a closed module or one sharing memory with others
        (every call of those takes the Python path). Most exports of most modules are
        never called from Python (a kernel's run through the HAL's native dispatch), so a
        construction builds none."""
        self._entry_due = False
        if self._closed or self.module._group is not None:
            return
        (entry,) = pyentry.build_many([self._entry_spec()])
        self._use_entry(entry)

    def _use_entry(self, entry) -> None:
        """Calls go to `entry` (a pyentry.NativeEntry built from `_entry_spec`, or None:
        they stay on the Python path)."""
        if entry is not None:
            self._entry = entry
            self._call_target = entry.function

    def _python_call(self, *args):
        """The call path in Python (ctypes); native entries hand unusual calls back to it.
        Runs under CALL_LOCK: one Python-path call at a time in the process."""
        with CALL_LOCK:
            if self._entry_due:
                self._make_entry()
            return self._python_call_locked(args)

    def _python_call_locked(self, args):
        fast = self._fastpath
        if fast is not None:  # x86-64 code, only ints / floats, no fuel, not re-entered
            pack, native, ctx, resbuf, unpack, buffers, lists, m = fast
            packed = pack(args)
            if packed is not None and not self._busy:
                self._busy = 1
                m._depth += 1
                status = native(ctx, packed, resbuf)
                self._busy = 0
                m._depth -= 1
                if not (status or buffers or lists):  # nothing allocated still to release
                    if not m._depth:
                        m._heap.rewind()  # arena buffers no one outside the call saw
                    out = unpack(resbuf)
                    return None if not out else out[0] if len(out) == 1 else tuple(out)
                return self._finish_scalar(status, resbuf)
        program = self._program_fast
        if program is not None:
            packed = program.pack(args)
            if packed is not None:
                return self._call_program(*packed)
        return self._call(args)

    def _close(self) -> None:
        """The module was closed: later calls raise instead of running unmapped code."""
        self._fastpath = self._program_fast = None
        self._closed = True
        if self._entry is not None:
            self._entry.close()  # the builtin, wherever it is held, now calls the Python path
            self._entry = None
        self._call_target = _closed_call(self._where)  # and no cycle keeps the module alive

    def _finish_native(self, status: int, address: int):
        """What the native entry (runtime/pyentry.py) leaves to Python after the call: a
        trap, buffers or lists to release, several results, an f32 NaN result."""
        resbuf = (ctypes.c_char * self._scalar.result_size).from_address(address)
        heap = self.module._heap
        if status or heap.by_address or heap.lists.by_address:
            return self._finish_scalar(status, resbuf)
        return self._shape(self._scalar.unpack(resbuf))

    def _finish_scalar(self, status: int, resbuf):
        """The scalar path after the native call: trap, and release what the call allocated
        that no ref global reaches (buffers and lists the code made)."""
        m = self.module
        if status:
            m._retain_globals(Arena())
            error = m._trap(status)
            m._context.trap_code = 0
            m._context.depth_left = abi.MAX_DEPTH
            raise error
        m._retain_globals(Arena())
        return self._shape(self._scalar.unpack(resbuf))

    def _call(self, args):
        m = self.module
        if self._closed:
            raise SplatJitError(f"{self._where}: the module was closed")
        if self._missing:
            raise UnsupportedError(f"{self._where} uses {', '.join(self._missing)}, which "
                                   f"splatjit cannot compile yet")
        if m._program:
            if m._backend is None:
                packed = self._program_args.pack(args)
                if packed is not None:
                    return self._call_program(*packed)
            args = hal.to_arguments(self.signature, args)
        if m._backend is not None:  # AArch64 code under the emulator
            status, out, trap = m._backend.call(self.ordinal, list(args), self.signature)
            if status:
                raise m._trap_from(**trap)
            return self._shape(out)
        scalar = self._scalar
        packed = scalar.pack(args) if scalar is not None else None
        if packed is not None:  # fast path: no refs, every value a plain int / float
            if m.fuel is not None:
                m._context.fuel = m.fuel
            # The results buffer is reused unless this export is already running (an import
            # implemented in Python may call back into it). Every native frame restores the
            # recursion budget on its way out, traps included, so it is not reset here.
            resbuf = self._resbuf if not self._busy else ctypes.create_string_buffer(scalar.result_size)
            self._busy += 1
            m._depth += 1
            try:
                status = self._scalar_native(m._context_address, packed, resbuf)
            finally:
                self._busy -= 1
                m._depth -= 1
            heap = m._heap
            if (status or m._ref_globals_used or m._group is not None or heap.by_address
                    or heap.lists.by_address):
                return self._finish_scalar(status, resbuf)
            if not m._depth:
                heap.rewind()
            return self._shape(scalar.unpack(resbuf))
        arena = Arena()
        argbuf = pack_args(self.signature, args, arena, self._where)
        resbuf = results_buffer(self.signature)
        status = self._run_native(self._native, ctypes.addressof(argbuf), ctypes.addressof(resbuf))
        return self._finish_call(status, resbuf, arena)

    def _run_native(self, native, argbuf, resbuf) -> int:
        """`native(Context, argbuf, resbuf)` with a fresh Context (no trap report, the whole
        recursion budget, the module's fuel), counted in the module's call depth; its status."""
        m = self.module
        ctx = m._context
        ctx.trap_code = 0
        ctx.depth_left = abi.MAX_DEPTH
        fuel = m.fuel
        ctx.fuel = fuel if fuel is not None else 0
        depth = m._depth_cell
        depth.value += 1
        try:
            return native(m._context_address, argbuf, resbuf)
        finally:
            depth.value -= 1

    def _finish_call(self, status: int, resbuf, arena: Arena):
        """After `_run_native`: list arguments see the VM's changes, a trap raises, else the
        results; either way the refs the call made are released or kept (`_retain_globals`)."""
        m = self.module
        try:
            if arena.packed:
                arena.reader(m._lookup_ref).sync_arguments()
            if status:
                raise m._trap(status)
            out = unpack_results(self.signature, resbuf, arena, m._lookup_ref)
        finally:
            m._retain_globals(arena)
        return self._shape(out)

    def _call_program(self, argbuf: bytes, given: list, made: list):
        """A program export's native call with its args buffer packed by hal.ProgramArgs;
        `given`, `made`: the HostObjects it refers to (held until the call's refs are
        released). An ordinary return converts the results first (buffer views to numpy
        arrays, unless `call_raw`), then releases the call's refs (`_retain_globals`), so
        a result view nothing holds any more is not escaped for the pools (hal/pools.py),
        and hands `made` back to ProgramArgs.release; a trap, an error or results the
        general path converts leave them to their holders (or to reference counting).
        No list is packed here (ProgramArgs takes none), so no list needs syncing."""
        resbuf = self._program_resbuf
        self._program_resbuf = None
        if resbuf is None:  # re-entered from a Python import: a buffer of its own
            resbuf = ctypes.create_string_buffer(self._program_results.struct.size)
            mine = False
        else:
            mine = True
        try:
            status = self._run_native(self._scalar_native, argbuf, resbuf)
            out = None if status else self._program_results.unpack(resbuf)
            if out is None:  # a trap, or results the general path converts
                return self._finish_call(status, resbuf, _arena_of(given, made))
            try:
                if not self._raw:  # as _shape: buffer views become numpy arrays
                    out = [v.to_array() if isinstance(v, BufferView) else v for v in out]
            finally:
                self.module._retain_globals(_arena_of(given, made))
        finally:
            if mine:
                self._program_resbuf = resbuf
        if made:
            self._program_args.release(made)
        return None if not out else out[0] if len(out) == 1 else tuple(out)

    def run_grid(self, args: list, id_index: int, grid, flush_denormals: bool = False) -> None:
        """Calls this function once per point of `grid` (x fastest), with `args[id_index:
        id_index + 3]` set to the point; arguments are packed once. x86-64: one native loop
        over the grid (runtime/grid.py), each call with a fresh fuel budget; with
        `flush_denormals`, under MXCSR FTZ|DAZ as IREE's HAL runs dispatches. Other
        targets: one ordinary call per point (AArch64 under Unicorn: FPCR.FZ likewise)."""
        with CALL_LOCK:
            self._run_grid_locked(args, id_index, grid, flush_denormals)

    def _run_grid_locked(self, args: list, id_index: int, grid, flush_denormals: bool) -> None:
        if self._closed:
            raise SplatJitError(f"{self._where}: the module was closed")
        cx, cy, cz = grid
        m = self.module
        if m.target != "x86_64" or m._backend is not None or self._missing:
            backend = m._backend
            if backend is not None:
                backend.flush_denormals = flush_denormals
            try:
                for z in range(cz):
                    for y in range(cy):
                        for x in range(cx):
                            args[id_index:id_index + 3] = (x, y, z)
                            self(*args)
            finally:
                if backend is not None:
                    backend.flush_denormals = False
            return
        arena = Arena()
        argbuf = pack_args(self.signature, args, arena, self._where)
        resbuf = results_buffer(self.signature)
        ids = (ctypes.c_int32 * 3).from_buffer(argbuf, abi.cconv_layout(list(self.signature.args))[0][id_index])
        flags = (FLUSH_DENORMALS if flush_denormals else 0) | (RESET_FUEL if m.fuel is not None else 0)
        params = GridParams((ctypes.c_uint32 * 3)(cx, cy, cz), flags, m.fuel or 0)
        ctx = m._context
        ctx.trap_code = 0
        ctx.depth_left = abi.MAX_DEPTH
        m._depth += 1
        try:
            status = run_grid_function()(ctypes.addressof(ctx), ctypes.addressof(argbuf),
                                         ctypes.addressof(resbuf), self.address,
                                         ctypes.addressof(params), ctypes.addressof(ids))
            if status:
                raise m._trap(status)
        finally:
            m._depth -= 1
            m._retain_globals(arena)

    def call_raw(self, *args) -> list:
        """The results as a list, program buffer views left as `hal.BufferView`s."""
        with CALL_LOCK:
            self._raw = True
            try:
                out = self(*args)
            finally:
                self._raw = False
        return [] if out is None else list(out) if isinstance(out, tuple) else [out]

    def _shape(self, out: list):
        """None, one value or a tuple, like the interpreter's bindings; programs' buffer
        views become numpy arrays."""
        if self.module._program and not self._raw:
            out = [hal.to_result(v) for v in out]
        return None if not out else out[0] if len(out) == 1 else tuple(out)

    def __repr__(self):
        return f"<export {self._where}{self.signature.describe()}>"


ExportedFunction.__call__ = ExportedFunction.__dict__["_call_target"]


class ExportTable:
    """A module's exports by name (a read-only mapping): each `ExportedFunction` is made
    at its first lookup, as most exports are never looked up from Python (a kernel's are
    run by native HAL dispatch, a provider's called natively by its importers). `made`:
    those made so far, by name. Names and order are those of the module's export list
    (a repeated name: its last export)."""

    __slots__ = ("_module", "_ordinals", "made")

    def __init__(self, module: "JitModule", exports):
        self._module = module
        self._ordinals = {e.name: e.ordinal for e in exports}
        self.made: dict[str, ExportedFunction] = {}

    def get(self, name: str, default=None):
        export = self.made.get(name)
        if export is None:
            ordinal = self._ordinals.get(name)
            if ordinal is None:
                return default
            export = self.made[name] = ExportedFunction(self._module, name, ordinal)
        return export

    def __getitem__(self, name: str) -> ExportedFunction:
        export = self.get(name)
        if export is None:
            raise KeyError(name)
        return export

    def __contains__(self, name) -> bool:
        return name in self._ordinals

    def __iter__(self):
        return iter(self._ordinals)

    def __len__(self) -> int:
        return len(self._ordinals)

    def keys(self):
        return self._ordinals.keys()

    def values(self) -> list[ExportedFunction]:
        return [self[name] for name in self._ordinals]

    def items(self) -> list[tuple[str, ExportedFunction]]:
        return [(name, self[name]) for name in self._ordinals]


#: a closed module's exports (none; it holds no module, so closing leaves no cycle)
_NO_EXPORTS = ExportTable(None, ())


def _arena_of(given: list, made: list) -> Arena:
    """An Arena holding a program call's argument objects (`given` HostObjects, `made`
    (position, view) pairs), as pack_args would have."""
    arena = Arena()
    by_address = arena.by_address
    for obj in given:
        by_address[obj.ref_address] = (obj, obj)
    for _, view in made:
        by_address[view.ref_address] = (view, view)
    return arena


class JitModule:
    _collect_steps: list = []
    _after_steps: list = []

    def __init__(self, vmfb_bytes, target: str = "native", imports=None, features=None,
                 fuel: int | None = None, tier: str | None = None):
        """`fuel`: if set, each call may run at most this many loop iterations + calls, then
        traps (TrapError, "fuel exhausted"); code is compiled with the checks only then.
        `tier`: which x86-64 compiler makes the code (`tiers.TIERS`; None: `SPLATJIT_TIER`,
        else "optimizing"); the program's executables are compiled with the same tier."""
        self.fuel = fuel
        self.tier = tiers.resolve(tier)
        if target not in TARGETS:
            raise UnsupportedError(f"target {target!r}: this build runs {', '.join(TARGETS)}")
        native_isa = _HOST_ISA
        self.target = native_isa if target == "native" else target
        if features is None and self.target == "x86_64":
            # the host's, read once: the program's executables and later recompiles
            # (tier-up, OSR, the listing's) compile for the same set
            features = host_features()
        # Loading and compiling make ~10^5 short-lived, acyclic objects: with the cycle
        # collector running, its passes over the older heap cost a third of the time.
        with gc_paused():
            #: a module loaded here drops its functions' IR once built (runtime/lean_loaded.py)
            self.loaded: LoadedModule = (vmfb_bytes if isinstance(vmfb_bytes, LoadedModule)
                                         else LeanLoaded(load_module(vmfb_bytes)))
            self.name = self.loaded.name
            self._program = hal.is_program(self.loaded.defn)
            if self._program:  # a whole program: serve its HAL imports, take numpy arrays
                rodata = self.loaded.defn.rodata
                nested = {rodata[e.rodata_ordinal].data: e.module for e in self.loaded.executables}
                imports = hal.default_providers(self.loaded.defn, imports, target=target,
                                                features=features, fuel=fuel, executables=nested,
                                                tier=self.tier)
            self._backend = None
            self._memory = None
            #: whether scalar exports may take the fast paths (`_entries_allowed`)
            self._fast_entries = False
            #: the RefGroup this module shares memory with (runtime/ref_group.py), if any
            self._group = None
            #: calls of this module's exports now running (Python imports re-enter); a C
            #: int64 so native entries (runtime/pyentry.py) count themselves too
            self._depth_cell = ctypes.c_int64(0)
            #: objects that call this module's code natively (`link`; a WeakSet once one does)
            self._holders = None
            if self.target == native_isa:  # this host's own ISA: map the code and call it
                self._objects = ObjectSpace()
                self._imports = ImportTable(self.loaded.defn, imports, self._objects,
                                            native_code=self.target == "x86_64")
                pure = self._imports.pure
                for hook in self._imports.hooks:
                    hook.bind(self)
                for provider in self._imports.modules:
                    provider.link(self)
                #: what the import hooks do after an outermost call, once per pool
                #: (hal/pools.py): steps before the ObjectSpace collects, and after
                self._collect_steps, self._after_steps = call_steps(
                    self._imports.hooks)
                if native_isa == "aarch64":
                    from .emit_a64.lower import compile_module as compile_a64
                    self.compiled = compile_a64(self.loaded, fuel=fuel is not None,
                                                resolve=host_symbol, pure=pure)
                else:
                    self.compiled = tiers.compile_x64(self.tier, self.loaded, features,
                                                      fuel=fuel is not None,
                                                      imports=self._imports.targets(), pure=pure)
                self._build_context()
                self._fast_entries = self._entries_allowed()
                self._memory = ExecutableMemory(
                    self.compiled.code, lambda: self.compiled.symbols(self.loaded))
            elif self.target == "aarch64":
                # AArch64 code on another host runs under Unicorn (runtime/a64_backend.py);
                # providers must be aarch64 JitModules or dicts of callables.
                from .emit_a64.lower import compile_module as compile_a64
                from .runtime.a64_backend import A64Backend
                self.compiled = compile_a64(self.loaded, fuel=fuel is not None,
                                            pure=pure_imports(self.loaded.defn, imports))
                providers = {n: (p._backend if isinstance(p, JitModule) else p)
                             for n, p in (imports or {}).items()}
                self._backend = A64Backend(self.loaded, self.compiled, fuel=fuel, imports=providers)
            else:
                raise UnsupportedError(f"{self.target} code cannot run on a {platform.machine()} host")
            self._exports = ExportTable(self, self.loaded.defn.exports)
            if self._backend is None and self._memory is not None:
                for provider in self._imports.ref_modules:
                    RefGroup.join(self, provider)
            if self._backend is None and isinstance(self.loaded, LeanLoaded):
                self.loaded.forget()  # before the collector runs again
        init = self._exports.get("__init")
        if init is not None and not init.signature.args:
            init()

    def _entries_allowed(self) -> bool:
        """Whether scalar exports may take the fast paths (the Python one and a native
        entry): native x86-64 code in this process, no fuel, no program, no ref globals."""
        return (self._backend is None and not self._program and self.fuel is None
                and not self._ref_globals_used)

    def _build_context(self) -> None:
        d = self.loaded.defn
        self._globals = array_type(ctypes.c_uint8, max(d.global_bytes, 8))()
        self._ref_globals = array_type(ctypes.c_uint64, max(d.global_refs, 1))()
        #: x86-64 hosts: vm.buffer.alloc / clone served natively (runtime/native_arena.py);
        #: without ref globals no one else can keep a returned buffer: results are copies
        self._heap = BufferHeap(native=_HOST_ISA == "x86_64")
        self._heap.copy_results = not d.global_refs
        #: argument buffers/lists ref globals still reach; always this one dict (changed in
        #: place: hal/execute.py's native code reads whether it is empty)
        self._pinned: dict[int, tuple] = {}
        self._build_rodata(d.rodata)
        self._context = abi.Context(
            depth_left=abi.MAX_DEPTH, globals=ctypes.addressof(self._globals),
            global_bytes=d.global_bytes, ref_globals=ctypes.addressof(self._ref_globals),
            rodata=ctypes.addressof(self._rodata), helpers=ctypes.addressof(self._heap.table),
            imports=self._imports.address)
        self._context_address = ctypes.addressof(self._context)
        self._ref_globals_used = d.global_refs > 0
        #: _live_refs' last answer, and the ref globals' bytes it holds for (None: recompute)
        self._live, self._live_key = frozenset(), None
        #: (the live set ObjectSpace.collect last kept, how many objects it then held)
        self._collected = (None, 0)

    def _build_rodata(self, segments) -> None:
        """`_rodata`: a read-only BufferDesc per rodata segment (access 0: the code's stores
        trap), pointing into the segment's own `bytes` (immutable, kept alive by `loaded`;
        data 16-byte aligned like any CPython object's) or, for any other buffer type, into
        a copy held in `_rodata_copies`; `_rodata_objects`: descriptor address -> the
        segment's data (what a returned rodata ref becomes)."""
        n = len(segments)
        self._rodata = descs = array_type(abi.BufferDesc, max(n, 1))()
        base, size = ctypes.addressof(descs), abi.BUF_SIZE
        self._rodata_objects = objects = {}
        copies = []
        for i, seg in enumerate(segments):
            data = seg.data
            if type(data) is bytes:
                address = id(data) + _BYTES_DATA
            else:
                copies.append(ctypes.create_string_buffer(bytes(data), max(len(data), 1)))
                address = ctypes.addressof(copies[-1])
            descs[i] = abi.BufferDesc(address, len(data), 0, abi.TYPE_BUFFER)
            objects[base + i * size] = data
        self._rodata_copies = copies

    @property
    def _depth(self) -> int:
        return self._depth_cell.value

    @_depth.setter
    def _depth(self, value: int) -> None:
        self._depth_cell.value = value

    def _retain_globals(self, arena: Arena) -> None:
        """After a call, keeps alive exactly what ref globals still reach (through lists too):
        caller buffers/lists stored into a global (their descriptors would otherwise die with
        the call's arena) and module-allocated ones; everything else is released. In a
        RefGroup, what any member's ref globals reach, in every member (runtime/ref_group.py)."""
        group = self._group
        if self._depth_cell.value or (group is not None and group.busy()):
            # an outer call (of this module, or of a member) is running: it holds more refs
            self._pinned.update(arena.by_address)
            return
        if group is None:
            self._collect(arena)
            return
        live = group.live()
        for member in group.members():
            member._collect(arena if member is self else Arena(), live)

    def _join_group(self, group: RefGroup) -> None:
        """Becomes a member of `group`: every call now ends in a collection (the fast paths
        and builtin entries, which would rewind the arena, go to the Python path), and
        returned buffers are views, as another member may still write them."""
        self._group = group
        self._heap.copy_results = False
        self._fast_entries = False  # (for exports made from now on)
        for export in self._exports.made.values():
            export._fastpath = None
            if export._entry is not None:
                export._entry.divert()

    def _collect(self, arena: Arena, live: frozenset[int] | None = None) -> None:
        """`_retain_globals` for this module alone, keeping what `live` (default: what its
        own ref globals reach) holds."""
        if live is None and not self._ref_globals_used:  # nothing outlives the call
            for step in self._collect_steps:
                step(frozenset())
            self._pinned.clear()
            self._objects.collect(set())  # first: a dropped object may hold an arena view
            self._heap.clear()
            for step in self._after_steps:
                step(set())
            return
        if live is None:
            live = self._live_refs()
        for step in self._collect_steps:
            step(live)
        pinned = self._pinned
        for a, entry in arena.by_address.items():
            if a in live:
                pinned[a] = entry
        if pinned:
            for a in [a for a in pinned if a not in live]:
                del pinned[a]
        held = self._objects.held
        if live is not self._collected[0] or len(held) != self._collected[1]:
            # first: a dropped object may hold an arena view (else: it holds exactly these
            # live objects already)
            self._objects.collect(live)
            self._collected = (live, len(held))
        heap = self._heap
        if heap.dirty():
            heap.collect(live)
        for step in self._after_steps:
            step(live)

    @functools.cached_property
    def _ref_globals_values(self) -> np.ndarray:
        """The ref globals as a uint64 array (a view: reads see what the code stored)."""
        return np.frombuffer(self._ref_globals, np.uint64)

    def _live_refs(self) -> frozenset[int]:
        """The refs ref globals reach now (through lists too). The last answer is reused
        while the ref globals hold the same addresses and it has no list (elements of a
        list can change while every global stays the same): each of those addresses is
        still the object it was, as something holds every live object between calls."""
        key = self._ref_globals_values.tobytes()
        if key == self._live_key:
            return self._live
        live = frozenset(reachable(a for a in self._ref_globals_values.tolist() if a))
        self._live = live
        self._live_key = None if any(is_list(a) for a in live) else key
        return live

    def _lookup_ref(self, address: int):
        """The Python object for a BufferDesc* the code returned (rodata, or a new buffer),
        in a RefGroup possibly another member's."""
        if self._group is not None:
            return self._group.lookup(address, self)
        return self._lookup_own(address)

    def _lookup_own(self, address: int):
        """`_lookup_ref` among this module's own objects and memory (None if unknown)."""
        if address in self._rodata_objects:
            return self._rodata_objects[address]
        if address in self._pinned:
            return self._pinned[address][1]
        obj = self._objects.get(address)
        if obj is not None:  # made by a Python import; a plain buffer comes back as its array
            return obj.array if isinstance(obj, VmBuffer) else obj
        return self._heap.lookup(address)

    def _trap(self, status: int) -> TrapError:
        """The TrapError for the x86-64 Context's trap report."""
        ctx = self._context
        return self._trap_from(ctx.trap_code, ctx.trap_offset, ctx.trap_function, ctx.trap_status)

    def _import_failure(self):
        """What made an import fail: a Python exception, or a provider module's trap."""
        if self._backend is not None:
            return self._backend.import_errors.pop() if self._backend.import_errors else None
        cause = self._imports.errors.pop() if self._imports.errors else None
        for provider in self._imports.modules:
            if provider._context.trap_code:
                cause = provider._trap(provider._context.trap_code)
                provider._context.trap_code = 0
                provider._context.depth_left = abi.MAX_DEPTH
        return cause

    def _trap_from(self, trap_code: int, trap_offset: int, trap_function: int,
                   trap_status: int) -> TrapError:
        """A TrapError naming `module.function+0xOFFSET` for a trap report (either target)."""
        offset = trap_offset
        fns = self.loaded.functions
        fn = fns[trap_function] if 0 <= trap_function < len(fns) else None
        message = abi.TRAP_MESSAGES.get(trap_code, f"trap {trap_code}")
        if trap_code == abi.TRAP_IMPORT:
            cause = self._import_failure()
            if cause is not None:
                message = f"imported function failed: {cause!r}"
        elif trap_code == abi.TRAP_FAIL and fn is not None:
            ins = next((i for i in fn.instrs() if i.offset == offset), None)
            text = ins.args.get("message", "") if ins is not None else ""
            message = f"vm.fail (status {trap_status}): {text}"
            if trap_status == 0:  # only reachable as the function's last op
                message = (f"vm.fail with status 0 ends the function (the interpreter would run "
                           f"off the end of its bytecode): {text}")
        elif trap_code == abi.TRAP_STACK:
            offset = None
        name = f"{self.name}.{fn.name}" if fn is not None else self.name
        return TrapError(message, function=name, offset=offset, status=trap_code)

    # ------------------------------------------------------------------ exports
    @property
    def exports(self) -> dict[str, str]:
        """Export name -> signature text."""
        return {n: f.signature.describe() for n, f in self._exports.items()}

    def __getitem__(self, name: str) -> ExportedFunction:
        try:
            return self._exports[name]
        except KeyError:
            raise KeyError(f"{self.name} has no export {name!r}; exports: "
                           f"{', '.join(self._exports)}") from None

    def __getattr__(self, name: str) -> ExportedFunction:
        exports = self.__dict__.get("_exports")
        export = exports.get(name) if exports is not None else None
        if export is None:
            raise AttributeError(name)
        if name.isidentifier() and not name.startswith("_"):  # m.name: next time a plain
            self.__dict__[name] = export                         # attribute lookup
        return export

    def __dir__(self):
        return list(super().__dir__()) + list(self.__dict__.get("_exports", {}))

    def link(self, holder) -> None:
        """Records that `holder` (a module importing this one, a HAL holding its executable)
        calls this module's code natively: while `holder` lives, `close()` leaves the code
        mapped (it is unmapped when this module is collected, which the holder delays)."""
        if self._holders is None:
            self._holders = weakref.WeakSet()
        self._holders.add(holder)

    def close(self) -> None:
        """Drops the exports, which refer back to the module: a closed module is freed as
        soon as nothing else refers to it, not when the cycle collector next runs. Exports
        taken before raise `SplatJitError` when called. The code is unmapped now unless a
        live holder (`link`) still calls it natively; then when the module is collected.
        A native entry (builtin) held elsewhere keeps the mapping its stub lies in (a
        lease, runtime/pyentry.py) until it goes; closed, it only calls the Python path.
        Closing a module while one of its calls runs (from a Python import) raises."""
        if self._depth_cell.value:
            raise SplatJitError(f"module {self.name}: cannot close it while one of its calls "
                                f"is running")
        d = self.__dict__
        for name, export in self._exports.made.items():
            export._close()  # first: entries no one else holds drop their leases
            if d.get(name) is export:
                del d[name]
        self._exports = _NO_EXPORTS
        if self._memory is not None and not self._holders:
            self._memory.close()
