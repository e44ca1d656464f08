"""Import resolution: each import of a module gets a native entry and the Context to call it with.

Providers (by imported module name, the part of `module.function` before the first dot):
  * a `JitModule`: its export is called natively with the provider's own Context;
  * a mapping of function name -> Python callable: called through a ctypes trampoline that
    speaks the native ABI (args/results buffers in calling-convention layout).
Contract: `ImportTable(defn, providers)` raises `LinkError` for a missing required import or
a signature mismatch; optional imports without a provider get a null entry
(`vm.import.resolved` reads 0). Exceptions raised by Python callables are kept in `errors`
and the call reports TRAP_IMPORT.
"""
from __future__ import annotations

import ctypes
import struct

import numpy as np

from ..errors import LinkError
from ..frontend.cconv import Signature
from ..frontend.schema import ModuleDef
from . import abi

NATIVE_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_PACK = {"i32": "<i", "i64": "<q", "f32": "<f", "f64": "<d"}


def _buffer_view(address: int):
    """A zero-copy uint8 numpy view of the buffer a BufferDesc* describes (None for null)."""
    if not address:
        return None
    desc = abi.BufferDesc.from_address(address)
    if not desc.length:
        return np.zeros(0, np.uint8)
    arr = np.ctypeslib.as_array((ctypes.c_uint8 * desc.length).from_address(desc.data))
    arr.flags.writeable = bool(desc.access & abi.ACCESS_MUTABLE)
    return arr


def python_trampoline(sig: Signature, fn, errors: list, keep: list):
    """A native-ABI entry point that calls `fn(*args)` and stores its result(s)."""
    arg_types, res_types = list(sig.args), list(sig.results)
    arg_offsets, arg_size = abi.cconv_layout(arg_types)
    res_offsets, res_size = abi.cconv_layout(res_types)

    def entry(ctx, args_ptr, results_ptr):
        try:
            raw = ctypes.string_at(args_ptr, arg_size) if arg_size else b""
            values = [_buffer_view(struct.unpack_from("<Q", raw, off)[0]) if t == "ref"
                      else struct.unpack_from(_PACK[t], raw, off)[0]
                      for t, off in zip(arg_types, arg_offsets)]
            out = fn(*values)
            outs = [] if not res_types else [out] if len(res_types) == 1 else list(out)
            if len(outs) != len(res_types):
                raise TypeError(f"import returned {len(outs)} values, expected {len(res_types)}")
            buf = bytearray(res_size)
            for t, off, v in zip(res_types, res_offsets, outs):
                if t == "ref":
                    raise TypeError("Python imports cannot return refs yet")
                v = int(v) if t in ("i32", "i64") else float(v)
                if t in ("i32", "i64"):
                    bits = 32 if t == "i32" else 64
                    v = ((v + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))
                struct.pack_into(_PACK[t], buf, off, v)
            if res_size:
                ctypes.memmove(results_ptr, bytes(buf), res_size)
            return 0
        except BaseException as e:  # noqa: BLE001 - reported as a trap, re-raised in Python
            errors.append(e)
            return abi.TRAP_IMPORT

    native = NATIVE_FN(entry)
    keep.append(native)
    return ctypes.cast(native, ctypes.c_void_p).value


class ImportTable:
    def __init__(self, defn: ModuleDef, providers: dict | None):
        from ..module import JitModule
        providers = providers or {}
        n = len(defn.imports)
        self.entries = (abi.ImportEntry * max(n, 1))()
        self.errors: list[BaseException] = []
        self.keep: list = []  # providers and callbacks that must outlive the table
        self.modules: list = []
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
                self.entries[i] = abi.ImportEntry(export.address, ctypes.addressof(provider._context))
                self.keep.append(provider)
                self.modules.append(provider)
            else:
                fn = provider.get(fname) if hasattr(provider, "get") else None
                if fn is None or not callable(fn):
                    raise LinkError(f"import {imp.name}: provider {modname!r} has no callable {fname!r}")
                if imp.signature.is_variadic:
                    raise LinkError(f"import {imp.name}: variadic Python imports are not supported yet")
                self.entries[i] = abi.ImportEntry(
                    python_trampoline(imp.signature, fn, self.errors, self.keep), 0)

    @property
    def address(self) -> int:
        return ctypes.addressof(self.entries)
