"""Runtime helpers generated code calls through `Context.helpers` (see abi.HELPERS).

Contract: each allocation helper returns a `BufferDesc*` or 0 on failure (the generated code then traps
with TRAP_HELPER). New buffers are zero-filled, mutable, and owned by a `BufferHeap`: they
live while the call that made them runs, and afterwards while a ref global or a returned
value holds them.
"""
from __future__ import annotations

import ctypes
import functools
import struct

import numpy as np

from . import abi
from .lists import ListHeap, reachable
from .objects import array_address

#: Largest buffer a module may allocate (bytes); larger requests trap instead of exhausting memory.
MAX_ALLOCATION = 1 << 31

ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32)
HASH_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
_M64 = (1 << 64) - 1


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def _sipround(v0, v1, v2, v3):
    v0 = (v0 + v1) & _M64; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)  # noqa: E702
    v2 = (v2 + v3) & _M64; v3 = _rotl(v3, 16); v3 ^= v2                      # noqa: E702
    v0 = (v0 + v3) & _M64; v3 = _rotl(v3, 21); v3 ^= v0                      # noqa: E702
    v2 = (v2 + v1) & _M64; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)  # noqa: E702
    return v0, v1, v2, v3


def buffer_hash(data: bytes) -> int:
    """`vm.buffer.hash`: SipHash-2-4 with the fixed key 00 01 .. 0f, as iree_vm_buffer_hash
    computes it (unsigned 64-bit result)."""
    k0, k1 = 0x0706050403020100, 0x0F0E0D0C0B0A0908
    v0, v1 = 0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1
    v2, v3 = 0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1
    n = len(data)
    whole = n - n % 8
    for (m,) in struct.iter_unpack("<Q", data[:whole]):
        v3 ^= m
        for _ in range(2):
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0 ^= m
    b = ((n & 0xFF) << 56) | int.from_bytes(data[whole:], "little")
    v3 ^= b
    for _ in range(2):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


CLONE_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64,
                            ctypes.c_int64, ctypes.c_int32)


def _aligned_zeros(length: int, alignment: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(view of `length` zero bytes aligned to `alignment`, the backing array to keep alive,
    the view's address)."""
    alignment = max(16, alignment if alignment > 0 and not alignment & (alignment - 1) else 16)
    raw = np.zeros(length + alignment, np.uint8)
    address = array_address(raw)
    start = (-address) % alignment
    return raw[start:start + length], raw, address + start


def _new(by_address: dict, length: int, alignment: int) -> tuple[int, np.ndarray]:
    view, raw, data = _aligned_zeros(length, alignment)
    desc = abi.BufferDesc(data, length, abi.ACCESS_MUTABLE, abi.TYPE_BUFFER)
    address = ctypes.addressof(desc)
    by_address[address] = (desc, view, raw)
    return address, view


def _alloc(by_address: dict, ctx, length: int, alignment: int) -> int:
    if not 0 <= length <= MAX_ALLOCATION:
        return 0
    return _new(by_address, length, alignment)[0]


def _clone(by_address: dict, ctx, source: int, offset: int, length: int, alignment: int) -> int:
    if not source or not 0 <= length <= MAX_ALLOCATION or offset < 0:
        return 0
    src = abi.BufferDesc.from_address(source)
    if offset > src.length or length > src.length - offset:
        return 0
    address, view = _new(by_address, length, alignment)
    if length:
        ctypes.memmove(array_address(view), src.data + offset, length)
    return address


#: shared by every heap: it keeps no state
_HASH_FN = HASH_FN(lambda ctx, data, length: buffer_hash(ctypes.string_at(data, length)))


class BufferHeap:
    """Owns the buffers helpers create; `by_address` maps a BufferDesc* to (desc, array).

    The callbacks in `table` refer to `by_address`, not to the heap, so a heap is freed by
    reference counting (no cycle through its ctypes callbacks)."""

    def __init__(self):
        self.by_address: dict[int, tuple[abi.BufferDesc, np.ndarray, np.ndarray]] = {}
        self.alloc_fn = ALLOC_FN(functools.partial(_alloc, self.by_address))
        self.clone_fn = CLONE_FN(functools.partial(_clone, self.by_address))
        self.table = (ctypes.c_void_p * len(abi.HELPERS))(
            abi.function_address(self.alloc_fn), abi.function_address(self.clone_fn))
        self.table[abi.HELPERS.index("buffer_hash")] = abi.function_address(_HASH_FN)
        self.lists = ListHeap(self.table)  # the list_* helpers (runtime/lists.py)

    def lookup(self, address: int):
        entry = self.by_address.get(address)
        return None if entry is None else entry[1]

    def clear(self) -> None:
        """Drops every buffer and list (in place)."""
        self.by_address.clear()
        self.lists.by_address.clear()

    def collect(self, roots) -> None:
        """Drops every buffer and list not reachable from `roots` (addresses still referenced)."""
        keep = reachable(roots)
        self.lists.collect(keep)
        for a in [a for a in self.by_address if a not in keep]:  # in place: callers hold the dict
            del self.by_address[a]
