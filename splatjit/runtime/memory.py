"""Executable memory: map read-write, copy the code in, then re-protect read-execute.

Contract (W^X): a page is never writable and executable at once. `ExecutableMemory(code)`
owns one anonymous mapping; `address` is its 64-byte-aligned start (page aligned). On AArch64
hosts the instruction cache is flushed (`__clear_cache`) after the copy, before the first call.

Lifetime: the mapping is released by `close()` or when the object is collected (`__del__`;
not at interpreter exit, when the process's mappings go anyway).

Released mappings are kept for reuse (`_Pool`): made read-write (not executable) at once, so
no stale code stays executable, and handed out as they are to the next mapping of the same
size. That replaces mmap + first-touch page faults + munmap by one mprotect per mapping
(besides the one to read-execute); the pool holds at most `_POOL_PAGES` pages (the rest are
unmapped).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import platform

from ..errors import SplatJitError

PAGE = mmap.PAGESIZE
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20
#: filler after the code (x86 int3; on AArch64 an undefined-instruction pattern either way)
_FILL = 0xCC

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                       ctypes.c_long)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_MAP_FAILED = ctypes.c_void_p(-1).value
_AARCH64 = platform.machine() in ("aarch64", "arm64")
_mprotect, _memmove, _memset = _libc.mprotect, ctypes.memmove, ctypes.memset


def _clear_icache(address: int, size: int) -> None:
    if not _AARCH64:
        return  # x86 keeps instruction and data caches coherent
    clear = getattr(_libc, "__clear_cache", None)
    if clear is None:  # pragma: no cover - every aarch64 libgcc/compiler-rt has it
        raise SplatJitError("cannot flush the instruction cache on this host")
    clear.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    clear(ctypes.c_void_p(address), ctypes.c_void_p(address + size))


#: at most this many pages (1 MiB) of released mappings are kept for reuse (resident: their
#: pages were written)
_POOL_PAGES = 256


class _Pool:
    """Released mappings, read-write and not executable, by size in bytes. Operations are
    single list appends / pops (atomic under the GIL), so threads need no lock."""

    def __init__(self, limit_pages: int):
        self.free: dict[int, list[int]] = {}
        self.limit = limit_pages * PAGE
        self.held = 0  # bytes in `free`

    def take(self, size: int) -> int:
        """A read-write mapping of `size` bytes (reused or new)."""
        spare = self.free.get(size)
        if spare:
            try:
                address = spare.pop()
            except IndexError:  # another thread took the last one
                pass
            else:
                self.held -= size
                return address
        address = _libc.mmap(None, size, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS,
                             -1, 0)
        if address in (None, _MAP_FAILED):
            raise SplatJitError(f"mmap of {size} bytes failed (errno {ctypes.get_errno()})")
        return address

    def give(self, address: int, size: int) -> None:
        """Takes back a mapping no code will run from again."""
        if (self.held + size > self.limit
                or _mprotect(address, size, _PROT_READ | _PROT_WRITE) != 0):
            _libc.munmap(address, size)
            return
        self.held += size
        self.free.setdefault(size, []).append(address)

    def drain(self) -> None:
        """Unmaps every kept mapping (tests; memory pressure)."""
        for size, spare in list(self.free.items()):
            while spare:
                _libc.munmap(spare.pop(), size)
                self.held -= size


POOL = _Pool(_POOL_PAGES)


class ExecutableMemory:
    """One read-execute mapping holding `code` (bytes)."""

    def __init__(self, code: bytes, symbols=()):
        """`symbols`: (offset, size, name) of the code's functions, in bytes from its start,
        one name for the whole code, or a callable returning the former (called only when
        the map is written); written to the Linux perf map when `SPLATJIT_PERF_MAP` is set
        (see `write_perf_map`)."""
        n = len(code)
        self.size = size = max(PAGE, (n + PAGE - 1) // PAGE * PAGE)
        self.address = addr = POOL.take(size)
        #: (address, size) while mapped; popped (atomically) by `_release`
        self._mapping = (addr, size)
        _memmove(addr, code, n)
        self.length = n
        # The rest of the mapping gets int3 (a reused mapping holds older bytes); then it
        # turns read-execute and the perf map entries are written.
        if n < size:
            _memset(addr + n, _FILL, size - n)
        if _mprotect(addr, size, _PROT_READ | _PROT_EXEC) != 0:
            del self._mapping
            _libc.munmap(addr, size)
            raise SplatJitError(f"mprotect to read-execute failed (errno {ctypes.get_errno()})")
        _clear_icache(addr, n)
        if symbols and os.environ.get("SPLATJIT_PERF_MAP"):
            if isinstance(symbols, str):
                symbols = [(0, n, symbols)]
            elif callable(symbols):
                symbols = symbols()
            write_perf_map(addr, symbols)

    def close(self) -> None:
        """Releases the mapping (to the pool). Idempotent."""
        self._release()

    def _release(self) -> None:
        mapping = self.__dict__.pop("_mapping", None)  # once, whichever thread comes first
        if mapping is not None:
            POOL.give(*mapping)

    def __del__(self):
        try:
            self._release()
        except Exception:  # noqa: BLE001 - a failed __init__, interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        """Whether the mapping is gone (`close()`, or a failed protection change)."""
        return "_mapping" not in self.__dict__


def write_perf_map(address: int, symbols) -> None:
    """Appends `symbols` ((offset, size, name) relative to `address`) to /tmp/perf-PID.map, the
    file `perf report` reads to name JIT code (one `START SIZE name` line each, hex)."""
    with open(f"/tmp/perf-{os.getpid()}.map", "a") as out:
        for offset, size, name in symbols:
            out.write(f"{address + offset:x} {max(size, 1):x} {name}\n")
