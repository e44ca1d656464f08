"""The per-call marshalling of a program's exports (numpy arrays in, numpy arrays out),
precompiled per signature.

Contract: `ProgramArgs(signature).pack(args)` returns `(args_bytes, views)` - the args
buffer in calling-convention layout and the HostObjects it refers to, which the caller
must keep alive until the call's refs are released - or None when some argument is not
one of the common kinds, so that the general path (`hal.to_arguments` + `pack_args`)
converts it or raises its `TypeError`. Common kinds: for a ref, a C-contiguous numpy
array of a dtype in DTYPE_ELEMENT (wrapped zero-copy in a new BufferView, as
`BufferView.from_array` does), a HostObject (passed as itself) or None; for i32 / i64, an
exact `int` in [-2**(n-1), 2**n) (the unsigned spelling wraps); for f32 / f64 an exact
`float`.
"""
from __future__ import annotations

import struct

import numpy as np

from ..runtime import abi
from ..runtime.objects import HostObject
from .buffers import DTYPE_ELEMENT, Buffer, BufferView

_CODE = {"i32": "i", "i64": "q", "f32": "f", "f64": "d", "ref": "Q"}
_EMPTY = np.zeros(0, np.uint8)


def view_of(array: np.ndarray) -> BufferView | None:
    """A BufferView over a C-contiguous array's bytes (zero-copy), None for other arrays or
    unsupported dtypes."""
    et = DTYPE_ELEMENT.get(array.dtype)
    if et is None or not array.flags.c_contiguous:
        return None
    raw = array.reshape(-1).view(np.uint8) if array.size else _EMPTY
    return BufferView(Buffer(raw), array.shape, et)


class ProgramArgs:
    """See the module docstring."""

    def __init__(self, signature):
        self.types = tuple(signature.args)
        offsets, size = abi.cconv_layout(self.types)
        fmt, pos = "<", 0
        for t, off in zip(self.types, offsets):
            fmt += "x" * (off - pos) + _CODE[t]
            pos = off + abi.VALUE_SIZE[t]
        self.struct = struct.Struct(fmt + "x" * (max(size, 8) - pos))
        self.bounds = {"i32": 1 << 32, "i64": 1 << 64}

    def pack(self, args):
        if len(args) != len(self.types):
            return None
        values, views = [], []
        for t, a in zip(self.types, args):
            if t == "ref":
                if type(a) is np.ndarray:
                    a = view_of(a)
                    if a is None:
                        return None
                    views.append(a)
                    values.append(a.ref_address)
                elif isinstance(a, HostObject):
                    views.append(a)
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
            return self.struct.pack(*values), views
        except (struct.error, OverflowError):  # e.g. an f32 out of range: the general path
            return None
