"""Executable memory: map read-write, copy the code in, then re-protect read-execute.

Contract (W^X): a page is never writable and executable at once. `ExecutableMemory(code)`
owns one anonymous mapping; `address` is its 64-byte-aligned start (page aligned); the
mapping is unmapped by `close()` or when the object is collected. On AArch64 hosts the
instruction cache is flushed (`__clear_cache`) after the copy, before the first call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import platform
import weakref

from ..errors import SplatJitError

PAGE = mmap.PAGESIZE
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                       ctypes.c_long)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_MAP_FAILED = ctypes.c_void_p(-1).value


def _clear_icache(address: int, size: int) -> None:
    if platform.machine() not in ("aarch64", "arm64"):
        return  # x86 keeps instruction and data caches coherent
    clear = getattr(_libc, "__clear_cache", None)
    if clear is None:  # pragma: no cover - every aarch64 libgcc/compiler-rt has it
        raise SplatJitError("cannot flush the instruction cache on this host")
    clear.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    clear(ctypes.c_void_p(address), ctypes.c_void_p(address + size))


def _unmap(address: int, size: int) -> None:
    _libc.munmap(ctypes.c_void_p(address), size)


class ExecutableMemory:
    """One read-execute mapping holding `code` (bytes)."""

    def __init__(self, code: bytes, symbols=()):
        """`symbols`: (offset, size, name) of the code's functions, in bytes from its start,
        one name for the whole code, or a callable returning the former (called only when
        the map is written); written to the Linux perf map when `SPLATJIT_PERF_MAP` is set
        (see `write_perf_map`)."""
        self.size = max(PAGE, (len(code) + PAGE - 1) // PAGE * PAGE)
        addr = _libc.mmap(None, self.size, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
        if addr in (None, _MAP_FAILED):
            raise SplatJitError(f"mmap of {self.size} bytes failed (errno {ctypes.get_errno()})")
        self.address = addr
        self._finalizer = weakref.finalize(self, _unmap, addr, self.size)
        ctypes.memmove(addr, code, len(code))
        if _libc.mprotect(ctypes.c_void_p(addr), self.size, _PROT_READ | _PROT_EXEC) != 0:
            self.close()
            raise SplatJitError(f"mprotect to read-execute failed (errno {ctypes.get_errno()})")
        _clear_icache(addr, len(code))
        self.length = len(code)
        if symbols and os.environ.get("SPLATJIT_PERF_MAP"):
            if isinstance(symbols, str):
                symbols = [(0, len(code), symbols)]
            elif callable(symbols):
                symbols = symbols()
            write_perf_map(addr, symbols)

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def write_perf_map(address: int, symbols) -> None:
    """Appends `symbols` ((offset, size, name) relative to `address`) to /tmp/perf-PID.map, the
    file `perf report` reads to name JIT code (one `START SIZE name` line each, hex)."""
    with open(f"/tmp/perf-{os.getpid()}.map", "a") as out:
        for offset, size, name in symbols:
            out.write(f"{address + offset:x} {max(size, 1):x} {name}\n")
