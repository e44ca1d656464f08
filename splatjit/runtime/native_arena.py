"""The native arena of one module's BufferHeap (x86-64 hosts): chunks of read-write memory
that the machine-code helpers (runtime/native_alloc.py) bump-allocate `vm.buffer.alloc` /
`vm.buffer.clone` results from, without a Python callback.

State: the abi.ARENA_* words that follow the heap's helper table (the machine code finds
them through `Context.helpers`). A chunk is a numpy uint8 array (np.zeros: fresh zero pages;
read-write, never executable); its buffers are a 24-byte BufferDesc followed by the aligned
data (layout: native_alloc.py). `chunks` are this call's chunks, the last one current.

Lifetimes (the invariants everything below keeps):
* Every Python object that refers to arena memory is a numpy slice of a chunk's array (so
  it keeps the chunk alive), and while the module's outermost call runs it is recorded in
  the heap's `by_address` (a non-empty dict sends every end of call through Python:
  JitModule._retain_globals). `view` makes such slices: for returned buffers and list
  arguments (`BufferHeap.lookup`), for buffers ref globals still reach (`BufferHeap.collect`)
  and for buffers passed to Python imports (`import_view`, reached through the process-wide
  registry of chunks by `ref_to_python`).
* A refill (a new chunk mid-call) also records a marker in `by_address`.
* So when an outermost call ends with the heap's dicts empty, nothing outside native code
  saw the call's buffers, and `rewind` (the cursor back to the chunk start) is all the
  cleanup: the native entries (pyentry, hal/execute.py) and the Python fast paths do that.
* Otherwise `reset` runs after the heap dropped what no ref global reaches: the newest chunk
  is reused when no Python object refers to its array any more (reference count), else it
  is retired: the arena forgets it and its memory is freed when the last view goes (views
  held by `by_address` for ref globals, or by the caller). Older chunks of the call are
  dropped the same way.
Reused memory is zeroed on allocation (below ARENA_CLEAN), so reused pages are warm.

Returned buffers: a module with ref globals returns zero-copy views (the chunk is then
retired while the caller holds them: a returned buffer is never overwritten by a later
call); a module without ref globals returns copies (`BufferHeap.copy_results`), since no
one else can ever reach that buffer again, which keeps a small result from pinning a chunk.
"""
from __future__ import annotations

import bisect
import ctypes
import struct
import sys
import weakref

import numpy as np

from . import abi
from .objects import array_address
from .native_alloc import CURSOR_ALIGN, MAX_ARENA_ALIGN, MIN_ALIGN

#: The first chunk's size and the largest size chunks grow to by doubling (bytes). A
#: module keeps its newest chunk while it lives: at most about MAX_CHUNK bytes.
MIN_CHUNK = 1 << 16
MAX_CHUNK = 1 << 24
#: Requests needing more than this go to the Python helper (a buffer of their own, freed
#: after the call).
MAX_ARENA_REQUEST = MAX_CHUNK
_PAGE = 4096
_CHUNK_ALIGN = 64
_DESC = struct.Struct("<QQ")
_DESC_BYTES = ctypes.c_char * _DESC.size
#: by_address value of a refill marker (at an odd key: never a descriptor's address)
MARKER = (None, None, None)
_CURSOR, _LIMIT, _START, _CLEAN, _REFILL = (a // 8 for a in (
    abi.ARENA_CURSOR, abi.ARENA_LIMIT, abi.ARENA_START, abi.ARENA_CLEAN, abi.ARENA_REFILL))


class Chunk:
    """`array` owns the memory (its first byte at `origin`); usable bytes are [base, end),
    base 64-aligned."""
    __slots__ = ("array", "origin", "base", "end", "alone", "__weakref__")

    def __init__(self, size: int):
        self.array = np.zeros(size + _CHUNK_ALIGN, np.uint8)
        self.origin = address = array_address(self.array)
        self.base = address + (-address) % _CHUNK_ALIGN
        self.end = self.base + size
        #: the array's reference count while only this Chunk refers to it
        self.alone = self.references()

    def references(self) -> int:
        """The array's reference count (as measured here: comparable with `alone`)."""
        return sys.getrefcount(self.array)

    @property
    def size(self) -> int:
        return self.end - self.base


# ---------------------------------------------------------------- process-wide registry
#: chunk bases, sorted; base -> (end, weak reference to the owning arena)
_BASES: list[int] = []
_RANGES: dict[int, tuple[int, "weakref.ref[NativeArena]"]] = {}


def _register(chunk: Chunk, arena: "NativeArena") -> None:
    bisect.insort(_BASES, chunk.base)
    _RANGES[chunk.base] = (chunk.end, weakref.ref(arena))


def _unregister(base: int) -> None:
    if _RANGES.pop(base, None) is not None:
        del _BASES[bisect.bisect_left(_BASES, base)]


def _unregister_all(bases: list) -> None:
    for base in bases:
        _unregister(base)
    bases.clear()


