"""Import resolution: each import of a module gets a native entry and the Context to call it with.

Providers (by imported module name, the part of `module.function` before the first dot):
  * a `JitModule`: its export is called natively with the provider's own Context;
  * a mapping of function name -> Python callable: called through a ctypes trampoline that
    speaks the native ABI (args/results buffers in calling-convention layout; variadic spans
    arrive as lists of tuples; refs as HostObjects or numpy views, see `python_trampoline`).
    For callables with a `native_code(fallback, signature)` or `native_entry(fallback,
    signature)` builder (intrinsics/native_x64, hal/native, hal/pools), when the code is
    x86-64 in this process, the import is a native fast path that falls back to the
    trampoline; a builder may decline (None) for a signature it does not read. Entries
    given as code share one mapping per table.
Contract: `ImportTable(defn, providers)` raises `LinkError` for a missing required import or
a signature mismatch; optional imports without a provider get a null entry
(`vm.import.resolved` reads 0). Exceptions raised by Python callables are kept in `errors`
and the call reports TRAP_IMPORT.
"""
from __future__ import annotations

import ctypes
import struct
import types

import numpy as np

from ..errors import LinkError
from ..frontend.cconv import Signature
from ..frontend.schema import ModuleDef
from . import abi
from .ctarrays import array_type
from .memory import ExecutableMemory
from .native_arena import import_view
from .objects import HostObject, ObjectSpace, VmBuffer

NATIVE_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


_DESC = struct.Struct("<QQII")
_DESC_BYTES = ctypes.c_char * abi.BUF_SIZE
#: (descriptor address, data, length, access) -> the numpy view `_buffer_view` made for it;
#: the same four values describe the same bytes, so the view can be handed out again
_VIEWS: dict[tuple, np.ndarray] = {}
_MAX_VIEWS = 1024


def _buffer_view(address: int, desc: tuple):
    """A zero-copy uint8 numpy view of the buffer a BufferDesc* describes (`desc`: its
    fields as read)."""
    key = (address, *desc[:3])
    arr = _VIEWS.get(key)
    if arr is None:
        data, length, access, _ = desc
        if not length:
            arr = np.zeros(0, np.uint8)
        else:
            arr = np.frombuffer(array_type(ctypes.c_uint8, length).from_address(data), np.uint8)
            arr.flags.writeable = bool(access & abi.ACCESS_MUTABLE)
        if len(_VIEWS) >= _MAX_VIEWS:
            _VIEWS.clear()
        _VIEWS[key] = arr
    return arr


def ref_to_python(address: int, space: ObjectSpace):
    """An import's ref argument: None, the HostObject behind it, or a numpy view of a buffer."""
    if not address:
        return None
    obj = space.get(address)
    if obj is not None:  # a Python-made `!vm.buffer` arrives like any buffer: a numpy view
        return obj.array if isinstance(obj, VmBuffer) else obj
    desc = _DESC.unpack(_DESC_BYTES.from_address(address).raw)
    if desc[3] == abi.TYPE_BUFFER:
        view = import_view(address)  # a buffer of a native arena: a view that keeps its chunk
        return _buffer_view(address, desc) if view is None else view
    raise TypeError(f"ref {address:#x} of type tag {desc[3]} cannot be passed to a Python "
                    f"import")


def ref_to_native(value, space: ObjectSpace) -> int:
    """An import's ref result: None -> 0, a HostObject (held by `space`), or a buffer (numpy
    array / bytearray, wrapped zero-copy in a VmBuffer)."""
    if value is None:
        return 0
    if not isinstance(value, HostObject):
        if isinstance(value, (bytearray, bytes, memoryview)):
            value = VmBuffer(np.frombuffer(value, np.uint8), mutable=not isinstance(value, bytes))
        elif isinstance(value, np.ndarray):
            value = VmBuffer(value)
        else:
            raise TypeError(f"an import returned {type(value).__name__} for a ref result")
    return space.hold(value)


_RESULT_CODE = {"i32": "I", "i64": "Q", "f32": "f", "f64": "d", "ref": "Q"}
_MASK = {"i32": 0xFFFFFFFF, "i64": (1 << 64) - 1}


#: result types -> (pack, the ctypes char array type of the results buffer): one per
#: signature, shared by every trampoline that returns those types
_RESULT_LAYOUTS: dict[tuple, tuple] = {}


