"""Marshalling between Python values and the native args/results buffers (runtime/abi.py).

Contract: `pack_args(signature, values, arena)` checks arity and types *before* any native
code runs and raises `TypeError` naming the expected signature; buffers (numpy arrays,
bytearray, memoryview, bytes) are passed zero-copy as `BufferDesc`s kept alive by `arena`;
Python lists are copied into `!vm.list`s (runtime/lists.py) and copied back after the call.
"""
from __future__ import annotations

import ctypes
import functools
import math
import struct

import numpy as np

from ..frontend.cconv import Signature
from . import abi, lists
from .objects import HostObject

_PACK = {"i32": "<i", "i64": "<q", "f32": "<f", "f64": "<d"}
_INT_RANGE = {"i32": 32, "i64": 64}


class Arena:
    """Keeps buffers and their descriptors alive; maps descriptor addresses back to objects."""

    def __init__(self):
        self.by_address: dict[int, tuple[ctypes.Structure, object]] = {}
        self.packed: dict[int, int] = {}  # id(Python list) -> its ListDesc* (runtime/lists.py)
        self._reader = None

    def ref(self, obj) -> int:
        """A ref argument: None -> 0, a Python list -> a `!vm.list` (lists.pack), else a buffer."""
        if isinstance(obj, list):
            return lists.pack(obj, self)
        if isinstance(obj, HostObject):
            self.by_address[obj.ref_address] = (obj, obj)
            return obj.ref_address
        return self.buffer(obj)

    def reader(self, lookup_ref) -> "lists.RefReader":
        """This call's converter of native refs (lists included) back to Python objects."""
        if self._reader is None:
            self._reader = lists.RefReader(self, lookup_ref)
        return self._reader

    def buffer(self, obj) -> int:
        if obj is None:
            return 0
        if isinstance(obj, np.ndarray):
            if not obj.flags.c_contiguous:
                raise TypeError("buffer arguments must be C-contiguous arrays")
            data, length, mutable = obj.ctypes.data, obj.nbytes, obj.flags.writeable
        elif isinstance(obj, (bytearray, memoryview, bytes)):
            view = memoryview(obj)
            if not view.contiguous:
                raise TypeError("buffer arguments must be contiguous")
            arr = np.frombuffer(view, dtype=np.uint8) if view.nbytes else np.zeros(0, np.uint8)
            data, length, mutable = arr.ctypes.data, view.nbytes, not view.readonly
            obj = (obj, arr)
        else:
            raise TypeError(f"expected a buffer (numpy array, bytearray, memoryview) or None, "
                            f"got {type(obj).__name__}")
        desc = abi.BufferDesc(data, length, abi.ACCESS_MUTABLE if mutable else 0, abi.TYPE_BUFFER)
        address = ctypes.addressof(desc)
        self.by_address[address] = (desc, obj)
        return address

    def lookup(self, address: int):
        entry = self.by_address.get(address)
        return None if entry is None else entry[1]


def _check_scalar(t: str, v, name: str):
    if t in _INT_RANGE:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name}: expected an int for {t}, got {type(v).__name__}")
        v = int(v)
        bits = _INT_RANGE[t]
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            raise TypeError(f"{name}: {v} does not fit {t}")
        return v - (1 << bits) if v >= 1 << (bits - 1) else v
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a float for {t}, got {type(v).__name__}")
    return float(v)


@functools.lru_cache(maxsize=None)
def _layout(types: tuple) -> tuple[list, ctypes.Array]:
    """(per value: (type, byte offset, its struct), the ctypes array type of the buffer) for
    an args or results buffer of `types` (at least 8 bytes)."""
    offsets, size = abi.cconv_layout(types)
    codes = [(t, off, _REF if t == "ref" else struct.Struct(_PACK[t]))
             for t, off in zip(types, offsets)]
    return codes, ctypes.c_uint8 * max(size, 8)


_REF = struct.Struct("<Q")


