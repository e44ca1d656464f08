"""Runtime helpers generated code calls through `Context.helpers` (see abi.HELPERS).

Contract: each allocation helper returns a `BufferDesc*` or 0 on failure (the generated code then traps
with TRAP_HELPER). New buffers are zero-filled, mutable, and owned by a `BufferHeap`: they
live while the call that made them runs, and afterwards while a ref global or a returned
value holds them. On x86-64 hosts buffer_alloc / buffer_clone are machine code over the
heap's NativeArena (runtime/native_arena.py, native_alloc.py); the Python helpers here
serve what the arena does not (and every allocation on other hosts).
"""
from __future__ import annotations

import ctypes
import functools
import struct

import numpy as np

from . import abi
from .lists import ALLOC_FN as LIST_ALLOC_FN, ListHeap, _list_alloc, reachable
from .native_alloc import native_helpers
from .native_arena import NativeArena
from .objects import array_address

MAX_ALLOCATION = abi.MAX_ALLOCATION

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

#: Context.helpers (the address of a live heap's `table`) -> (its `by_address`, its lists'
#: `by_address`, its NativeArena or None): how the callbacks below, shared by every heap,
#: find the heap of the code calling them (every helper gets the caller's Context first).
#: An entry lives as long as its heap (removed by `BufferHeap.__del__`); the table's address
#: is unique among live heaps, as each heap owns its table.
_HEAPS: dict[int, tuple] = {}
_CTX_HELPERS = abi.CTX_HELPERS
_u64_at = ctypes.c_uint64.from_address


def _state(ctx: int) -> tuple:
    return _HEAPS[_u64_at(ctx + _CTX_HELPERS).value]


def _shared_alloc(ctx, length, alignment):
    return _alloc(_state(ctx)[0], ctx, length, alignment)


def _shared_clone(ctx, source, offset, length, alignment):
    return _clone(_state(ctx)[0], ctx, source, offset, length, alignment)


def _shared_refill(ctx, length, alignment):
    return _state(ctx)[2].refill(ctx, length, alignment)


def _shared_list_alloc(ctx, kind, ref_type, capacity):
    try:
        by_address = _state(ctx)[1]
    except Exception:  # noqa: BLE001 - not a live heap's Context: the op traps
        return 0
    return _list_alloc(by_address, ctx, kind, ref_type, capacity)


_ALLOC_FN, _CLONE_FN = ALLOC_FN(_shared_alloc), CLONE_FN(_shared_clone)
_REFILL_FN, _LIST_ALLOC_FN = ALLOC_FN(_shared_refill), LIST_ALLOC_FN(_shared_list_alloc)
_SHARED = {name: abi.function_address(fn) for name, fn in (
    ("buffer_alloc", _ALLOC_FN), ("buffer_clone", _CLONE_FN), ("buffer_hash", _HASH_FN),
    ("list_alloc", _LIST_ALLOC_FN), ("refill", _REFILL_FN))}
_ALLOC_SLOT, _CLONE_SLOT, _HASH_SLOT = (abi.HELPERS.index(n) for n in (
    "buffer_alloc", "buffer_clone", "buffer_hash"))
_TABLE = ctypes.c_void_p * len(abi.HELPERS)
_WORDS = ctypes.c_uint64 * (len(abi.HELPERS) + abi.ARENA_WORDS)


class BufferHeap:
    """Owns the buffers helpers create; `by_address` maps a BufferDesc* to (desc or None,
    the array Python sees, what keeps its memory alive).

    With `native` (x86-64 hosts) `buffer_alloc` / `buffer_clone` are the machine-code
    helpers over a NativeArena (runtime/native_arena.py), which fall back to the Python
    ones below for requests a chunk cannot serve; `by_address` then also records the
    arena buffers Python looked at (and refill markers), see native_arena's invariants.
    `copy_results`: `lookup` returns copies of arena buffers (modules without ref globals).

    The callbacks in `table` are process-wide: they find the heap's dicts and arena through
    the caller's Context (`_HEAPS`, keyed by this table's address while the heap lives), so
    a heap costs no ctypes callbacks of its own and is freed by reference counting."""

    def __init__(self, native: bool = False):
        self.by_address: dict[int, tuple] = {}
        #: the helper table, then the arena state (abi.ARENA_*): one block
        self.words = words = _WORDS()
        self.table = table = _TABLE.from_buffer(words)
        shared = _SHARED
        table[_HASH_SLOT] = shared["buffer_hash"]
        self.lists = ListHeap(table, shared["list_alloc"])  # list_* helpers (runtime/lists.py)
        self.arena = None
        self.copy_results = False
        if native:
            self.arena = NativeArena(words, self.by_address,
                                     functools.partial(_alloc, self.by_address))
            words[abi.ARENA_REFILL // 8] = shared["refill"]
            table[_ALLOC_SLOT], table[_CLONE_SLOT] = native_helpers()
        else:
            table[_ALLOC_SLOT], table[_CLONE_SLOT] = shared["buffer_alloc"], shared["buffer_clone"]
        self._key = ctypes.addressof(table)
        _HEAPS[self._key] = (self.by_address, self.lists.by_address, self.arena)

    def __del__(self):
        try:
            del _HEAPS[self._key]
        except Exception:  # noqa: BLE001 - a failed __init__, interpreter shutdown
            pass

    def lookup(self, address: int):
        entry = self.by_address.get(address)
        if entry is not None:
            return entry[1]
        arena = self.arena
        chunk = arena.owner(address) if arena is not None else None
        if chunk is None:
            return None
        view = arena.view(address, chunk)
        if self.copy_results:
            view = view.copy()
            self.by_address[address] = (None, view, None)
        else:
            self.by_address[address] = (None, view, chunk.array)
        return view

    def dirty(self) -> bool:
        """Whether anything is left to release (buffers, lists, arena memory)."""
        return bool(self.by_address or self.lists.by_address
                    or (self.arena is not None and self.arena.used()))

    def rewind(self) -> None:
        """After an outermost call that left the dicts empty: the arena cursor back."""
        if self.arena is not None:
            self.arena.rewind()

    def clear(self) -> None:
        """Drops every buffer and list (in place), then resets the arena."""
        self.by_address.clear()
        self.lists.by_address.clear()
        if self.arena is not None:
            self.arena.reset()

    def collect(self, roots) -> None:
        """Drops every buffer and list not reachable from `roots` (addresses still
        referenced); arena buffers they reach get views in `by_address` (which keep their
        chunk); then resets the arena."""
        keep = reachable(roots)
        self.lists.collect(keep)
        by_address, arena = self.by_address, self.arena
        if arena is not None and arena.chunks:
            for a in keep:
                if a not in by_address:
                    chunk = arena.owner(a)
                    if chunk is not None:
                        by_address[a] = (None, arena.view(a, chunk), chunk.array)
        for a in [a for a in by_address if a not in keep]:  # in place: callers hold the dict
            del by_address[a]
        if arena is not None:
            arena.reset()