def _result_layout(res_types: tuple) -> tuple:
    found = _RESULT_LAYOUTS.get(res_types)
    if found is None:
        st, size = abi.layout_struct(res_types, codes=_RESULT_CODE)
        if len(_RESULT_LAYOUTS) >= 1 << 10:
            _RESULT_LAYOUTS.clear()
        found = _RESULT_LAYOUTS[res_types] = (st.pack, array_type(ctypes.c_char, size))
    return found


#: result types -> `_result_writer`'s answer (shared by every table; bounded)
_WRITERS: dict[tuple, object] = {}


def _result_writer(res_types):
    """`store(results_ptr, out, space)` for a callable's return value `out` (one value, or
    an iterable of them for several results; refs go into ObjectSpace `space`), or None
    when there are no results. Made once per result types."""
    res_types = tuple(res_types)
    store = _WRITERS.get(res_types, False)
    if store is False:
        if len(_WRITERS) >= 1 << 10:
            _WRITERS.clear()
        store = _WRITERS[res_types] = _make_writer(res_types)
    return store


def _make_writer(res_types: tuple):
    n = len(res_types)
    if not n:
        return None
    pack, raw = _result_layout(res_types)
    if n == 1:
        t = res_types[0]
        if t == "ref":
            def store(results_ptr, out, space):
                raw.from_address(results_ptr).raw = pack(ref_to_native(out, space))
        elif t in _MASK:
            mask = _MASK[t]

            def store(results_ptr, out, space):
                raw.from_address(results_ptr).raw = pack(int(out) & mask)
        else:
            def store(results_ptr, out, space):
                raw.from_address(results_ptr).raw = pack(float(out))
        return store
    #: per result: 0 a ref, else its int mask, or None for a float
    kinds = [0 if t == "ref" else _MASK.get(t) for t in res_types]

    def store(results_ptr, out, space):
        outs = tuple(out)
        if len(outs) != n:
            raise TypeError(f"import returned {len(outs)} values, expected {n}")
        raw.from_address(results_ptr).raw = pack(*[
            ref_to_native(v, space) if k == 0 else float(v) if k is None else int(v) & k
            for k, v in zip(kinds, outs)])
    return store


def _to_python(space: ObjectSpace):
    """`ref(address)` for the import arguments of a module with ObjectSpace `space`."""
    held = space.held  # the common case first: an object this module was handed

    def to_python(address):
        obj = held.get(address)
        if obj is None:
            return ref_to_python(address, space)
        return obj.array if isinstance(obj, VmBuffer) else obj
    return to_python


class _Slot:
    """A native-ABI entry point made once per process and lent to one import at a time:
    it calls `target` = (fn, read, to_python, store, space, errors) as `python_trampoline`'s
    entry does; None while no table holds it (a call then reports TRAP_IMPORT)."""
    __slots__ = ("target", "native", "address")


#: slots no import table holds (ImportTable gives its slots back when it goes)
_FREE_SLOTS: list[_Slot] = []
MAX_FREE_SLOTS = 1 << 12


def _call(target: tuple, args_ptr: int, results_ptr: int) -> int:
    """A Python import's call from native code: `target` = (fn, read the arguments, the
    table's ref reader (`_to_python`), store the results or None, the table's ObjectSpace,
    its error list); 0, or TRAP_IMPORT with the exception kept in the error list
    (re-raised in Python)."""
    fn, read, to_python, store, space, errors = target
    try:
        out = fn(*read(args_ptr, to_python))
        if store is not None:
            store(results_ptr, out, space)
        return 0
    except BaseException as e:  # noqa: BLE001 - reported as a trap, re-raised in Python
        errors.append(e)
        return abi.TRAP_IMPORT


def _make_slot() -> _Slot:
    slot = _Slot()
    slot.target = None

    def entry(ctx, args_ptr, results_ptr):
        target = slot.target
        if target is None:
            return abi.TRAP_IMPORT
        return _call(target, args_ptr, results_ptr)

    slot.native = NATIVE_FN(entry)
    slot.address = abi.function_address(slot.native)
    return slot


def _give_back(slots: list[_Slot]) -> None:
    """The slots of a table that is going: free for the next table."""
    for slot in slots:
        slot.target = None
    room = MAX_FREE_SLOTS - len(_FREE_SLOTS)
    _FREE_SLOTS.extend(slots[:max(room, 0)])
    slots.clear()