def import_view(address: int):
    """The numpy view a Python import gets for the buffer descriptor at `address` when it
    lies in a chunk some arena is using this call (recorded in that heap's `by_address`),
    else None."""
    if not _BASES:
        return None
    i = bisect.bisect_right(_BASES, address) - 1
    if i < 0:
        return None
    end, ref = _RANGES[_BASES[i]]
    arena = ref() if address < end else None
    return None if arena is None else arena.import_view(address)


def normalized_alignment(alignment: int) -> int:
    """The data alignment an allocation gets (as the machine code computes it)."""
    return alignment if alignment >= MIN_ALIGN and not alignment & (alignment - 1) else MIN_ALIGN


class NativeArena:
    """See the module docstring. `words`: the ctypes u64 array holding the helper table and
    the arena state; `by_address`: the heap's buffer dict; `fallback(ctx, length,
    alignment)`: the Python allocation helper for requests the arena does not serve."""

    def __init__(self, words, by_address: dict, fallback):
        self.words = words
        self.by_address = by_address
        self.fallback = fallback
        self.chunks: list[Chunk] = []
        self._bases: list[int] = []  # registered chunk bases (unregistered when it dies)

    def __del__(self):
        # (not a weakref.finalize: that costs a few microseconds per module)
        try:
            _unregister_all(self._bases)
        except Exception:  # noqa: BLE001 - a failed __init__, interpreter shutdown
            pass

    # ------------------------------------------------------------ the refill callback
    def refill(self, ctx, length: int, alignment: int) -> int:
        """The machine code's slow path: a buffer of the Python helper's, 0, or
        abi.ARENA_RETRY after installing a chunk with room for the request."""
        try:
            if not 0 <= length <= abi.MAX_ALLOCATION:
                return 0
            align = normalized_alignment(alignment)
            need = abi.BUF_SIZE + align + length + CURSOR_ALIGN
            if align > MAX_ARENA_ALIGN or need > MAX_ARENA_REQUEST:
                return self.fallback(ctx, length, alignment)
            w = self.words
            previous = self.chunks[-1].size if self.chunks else 0
            if self.chunks and w[_CURSOR] == w[_START]:  # unused this call: drop it now
                self._forget(self.chunks.pop())
            size = max(MIN_CHUNK, min(2 * previous, MAX_CHUNK), need)
            chunk = Chunk(-(-size // _PAGE) * _PAGE)
            self.chunks.append(chunk)
            self._bases.append(chunk.base)
            _register(chunk, self)
            w[_CURSOR] = w[_START] = w[_CLEAN] = chunk.base
            w[_LIMIT] = chunk.end
            self.by_address[chunk.base + 1] = MARKER
            return abi.ARENA_RETRY
        except Exception:  # noqa: BLE001 - MemoryError and the like: the op traps
            return 0

    # ------------------------------------------------------------ views
    def owner(self, address: int) -> Chunk | None:
        """This call's chunk holding the descriptor at `address`, if any."""
        for chunk in self.chunks:
            if chunk.base <= address < chunk.end:
                return chunk
        return None

    def view(self, address: int, chunk: Chunk) -> np.ndarray:
        """A writable zero-copy view of the buffer whose descriptor is at `address` (in
        `chunk`): a slice of the chunk's array, so it keeps the chunk alive."""
        data, length = _DESC.unpack(_DESC_BYTES.from_address(address).raw)
        start = data - chunk.origin
        return chunk.array[start:start + length]

    def import_view(self, address: int):
        """A view for a Python import's argument (recorded in `by_address`), or None when
        `address` is not in this call's chunks."""
        entry = self.by_address.get(address)
        if entry is not None and entry[2] is not None:
            return entry[1]
        chunk = self.owner(address)
        if chunk is None:
            return None
        view = self.view(address, chunk)
        self.by_address[address] = (None, view, chunk.array)
        return view

    # ------------------------------------------------------------ after a call
    def used(self) -> bool:
        """Whether the current chunk handed out memory since the last reset."""
        w = self.words
        return w[_CURSOR] != w[_START]

    def rewind(self) -> None:
        """The cursor back to the chunk start. Only when the heap's dicts are empty after
        an outermost call (no Python object saw this call's buffers, no refill ran)."""
        w = self.words
        w[_CURSOR] = w[_START]

    def reset(self) -> None:
        """After an outermost call, once the heap dropped what no ref global reaches: reuse
        the newest chunk if nothing else refers to its array, else retire it; forget older
        chunks of the call either way."""
        chunks = self.chunks
        if not chunks:
            return
        while len(chunks) > 1:
            self._forget(chunks.pop(0))
        w = self.words
        if chunks[0].references() == chunks[0].alone:  # no view, nothing else refers to it
            w[_CURSOR] = w[_START]
            return
        self._forget(chunks.pop())
        w[_CURSOR] = w[_LIMIT] = w[_START] = w[_CLEAN] = 0

    def _forget(self, chunk: Chunk) -> None:
        _unregister(chunk.base)
        self._bases.remove(chunk.base)
