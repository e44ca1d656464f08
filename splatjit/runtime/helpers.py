"""Runtime helpers generated code calls through `Context.helpers` (see abi.HELPERS).

Contract: each helper returns a `BufferDesc*` or 0 on failure (the generated code then traps
with TRAP_HELPER). New buffers are zero-filled, mutable, and owned by a `BufferHeap`: they
live while the call that made them runs, and afterwards while a ref global or a returned
value holds them.
"""
from __future__ import annotations

import ctypes

import numpy as np

from . import abi
from .lists import ListHeap, reachable

#: Largest buffer a module may allocate (bytes); larger requests trap instead of exhausting memory.
MAX_ALLOCATION = 1 << 31

ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32)
CLONE_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64,
                            ctypes.c_int64, ctypes.c_int32)


def _aligned_zeros(length: int, alignment: int) -> tuple[np.ndarray, np.ndarray]:
    """(view of `length` zero bytes aligned to `alignment`, the backing array to keep alive)."""
    alignment = max(16, alignment if alignment > 0 and not alignment & (alignment - 1) else 16)
    raw = np.zeros(length + alignment, np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + length], raw


class BufferHeap:
    """Owns the buffers helpers create; `by_address` maps a BufferDesc* to (desc, array)."""

    def __init__(self):
        self.by_address: dict[int, tuple[abi.BufferDesc, np.ndarray, np.ndarray]] = {}
        self.alloc_fn = ALLOC_FN(self._alloc)
        self.clone_fn = CLONE_FN(self._clone)
        self.table = (ctypes.c_void_p * len(abi.HELPERS))(
            ctypes.cast(self.alloc_fn, ctypes.c_void_p), ctypes.cast(self.clone_fn, ctypes.c_void_p))
        self.lists = ListHeap(self.table)  # the list_* helpers (runtime/lists.py)

    def _new(self, length: int, alignment: int) -> tuple[int, np.ndarray]:
        view, raw = _aligned_zeros(length, alignment)
        desc = abi.BufferDesc(view.ctypes.data if length else raw.ctypes.data, length,
                              abi.ACCESS_MUTABLE, abi.TYPE_BUFFER)
        address = ctypes.addressof(desc)
        self.by_address[address] = (desc, view, raw)
        return address, view

    def _alloc(self, ctx, length: int, alignment: int) -> int:
        if not 0 <= length <= MAX_ALLOCATION:
            return 0
        return self._new(length, alignment)[0]

    def _clone(self, ctx, source: int, offset: int, length: int, alignment: int) -> int:
        if not source or not 0 <= length <= MAX_ALLOCATION or offset < 0:
            return 0
        src = abi.BufferDesc.from_address(source)
        if offset > src.length or length > src.length - offset:
            return 0
        address, view = self._new(length, alignment)
        if length:
            ctypes.memmove(view.ctypes.data, src.data + offset, length)
        return address

    def lookup(self, address: int):
        entry = self.by_address.get(address)
        return None if entry is None else entry[1]

    def collect(self, roots) -> None:
        """Drops every buffer and list not reachable from `roots` (addresses still referenced)."""
        keep = reachable(roots)
        self.lists.collect(keep)
        self.by_address = {a: e for a, e in self.by_address.items() if a in keep}
