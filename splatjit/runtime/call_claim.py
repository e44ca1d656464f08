"""Which thread runs splatjit code: one process-wide claim, taken natively.

Native code keeps the GIL, but the Python it calls back (imports, allocation helpers, the
builtin entries' `finish`) may let it go, and a module's Context, arena, pools and reused
argument objects serve one call at a time. So one thread at a time may be inside splatjit
calls: the one that holds the claim.

The claim is two u64 words, `owner` (the holder's `pthread_self()`, which is also
`threading.get_ident()`; 0 when free) and `count` (nested claims of that thread). Taking it
is a check-and-set that must not be split by a thread switch, so it is machine code run
with the GIL held (`claim`); the CPython builtin entries (runtime/pyentry.py) inline the
same sequence (`emit_claim`, `emit_release`). Giving the claim back needs no such care
(only its owner writes the cell while it holds it), so `CallLock.release` does it in Python.

`CallLock` is the lock of the Python call path (module.CALL_LOCK): a re-entrant lock plus
the claim. A thread that finds the claim held by another thread (a builtin call of that
thread waiting inside a Python import) lets the lock go and retries until it is free, so
the other thread can still enter the Python call path from its import.
"""
from __future__ import annotations

import ctypes
import os
import platform
import threading
import time

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.operands import Label, qword
from .memory import ExecutableMemory

OWNER, COUNT = 0, 8
#: seconds a thread sleeps between attempts to take a claim another thread holds
RETRY_SLEEP = 50e-6

CELL = (ctypes.c_uint64 * 2)()
CELL_ADDRESS = ctypes.addressof(CELL)
_libc = ctypes.CDLL(None)
PTHREAD_SELF = ctypes.cast(_libc.pthread_self, ctypes.c_void_p).value


def emit_claim(a: Assembler, busy: Label) -> None:
    """Takes the claim for the calling thread (rdi = its pthread_self()) or jumps to `busy`
    when another thread holds it. Uses rcx, rdx."""
    take = Label("claim_take")
    a.mov(R.rcx, CELL_ADDRESS)
    a.mov(R.rdx, qword[R.rcx + OWNER])
    a.test(R.rdx, R.rdx)
    a.jz(take)
    a.cmp(R.rdx, R.rdi)
    a.jne(busy)
    a.label(take)
    a.mov(qword[R.rcx + OWNER], R.rdi)
    a.add(qword[R.rcx + COUNT], 1)


def emit_release(a: Assembler) -> None:
    """Gives back one nesting level of the claim (the calling thread holds it); the owner
    is cleared with the last. Uses rcx; keeps rax."""
    held = Label("claim_held")
    a.mov(R.rcx, CELL_ADDRESS)
    a.sub(qword[R.rcx + COUNT], 1)
    a.jnz(held)
    a.mov(qword[R.rcx + OWNER], 0)
    a.label(held)


def _assemble() -> bytes:
    """claim() -> 1 taken for the calling thread / 0 busy (no arguments: a ctypes call
    without argument conversion is the cheapest)."""
    a = Assembler()
    busy = Label("busy")
    a.sub(R.rsp, 8)                 # rsp 16-aligned for the call
    a.mov(R.rax, PTHREAD_SELF)
    a.call(R.rax)
    a.add(R.rsp, 8)
    a.mov(R.rdi, R.rax)
    emit_claim(a, busy)
    a.mov(R.eax, 1)
    a.ret()
    a.label(busy)
    a.xor(R.eax, R.eax)
    a.ret()
    return a.finish()


if platform.machine() in ("x86_64", "AMD64"):
    _code = _assemble()
    _MEMORY = ExecutableMemory(_code, [(0, len(_code), "splatjit:call_claim.claim")])
    claim = ctypes.PYFUNCTYPE(ctypes.c_int)(_MEMORY.address)
else:  # no native builtin entries take the claim on this host: the lock alone suffices
    def claim() -> int:
        CELL[0], CELL[1] = threading.get_ident(), CELL[1] + 1
        return 1


def _after_fork_in_child() -> None:
    """A fork child has only the forking thread: a claim another thread held is void."""
    if CELL[0] != threading.get_ident():
        CELL[0] = CELL[1] = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


class CallLock:
    """Re-entrant: held by every Python-path call into native code until the outermost one
    returns, together with the claim (see the module docstring)."""

    def __init__(self):
        self._lock = threading.RLock()

    def acquire(self) -> None:
        lock = self._lock
        while True:
            lock.acquire()
            if claim():
                return
            # only an outermost acquire can find the claim taken (an inner one's thread
            # holds it since its outermost acquire): let everything go and retry
            lock.release()
            time.sleep(RETRY_SLEEP)

    def release(self) -> None:
        # in Python: while this thread owns the claim no other thread writes the cell, and a
        # builtin that reads it between the two writes finds it busy and takes the slow path
        count = CELL[1] - 1
        CELL[1] = count
        if not count:
            CELL[0] = 0
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()