def python_trampoline(sig: Signature, fn, errors: list, keep: list, space: ObjectSpace,
                      to_python=None, slots: list | None = None):
    """A native-ABI entry point that calls `fn(*args)` and stores its result(s).

    Arguments follow `sig`: scalars as Python numbers, refs via `ref_to_python`, a variadic
    span as a list of tuples (one tuple per element, in the span's types). Integer results
    wrap to their width; ref results go through `ref_to_native`. Argument readers and
    result writers depend only on the types (made once per process); `to_python`: the
    ref reader of `space` (`_to_python`) the trampolines of one table share, None: made
    here. `slots`: the entry point is a slot lent from the process's free slots and listed
    there (the caller gives them back with `_give_back` once no code can call them),
    instead of a new callback in `keep`."""
    if to_python is None:
        to_python = _to_python(space)
    target = (fn, abi.args_decoder(sig.args).reader(), to_python,
              _result_writer(sig.results), space, errors)

    if slots is not None:
        slot = _FREE_SLOTS.pop() if _FREE_SLOTS else _make_slot()
        slot.target = target
        slots.append(slot)
        return slot.address

    def entry(ctx, args_ptr, results_ptr):
        return _call(target, args_ptr, results_ptr)

    native = NATIVE_FN(entry)
    keep.append(native)
    return abi.function_address(native)


def _attributes_of(fn):
    """Where `fn`'s own attributes (a provider's hooks and builders: `pure`, `after_call`,
    `native_code`, `native_entry`) are looked up: a bound method forwards them to its
    function, so that is asked directly (a miss on the method costs an exception)."""
    return fn.__func__ if type(fn) is types.MethodType else fn


def _hooks_of(fn) -> tuple:
    """(whether it has `after_call`, its `pure`, `native_code`, `native_entry`; None where
    absent) of a provider's callable `fn`, as `_attributes_of(fn)` carries them. A plain
    function keeps its own in its `__dict__`, read directly (a missed attribute costs an
    exception each)."""
    attrs = _attributes_of(fn)
    if type(attrs) is types.FunctionType:
        get = attrs.__dict__.get
        return ("after_call" in attrs.__dict__, get("pure"), get("native_code"),
                get("native_entry"))
    return (hasattr(attrs, "after_call"), getattr(attrs, "pure", None),
            getattr(attrs, "native_code", None), getattr(attrs, "native_entry", None))


def pure_imports(defn: ModuleDef, providers: dict | None) -> dict:
    """Import ordinal -> callable, for each import served by a Python callable of a dict
    provider marked `pure = True` (deterministic, no side effects, ints in and out: the
    compiler may call it with constant operands, see constant_folding.py). The emulated
    AArch64 path's answer; a native module's ImportTable finds the same (`pure`) while it
    links the imports."""
    out = {}
    for i, imp in enumerate(defn.imports):
        modname, _, fname = imp.name.partition(".")
        provider = (providers or {}).get(modname)
        fn = provider.get(fname) if isinstance(provider, dict) else None
        if fn is not None and _hooks_of(fn)[1] is True:
            out[i] = fn
    return out


_JIT_MODULE: list = []


def _jit_module_class():
    """module.JitModule (imported on first use: module.py imports this module)."""
    if not _JIT_MODULE:
        from ..module import JitModule
        _JIT_MODULE.append(JitModule)
    return _JIT_MODULE[0]


#: native entries given as code start at a multiple of this in their shared mapping: their
#: own alignment directives and constant pools (at most 64 bytes) stay aligned
ENTRY_ALIGN = 64


