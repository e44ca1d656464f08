"""Native `hal.fence.join` and `hal.device.queue.dealloca`, the last per-call hal calls of
the data-tiled programs (the release of their queue-allocated scratch buffers and the join
of its fences).

* `fence.join` (flags, fences...): every fence null, or a signalled, unfailed `!hal.fence`
  (at most native.MAX_FENCES of them): pops a fence from the LocalHal's fence pool
  (hal/pools.ObjectPool, the one fence.create uses) and marks it signalled, as the Python
  implementation makes a signalled Fence. Anything else (a pending or failed fence, a
  foreign object, an empty pool) is Python's, which joins the states or raises.
* `device.queue.dealloca` (device, affinity, wait, signal, buffer, flags): a Device, the
  fences as execute takes them (hal/execute.check_fences), a non-null `!hal.buffer`: the
  synchronous HAL has nothing to free (the buffer lives as long as something holds it),
  so it signals the signal fence. Anything else is Python's, which raises IREE's error.
"""
from __future__ import annotations

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..intrinsics.native_entry import Entry, counted_loop
from ..runtime import abi
from . import execute as X
from .command_buffer import NativeCall, NativePooledCall, _object
from .local import FENCE_READY, FENCE_SIGNALED
from .native import MAX_FENCES, _span_start
from .pools import ObjectPool, pop_pooled

_TAGS = abi.HOST_TYPE_TAGS
BUFFER, DEVICE, FENCE = _TAGS["!hal.buffer"], _TAGS["!hal.device"], _TAGS["!hal.fence"]
_FRAME = 56


def _join(e: Entry, pool_address: int) -> None:
    a = e.a
    a.mov(R.ecx, e.arg("count", 32))
    a.cmp(R.ecx, MAX_FENCES)
    a.ja(e.slow)
    with counted_loop(a, R.r8, R.rcx, "fence"):
        null = Label("null_fence")
        a.mov(R.rax, qword[R.Mem(R.rsi, R.r8, 8, _span_start(e, "count"))])
        a.test(R.rax, R.rax)
        a.jz(null)
        a.cmp(dword[R.rax + abi.BUF_TYPE], FENCE)
        a.jne(e.slow)
        a.cmp(dword[R.rax + abi.BUF_ACCESS], FENCE_READY)
        a.jne(e.slow)
        a.label(null)
    pop_pooled(e, pool_address, R.r9, R.r9)
    a.mov(dword[R.r9 + abi.BUF_ACCESS], FENCE_SIGNALED)
    a.mov(qword[R.rdx], R.r9)


def _dealloca(e: Entry) -> None:
    a = e.a
    _object(e, "device", DEVICE, R.rax)
    X.check_fences(e)
    _object(e, "buffer", BUFFER, R.rax)
    signalled = Label("signalled")
    a.mov(R.r8, qword[R.rsp + X._SIGNAL])
    a.test(R.r8, R.r8)
    a.jz(signalled)
    a.or_(dword[R.r8 + abi.BUF_ACCESS], FENCE_SIGNALED)
    a.label(signalled)


#: name -> (calling convention, argument types as the entry reads them, field names, body,
#: stub frame): command_buffer.ENTRIES rows
ENTRIES = {
    "fence.join": ("0ICrD_r", ("i64", "i32"), ("flags", "count"), _join, _FRAME),
    "device.queue.dealloca": ("0rIrrrI_v", ("ref", "i64", "ref", "ref", "ref", "i64"),
                              ("device", "affinity", "wait", "signal", "buffer", "flags"),
                              _dealloca, X._FRAME),
}


def entries(hal) -> dict:
    """The LocalHal `hal`'s fence.join and queue.dealloca with native entries."""
    pool: ObjectPool = hal.fence_pool
    return {
        "fence.join": NativePooledCall("fence.join", hal.fence_join, pool, ENTRIES),
        "device.queue.dealloca": NativeCall("device.queue.dealloca", hal.queue_dealloca,
                                            table=ENTRIES),
    }
