"""A native loop over a dispatch grid (x86-64): one call of a compiled function per point.

    int32 run_grid(Context* ctx, uint8* args, uint8* results, fn* function,
                   const GridParams* params, uint32 ids[3])

calls `function(ctx, args, results)` for z in [0, count[2]), y in [0, count[1]), x in
[0, count[0]) (x fastest) with `ids` = (x, y, z) written before each call; `ids` points into
`args` (the workgroup id arguments). Returns 0, or the first non-zero status (the trap
report stays in the Context). With FLUSH_DENORMALS the calls run with MXCSR FTZ|DAZ set
(restored on return), as IREE's local HAL runs every dispatch; with RESET_FUEL each call
starts with `params.fuel` in `Context.fuel`. The stub is assembled once per process by our
own assembler and mapped read-execute like any other code.
"""
from __future__ import annotations

import ctypes

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.cpu import BASELINE
from ..emit_x64.operands import Label, dword
from . import abi
from .memory import ExecutableMemory

FLUSH_DENORMALS = 1
RESET_FUEL = 2
MXCSR_FTZ_DAZ = 0x8040


class GridParams(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint32 * 3), ("flags", ctypes.c_uint32),
                ("fuel", ctypes.c_int64)]


GRID_FN = ctypes.PYFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                           ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_STUB: tuple | None = None


def enter_flush_denormals(a: Assembler, skip_unless) -> None:
    """Emit: save MXCSR at [rsp] (8 bytes reserved there) and, unless `skip_unless(a,
    label)` jumps to `label`, set FTZ|DAZ. `leave_flush_denormals` restores it."""
    no_flush = Label("no_flush")
    a.stmxcsr(dword[R.rsp])
    skip_unless(a, no_flush)
    a.mov(R.eax, dword[R.rsp])
    a.or_(R.eax, MXCSR_FTZ_DAZ)
    a.mov(dword[R.rsp + 4], R.eax)
    a.ldmxcsr(dword[R.rsp + 4])
    a.label(no_flush)


def leave_flush_denormals(a: Assembler) -> None:
    a.ldmxcsr(dword[R.rsp])


#: What the native stubs save: every callee-saved GPR (6 pushes).
STUB_SAVED = (R.rbx, R.rbp, R.r12, R.r13, R.r14, R.r15)


def stub_entry(a: Assembler, frame: int) -> None:
    """Push STUB_SAVED, then reserve `frame` bytes at [rsp] (`frame` = 8 mod 16 keeps rsp
    16-aligned for calls; [rsp] is the MXCSR save slot of `enter_flush_denormals`)."""
    assert frame % 16 == 8
    for r in STUB_SAVED:
        a.push(r)
    a.sub(R.rsp, frame)


def stub_leave(a: Assembler, frame: int) -> None:
    """Undo `stub_entry` (without returning: callers `ret` or tail-jump)."""
    a.add(R.rsp, frame)
    for r in reversed(STUB_SAVED):
        a.pop(r)


def stub_exit(a: Assembler, frame: int = 8) -> None:
    """The common stub epilogue: restore MXCSR, undo `stub_entry`, return."""
    leave_flush_denormals(a)
    stub_leave(a, frame)
    a.ret()


def _skip_unless_flag(a: Assembler, label: Label) -> None:
    a.test(dword[R.r15 + 12], FLUSH_DENORMALS)
    a.jz(label)


def _assemble() -> bytes:
    a = Assembler(BASELINE)
    stub_entry(a, 8)
    a.mov(R.rbx, R.rdi)
    a.mov(R.r12, R.rsi)
    a.mov(R.r13, R.rdx)
    a.mov(R.r14, R.rcx)
    a.mov(R.r15, R.r8)
    a.mov(R.rbp, R.r9)
    done, out = Label("done"), Label("out")
    enter_flush_denormals(a, _skip_unless_flag)
    loops = []
    for axis in (2, 1, 0):  # z, y, x: each loop counts in its ids[] slot
        head, tail = Label(f"head{axis}"), Label(f"tail{axis}")
        a.mov(dword[R.rbp + 4 * axis], 0)
        a.label(head)
        a.mov(R.eax, dword[R.rbp + 4 * axis])
        a.cmp(R.eax, dword[R.r15 + 4 * axis])
        a.jae(tail)
        loops.append((axis, head, tail))
    keep_fuel = Label("keep_fuel")
    a.test(dword[R.r15 + 12], RESET_FUEL)
    a.jz(keep_fuel)
    a.mov(R.rax, R.qword[R.r15 + 16])
    a.mov(R.qword[R.rbx + abi.CTX_FUEL], R.rax)
    a.label(keep_fuel)
    a.mov(R.rdi, R.rbx)
    a.mov(R.rsi, R.r12)
    a.mov(R.rdx, R.r13)
    a.call(R.r14)
    a.test(R.eax, R.eax)
    a.jnz(out)
    for k, (axis, head, tail) in enumerate(reversed(loops)):
        a.inc(dword[R.rbp + 4 * axis])
        a.jmp(head)
        a.label(tail)
        if axis == 2:
            break
    a.label(done)
    a.xor(R.eax, R.eax)
    a.label(out)
    stub_exit(a)
    return a.finish()


def run_grid_function():
    """The process's grid-loop stub as a ctypes function (see the module docstring)."""
    global _STUB
    if _STUB is None:
        memory = ExecutableMemory(_assemble(), "splatjit:grid_loop")
        _STUB = (memory, GRID_FN(memory.address))
    return _STUB[1]