class ImportTable:
    """The import table of one module (`entries`: abi.ImportEntry per import ordinal) and
    everything it points at. A provider's callable may carry native x86-64 code for the
    import: `native_code(fallback, signature) -> bytes | None` (position independent, all
    entries of a table share one mapping) or `native_entry(fallback, signature) ->
    (address, mapping) | None`; either falls back to the Python trampoline at `fallback`."""

    def __init__(self, defn: ModuleDef, providers: dict | None, space: ObjectSpace | None = None,
                 native_code: bool = False):
        """`native_code`: the importing module runs x86-64 code in this process, so
        providers' `native_entry` builders (intrinsics/native_x64.py) may be used."""
        JitModule = _jit_module_class()
        providers = providers or {}
        n = len(defn.imports)
        self.entries = array_type(abi.ImportEntry, max(n, 1))()
        #: the entries as u64 words (entry, Context) per import: filled through this
        words = self._words = memoryview(self.entries).cast("B").cast("Q")
        self.errors: list[BaseException] = []
        self.keep: list = []  # providers and callbacks that must outlive the table
        self.modules: list = []
        #: providers linked through an import whose arguments or results include refs
        #: (their memory and the importer's can reach each other: runtime/ref_group.py)
        self.ref_modules: list = []
        #: providers' callables with `bind(module)` / `after_call(live)` hooks (hal/pools.py)
        self.hooks: list = []
        #: `pure_imports`' answer for this table's imports (found while linking them)
        self.pure: dict = {}
        self.space = space if space is not None else ObjectSpace()
        #: the trampoline slots this table's Python imports use (given back in __del__:
        #: the module whose code calls them holds this table as long as it can run)
        self._slots: list[_Slot] = []
        pieces: list[tuple[int, bytes, str]] = []
        to_python = None  # the trampolines' ref reader (`_to_python`), once one needs it
        for i, imp in enumerate(defn.imports):
            modname, _, fname = imp.name.partition(".")
            provider = providers.get(modname)
            if provider is None:
                if imp.optional:
                    continue
                raise LinkError(f"import {imp.name}{imp.signature.describe()} has no provider: pass "
                                f"imports={{{modname!r}: JitModule or {{{fname!r}: callable}}}}")
            if isinstance(provider, JitModule):
                export = provider._exports.get(fname)
                if export is None:
                    raise LinkError(f"import {imp.name}: module {provider.name} has no export {fname!r}")
                if (export.signature.args, export.signature.results) != (imp.signature.args,
                                                                        imp.signature.results):
                    raise LinkError(f"import {imp.name}{imp.signature.describe()} does not match "
                                    f"{provider.name}.{fname}{export.signature.describe()}")
                words[2 * i], words[2 * i + 1] = export.address, provider._context_address
                self.keep.append(provider)
                self.modules.append(provider)
                if "ref" in imp.signature.args or "ref" in imp.signature.results:
                    self.ref_modules.append(provider)
            else:
                fn = provider.get(fname) if hasattr(provider, "get") else None
                if fn is None or not callable(fn):
                    raise LinkError(f"import {imp.name}: provider {modname!r} has no callable {fname!r}")
                if to_python is None:
                    to_python = _to_python(self.space)
                entry = python_trampoline(imp.signature, fn, self.errors, self.keep, self.space,
                                           to_python, self._slots)
                after_call, pure, code_of, native = _hooks_of(fn)
                if after_call and fn not in self.hooks:
                    self.hooks.append(fn)
                if pure is True and isinstance(provider, dict):
                    self.pure[i] = fn
                if native_code:  # machine code first, Python behind it
                    code = code_of(entry, imp.signature) if code_of is not None else None
                    if code is not None:  # mapped below, with the table's other entries
                        pieces.append((i, code, imp.name))
                        continue
                    built = native(entry, imp.signature) if native is not None else None
                    if built is not None:
                        entry, memory = built
                        self.keep.append(memory)
                words[2 * i] = entry  # (its Context: 0)
        if pieces:
            self._map_entries(pieces)

    def __del__(self):
        try:
            _give_back(self._slots)
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing calls them any more
            pass

    def _map_entries(self, pieces: list[tuple[int, bytes, str]]) -> None:
        """Maps the native entries given as code (import ordinal, position-independent
        bytes, import name for the perf map) in one executable mapping, each at a multiple
        of ENTRY_ALIGN, and points their table entries at them; the table keeps the
        mapping."""
        blob, starts, symbols = bytearray(), [], []
        for _, code, name in pieces:
            blob += b"\xcc" * (-len(blob) % ENTRY_ALIGN)  # int3 between entries
            starts.append(len(blob))
            symbols.append((len(blob), len(code), f"splatjit:{name}"))
            blob += code
        memory = ExecutableMemory(bytes(blob), symbols)
        self.keep.append(memory)
        words = self._words
        for (i, _, _), start in zip(pieces, starts):
            words[2 * i] = memory.address + start

    @property
    def address(self) -> int:
        return ctypes.addressof(self.entries)

    def targets(self) -> list[tuple[int, int]]:
        """(entry address, callee Context address) per import ordinal; (0, 0) when
        unresolved. Fixed for the table's lifetime, so code may embed them."""
        return [(e.entry, e.context) for e in self.entries[:len(self.entries)]]
