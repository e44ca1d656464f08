"""The per-call marshalling of a program's exports (numpy arrays in, numpy arrays out),
precompiled per signature.

Contract: `ProgramArgs(signature).pack(args)` returns `(args_bytes, given, made)` - the args
buffer in calling-convention layout, the caller's HostObjects it refers to, and the
`(position, view)` pairs of the BufferViews it wrapped arrays in - or None when some
argument is not one of the common kinds, so that the general path (`hal.to_arguments` +
`pack_args`) converts it or raises its `TypeError`. The caller keeps `given` and `made`
alive until the call's refs are released, then hands `made` back to `release`. Common
kinds: for a ref, a C-contiguous numpy array of a dtype in DTYPE_ELEMENT (wrapped zero-copy
in a BufferView over a Buffer, as `BufferView.from_array` does), a HostObject (passed as
itself) or None; for i32 / i64, an exact `int` in [-2**(n-1), 2**n) (the unsigned spelling
wraps); for f32 / f64 an exact `float`.

Reuse: `release(made)` keeps, per argument position, one view (with its buffer) that
nothing but `made` refers to any more - no result, ref global, pooled view, Python
structure or traceback (reference counts, calibrated as hal/pools.py does) - after pointing
its buffer at no bytes, so it holds no caller array between calls. The next `pack` fills
that view and buffer in place instead of making two HostObjects. An object something else
still refers to is never touched again: it stays exactly as its holders saw it, and the
position gets fresh objects. Reusing an unobservable object is what freeing it and making
a new one in its descriptor slot would do (runtime/objects.py reuses slots the same way).

`ProgramResults(signature).unpack(results_buffer)` reads the results of the common case:
scalars, null refs and refs to live HostObjects other than `!vm.buffer`s (which is what
any other lookup of those addresses finds); None when some ref is anything else (the
general path handles it).
"""
from __future__ import annotations

import struct
import sys

import numpy as np

from ..runtime import abi
from ..runtime.objects import _BY_ADDRESS, HostObject, VmBuffer
from .buffers import DTYPE_ELEMENT, Buffer, BufferView

_CODE = {"i32": "i", "i64": "q", "f32": "f", "f64": "d", "ref": "Q"}
_EMPTY = np.zeros(0, np.uint8)


def view_of(array: np.ndarray) -> BufferView | None:
    """A BufferView over a C-contiguous array's bytes (zero-copy), None for other arrays or
    unsupported dtypes."""
    et = DTYPE_ELEMENT.get(array.dtype)
    if et is None or not array.flags.c_contiguous:
        return None
    raw = np.ndarray((array.nbytes,), np.uint8, array) if array.size else _EMPTY
    return BufferView(Buffer(raw), array.shape, et)


#: value types -> their buffer's struct (`_struct`); structs are immutable, so every
#: export of that signature shares one
_STRUCTS: dict[tuple, struct.Struct] = {}


def _struct(types) -> struct.Struct:
    """The struct of an args / results buffer of `types` (calling-convention layout,
    padded to at least 8 bytes)."""
    types = tuple(types)
    found = _STRUCTS.get(types)
    if found is not None:
        return found
    offsets, size = abi.cconv_layout(types)
    fmt, pos = "<", 0
    for t, off in zip(types, offsets):
        fmt += "x" * (off - pos) + _CODE[t]
        pos = off + abi.VALUE_SIZE[t]
    if len(_STRUCTS) >= 1 << 10:
        _STRUCTS.clear()
    found = _STRUCTS[types] = struct.Struct(fmt + "x" * (max(size, 8) - pos))
    return found


def _refs(view: BufferView) -> tuple[int, int, int]:
    """Reference counts of a made view, its buffer and the buffer's `!vm.buffer` storage
    (0 without one), as `release` sees them (called the same way there and when
    ProgramArgs calibrates)."""
    buffer = view.buffer
    storage = buffer._storage
    return (sys.getrefcount(view), sys.getrefcount(buffer),
            0 if storage is None else sys.getrefcount(storage))


def _calibrate() -> tuple[tuple[int, int, int], int]:
    """(the `_refs` of a view only `made` holds, that of a storage only its buffer holds)."""
    made = [(0, view_of(np.zeros(1, np.float32)))]
    for _, view in made:
        plain = _refs(view)
    view.buffer.storage()
    for _, view in made:
        with_storage = _refs(view)
    return plain, with_storage[2]


class ProgramArgs:
    """See the module docstring."""

    def __init__(self, signature):
        self.types = tuple(signature.args)
        self.struct = _struct(self.types)
        self.bounds = {"i32": 1 << 32, "i64": 1 << 64}
        #: argument position -> a view (and its buffer) nothing else refers to
        self.free: dict[int, BufferView] = {}
        self._unshared, self._unshared_storage = _CALIBRATION

    def pack(self, args):
        types = self.types
        if len(args) != len(types):
            return None
        values, given, made = [], [], []
        free = self.free
        for pos in range(len(types)):
            t, a = types[pos], args[pos]
            if t == "ref":
                if type(a) is np.ndarray:
                    et = DTYPE_ELEMENT.get(a.dtype)
                    if et is None or not a.flags.c_contiguous:
                        return None
                    raw = np.ndarray((a.nbytes,), np.uint8, a) if a.size else _EMPTY
                    view = free.pop(pos, None)
                    if view is None:
                        view = BufferView(Buffer(raw), a.shape, et)
                    else:  # unobservable since `release`: filled in as if new
                        view.buffer.rebind(raw)
                        shape = a.shape
                        if shape != view.shape or et != view.element_type:
                            view.reshape(shape, et)  # (else its descriptor says this already)
                    made.append((pos, view))
                    values.append(view.ref_address)
                elif isinstance(a, HostObject):
                    given.append(a)
                    values.append(a.ref_address)
                elif a is None:
                    values.append(0)
                else:
                    return None
            elif t in self.bounds:
                hi = self.bounds[t]
                if type(a) is not int or not -(hi >> 1) <= a < hi:
                    return None
                values.append(a - hi if a >= hi >> 1 else a)
            elif type(a) is float:
                values.append(a)
            else:
                return None
        try:
            return self.struct.pack(*values), given, made
        except (struct.error, OverflowError):  # e.g. an f32 out of range: the general path
            return None

    def release(self, made: list) -> None:
        """After the call (its refs released or kept, its results made): each made view only
        `made` refers to becomes its position's free view (see the module docstring)."""
        free = self.free
        plain, with_storage = self._unshared, self._unshared_storage
        for pos, view in made:
            refs = _refs(view)
            if refs != plain:
                if refs[:2] != plain[:2] or refs[2] != with_storage:
                    continue
                view.buffer._storage = None  # the storage only its buffer referred to
            if pos not in free:
                view.buffer.forget()
                free[pos] = view


_CALIBRATION = _calibrate()


class ProgramResults:
    """See the module docstring."""

    def __init__(self, signature):
        self.types = tuple(signature.results)
        self.struct = _struct(self.types)
        self.refs = tuple(i for i, t in enumerate(self.types) if t == "ref")

    def unpack(self, buf) -> list | None:
        out = list(self.struct.unpack_from(buf))
        for i in self.refs:
            address = out[i]
            if address:
                ref = _BY_ADDRESS.get(address)
                obj = None if ref is None else ref()
                if obj is None or isinstance(obj, VmBuffer):
                    return None
                out[i] = obj
            else:
                out[i] = None
        return out
