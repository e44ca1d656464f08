"""The x86-64 `buffer_alloc` / `buffer_clone` helpers in machine code: a bump allocator over
the module's native arena (runtime/native_arena.py), assembled once per process.

    BufferDesc* buffer_alloc(Context* ctx, int64 length, int32 alignment)
    BufferDesc* buffer_clone(Context* ctx, BufferDesc* src, int64 offset, int64 length,
                             int32 alignment)

keep the contract of the Python helpers they replace (runtime/helpers.py): 0 (the generated
code then traps) for a length outside [0, MAX_ALLOCATION], for a clone of null or of a range
outside its source; otherwise a fresh zero-filled mutable buffer (a clone: then holding a
copy of the range) whose data is aligned to the alignment argument when it is a power of
two of at least 16, else to 16.

The arena state is found through the Context (abi.ARENA_* words after the helper table),
so one copy of the code serves every module. An allocation takes the descriptor (24 bytes)
at the cursor and the data at the next aligned address after it, then moves the cursor past
the data, rounded up to 16; it zeroes the data below ARENA_CLEAN (bytes from there up were
never handed out since the chunk was made, so they are still zero) and raises ARENA_CLEAN to
the new cursor. When the chunk has no room (or the alignment is above MAX_ARENA_ALIGN) the
refill callback runs with the original arguments; it returns a buffer of its own, 0, or
ARENA_RETRY once it has installed a chunk with room, and then the allocation is tried once
more (a second miss returns 0). Memory is zeroed and copied with libc memset / memcpy.
"""
from __future__ import annotations

import ctypes

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.cpu import BASELINE
from ..emit_x64.operands import Label, dword, qword
from . import abi
from .memory import ExecutableMemory

#: Largest alignment the machine code serves from a chunk; larger ones go to the refill.
MAX_ARENA_ALIGN = 4096
#: Smallest data alignment (as the Python helpers: 16).
MIN_ALIGN = 16
#: The cursor stays a multiple of this.
CURSOR_ALIGN = 16

_libc = ctypes.CDLL(None)
_STUB: tuple | None = None


def _libc_address(name: str) -> int:
    return ctypes.cast(getattr(_libc, name), ctypes.c_void_p).value