def pack_args(sig: Signature, values, arena: Arena, where: str) -> ctypes.Array:
    types = sig.args
    if len(values) != len(types):
        raise TypeError(f"{where}{sig.describe()} takes {len(types)} arguments, got {len(values)}")
    codes, array = _layout(tuple(types))
    buf = array()
    for i, ((t, off, st), v) in enumerate(zip(codes, values)):
        if t == "ref":
            st.pack_into(buf, off, arena.ref(v))
        else:
            st.pack_into(buf, off, _check_scalar(t, v, f"{where} argument {i}"))
    return buf


def results_buffer(sig: Signature) -> ctypes.Array:
    return _layout(tuple(sig.results))[1]()


def unpack_results(sig: Signature, buf, arena: Arena, lookup_ref):
    """Results as Python values; refs map back to the arguments passed in, or via `lookup_ref`
    (module-owned buffers), else raise (a dangling ref is a runtime bug, never silently None)."""
    out = []
    for t, off, st in _layout(tuple(sig.results))[0]:
        (value,) = st.unpack_from(buf, off)
        out.append(arena.reader(lookup_ref).to_python(value) if t == "ref" else value)
    return out


def is_nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


_MARSHALLERS: dict[tuple, "ScalarMarshaller | None"] = {}
_MISSING = object()


class ScalarMarshaller:
    """Precompiled marshalling for signatures with no refs: one `struct` per direction.

    `pack(args)` returns the args buffer as bytes, or None when some value needs the general
    path (which then raises the precise `TypeError`); `unpack(buf)` returns the results.
    """

    _CODE = {"i32": "i", "i64": "q", "f32": "f", "f64": "d"}

    def __init__(self, sig: Signature):
        self.args, self.results = list(sig.args), list(sig.results)
        self.arg_struct = self._struct(self.args)
        self.result_struct = self._struct(self.results)
        self.result_size = max(self.result_struct.size, 8)
        self._wide = [t in ("i32", "i64") for t in self.args]
        self._bounds = [(-(1 << 31), 1 << 32) if t == "i32" else (-(1 << 63), 1 << 64)
                        for t in self.args]
        if not self.args:  # nothing to convert: one shared zeroed buffer
            empty = self.arg_struct.pack()
            self.pack = lambda values: empty if not values else None
        if not self.results:
            self.unpack = lambda buf: []

    @classmethod
    def _struct(cls, types) -> struct.Struct:
        offsets, size = abi.cconv_layout(types)
        fmt, pos = "<", 0
        for t, off in zip(types, offsets):
            fmt += "x" * (off - pos) + cls._CODE[t]
            pos = off + abi.VALUE_SIZE[t]
        return struct.Struct(fmt + "x" * (max(size, 8) - pos))

    @staticmethod
    def applies(sig: Signature) -> bool:
        return "ref" not in sig.args and "ref" not in sig.results and not sig.is_variadic

    @classmethod
    def of(cls, sig: Signature) -> "ScalarMarshaller | None":
        """The marshaller of `sig` (None if it does not apply), made once per type lists:
        a marshaller holds nothing but its signature's structs, so exports share it."""
        key = (sig.args, sig.results)
        got = _MARSHALLERS.get(key, _MISSING)
        if got is _MISSING:
            if len(_MARSHALLERS) >= 1 << 12:
                _MARSHALLERS.clear()
            got = _MARSHALLERS[key] = cls(sig) if cls.applies(sig) else None
        return got

    def pack(self, values) -> bytes | None:
        if len(values) != len(self.args):
            return None
        out = []
        for v, is_int, (lo, hi), t in zip(values, self._wide, self._bounds, self.args):
            if is_int:
                if type(v) is not int or not lo <= v < hi:
                    return None
                if v >= hi >> 1:  # unsigned spelling of a negative value
                    v -= hi
            elif type(v) is not float:
                if type(v) is not int:
                    return None
                v = float(v)
            out.append(v)
        return self.arg_struct.pack(*out)

    def unpack(self, buf) -> list:
        return list(self.result_struct.unpack_from(buf))