def _bump(a: Assembler, miss: Label) -> None:
    """rax = a descriptor carved from the chunk, or jump to `miss` having written nothing.
    In: rsi length (checked), r8 alignment (normalised), r9 the helper table. Clobbers
    rcx, rdx, rdi, r10, r11 and (through memset) the caller-saved registers but rax."""
    done = Label("bumped")
    a.mov(R.rax, qword[R.r9 + abi.ARENA_CURSOR])
    a.lea(R.rcx, qword[R.rax + R.r8 + (abi.BUF_SIZE - 1)])
    a.mov(R.rdx, R.r8)
    a.neg(R.rdx)
    a.and_(R.rcx, R.rdx)                                  # rcx: the data
    a.lea(R.r10, qword[R.rcx + R.rsi + (CURSOR_ALIGN - 1)])
    a.and_(R.r10, -CURSOR_ALIGN)                          # r10: the new cursor
    a.cmp(R.r10, qword[R.r9 + abi.ARENA_LIMIT])
    a.ja(miss)
    a.mov(qword[R.r9 + abi.ARENA_CURSOR], R.r10)
    a.mov(qword[R.rax + abi.BUF_DATA], R.rcx)
    a.mov(qword[R.rax + abi.BUF_LENGTH], R.rsi)
    a.mov(dword[R.rax + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
    a.mov(dword[R.rax + abi.BUF_TYPE], abi.TYPE_BUFFER)
    a.mov(R.r11, qword[R.r9 + abi.ARENA_CLEAN])          # r11: the old clean mark
    a.mov(R.rdx, R.r11)
    a.cmp(R.r10, R.rdx)
    a.cmova(R.rdx, R.r10)
    a.mov(qword[R.r9 + abi.ARENA_CLEAN], R.rdx)          # max(clean, new cursor)
    a.lea(R.rdx, qword[R.rcx + R.rsi])
    a.cmp(R.rdx, R.r11)
    a.cmova(R.rdx, R.r11)                                 # zero [data, min(end, clean))
    a.sub(R.rdx, R.rcx)
    a.jbe(done)
    a.push(R.rax)                                         # rsp 16-aligned for the call
    a.mov(R.rdi, R.rcx)
    a.xor(R.esi, R.esi)
    a.mov(R.rax, _libc_address("memset"))
    a.call(R.rax)
    a.pop(R.rax)
    a.label(done)


def _alloc(a: Assembler) -> None:
    """buffer_alloc, entered with rsp = 8 mod 16."""
    zero, slow, out = Label("zero"), Label("slow"), Label("out")
    a.mov(R.eax, abi.MAX_ALLOCATION)
    a.cmp(R.rsi, R.rax)
    a.ja(zero)                                            # unsigned: negative lengths too
    a.movsxd(R.r8, R.edx)
    a.mov(R.ecx, MIN_ALIGN)
    a.lea(R.r10, qword[R.r8 - 1])
    a.test(R.r10, R.r8)
    a.cmovne(R.r8, R.rcx)                                 # not a power of two: 16
    a.cmp(R.r8, MIN_ALIGN)
    a.cmovl(R.r8, R.rcx)                                  # below 16 (or <= 0): 16
    a.cmp(R.r8, MAX_ARENA_ALIGN)
    a.ja(slow)
    a.mov(R.r9, qword[R.rdi + abi.CTX_HELPERS])
    _bump(a, slow)
    a.ret()
    a.label(slow)                                         # refill(ctx, length, alignment)
    for reg in (R.rdi, R.rsi, R.rdx, R.r8):
        a.push(reg)
    a.sub(R.rsp, 8)
    a.mov(R.rax, qword[R.rdi + abi.CTX_HELPERS])
    a.call(qword[R.rax + abi.ARENA_REFILL])
    a.add(R.rsp, 8)
    for reg in (R.r8, R.rdx, R.rsi, R.rdi):
        a.pop(reg)
    a.cmp(R.rax, abi.ARENA_RETRY)
    a.jne(out)                                            # its own buffer, or 0
    a.mov(R.r9, qword[R.rdi + abi.CTX_HELPERS])
    _bump(a, zero)                                        # a second miss fails
    a.ret()
    a.label(zero)
    a.xor(R.eax, R.eax)
    a.label(out)
    a.ret()


def _clone(a: Assembler, alloc: Label) -> None:
    """buffer_clone: checks as the Python helper, then buffer_alloc and a copy."""
    zero, out = Label("clone_zero"), Label("clone_out")
    a.test(R.rsi, R.rsi)
    a.jz(zero)
    a.mov(R.eax, abi.MAX_ALLOCATION)
    a.cmp(R.rcx, R.rax)
    a.ja(zero)
    a.test(R.rdx, R.rdx)
    a.js(zero)
    a.mov(R.rax, qword[R.rsi + abi.BUF_LENGTH])
    a.cmp(R.rdx, R.rax)
    a.ja(zero)
    a.sub(R.rax, R.rdx)
    a.cmp(R.rcx, R.rax)
    a.ja(zero)
    a.mov(R.rax, qword[R.rsi + abi.BUF_DATA])
    a.add(R.rax, R.rdx)
    a.push(R.rax)                                         # the source bytes
    a.push(R.rcx)                                         # the length
    a.sub(R.rsp, 8)
    a.mov(R.rsi, R.rcx)
    a.mov(R.edx, R.r8d)
    a.call(alloc)
    a.add(R.rsp, 8)
    a.pop(R.rdx)
    a.pop(R.rsi)
    a.test(R.rax, R.rax)
    a.jz(out)
    a.push(R.rax)
    a.mov(R.rdi, qword[R.rax + abi.BUF_DATA])
    a.mov(R.rax, _libc_address("memcpy"))
    a.call(R.rax)
    a.pop(R.rax)
    a.label(out)
    a.ret()
    a.label(zero)
    a.xor(R.eax, R.eax)
    a.ret()


def _assemble() -> tuple[bytes, int]:
    """(code, offset of buffer_clone); buffer_alloc is at 0."""
    a = Assembler(BASELINE)
    alloc, clone = Label("buffer_alloc"), Label("buffer_clone")
    a.label(alloc)
    _alloc(a)
    a.align(16)
    a.label(clone)
    _clone(a, alloc)
    code = a.finish()
    return code, a.label_offset(clone)


def native_helpers() -> tuple[int, int]:
    """(buffer_alloc, buffer_clone) code addresses of the process's stub (mapped once,
    read-execute, never freed)."""
    global _STUB
    if _STUB is None:
        code, clone = _assemble()
        memory = ExecutableMemory(code, "splatjit:native_alloc")
        _STUB = (memory, memory.address, memory.address + clone)
    return _STUB[1], _STUB[2]
