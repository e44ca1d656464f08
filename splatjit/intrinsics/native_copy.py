"""Native x86-64 entries for the `vmvx` data movement without arithmetic: copy.2d.x8 / x16 /
x32 / x64 and fill.2d.x32 (IREE 3.13's vmvx module exports no other fill width).

Contract (see native_entry.py for the frame and the fallback): an ordinary call runs entirely
in machine code: non-null buffers, a mutable output, sizes in [1, 2**31), offsets and strides
in [0, 2**31), every element in bounds, and, for a copy, the output's byte range disjoint from
the input's. Any other call tail-jumps to the Python model (intrinsics/vmvx.py), which keeps
IREE's errors and the element order of copies between overlapping ranges.

Both loops go row by row, each row left to right, as IREE's C loops do; so an output that
overlaps itself (a zero or short stride) ends as the model's does: the last write wins.
A row whose elements are consecutive in both buffers (column stride 1) is copied 16 bytes at
a time; other rows element by element. A fill stores one value everywhere (16 bytes at a
time), so its order cannot matter.

`ASSEMBLERS` maps op name -> `assemble(name, fallback) -> bytes` (native_x64 registers them).
"""
from __future__ import annotations

from ..emit_x64 import operands as R
from ..emit_x64.operands import Label, dword, qword
from ..emit_x64.ops_memory import wide_stores
from .native_entry import SIZED, Entry, copy_bytes

COPY_SHIFT = {"copy.2d.x8": 0, "copy.2d.x16": 1, "copy.2d.x32": 2, "copy.2d.x64": 3}
COPY_FIELDS = ("in", "in_offset", "in_stride0", "in_stride1",
               "out", "out_offset", "out_stride0", "out_stride1", "size0", "size1")
FILL_FIELDS = ("value", "out", "out_offset", "out_row_stride", "size0", "size1")
_FRAME = 56   # the saved call registers only: the loops live in registers


def _last_index(e: Entry, stride0: str, stride1: str | None) -> None:
    """rax = (n0-1)*stride0 + (n1-1)*stride1 (stride1 None: 1) with rdx = n0-1, rdi = n1-1."""
    a = e.a
    a.mov(R.rax, e.arg(stride0))
    a.imul(R.rax, R.rdx)
    if stride1 is None:
        a.add(R.rax, R.rdi)
    else:
        a.mov(R.rcx, e.arg(stride1))
        a.imul(R.rcx, R.rdi)
        a.add(R.rax, R.rcx)


def assemble_copy(name: str, fallback: int) -> bytes:
    shift = COPY_SHIFT[name]
    size = 1 << shift
    e = Entry(name, COPY_FIELDS, _FRAME)
    a = e.a
    e.size_minus_1(R.rdx, "size0")
    e.size_minus_1(R.rdi, "size1")
    e.below_2_31("in_offset", "in_stride0", "in_stride1", "out_offset", "out_stride0",
                 "out_stride1")
    for buf, (start, end) in (("in", (R.r8, R.r9)), ("out", (R.r10, R.r11))):
        _last_index(e, f"{buf}_stride0", f"{buf}_stride1")
        e.map_buffer(buf, f"{buf}_offset", R.rax, shift, buf == "out", start, end)
    e.disjoint((R.r8, R.r9), (R.r10, R.r11))
    for reg, field in ((R.r12, "in_stride0"), (R.r13, "out_stride0"), (R.r14, "in_stride1"),
                       (R.r15, "out_stride1")):
        a.mov(reg, e.arg(field))                       # strides in bytes
        if shift:
            a.shl(reg, shift)
    a.add(R.rdx, 1)                                    # rows
    a.add(R.rdi, 1)                                    # columns
    strided, done = Label("strided"), Label("done")
    a.cmp(R.r14, size)
    a.jne(strided)
    a.cmp(R.r15, size)
    a.jne(strided)
    if shift:
        a.shl(R.rdi, shift)                            # bytes per row
    rows = a.label(Label("rows"))
    a.mov(R.r9, R.r8)
    a.mov(R.r11, R.r10)
    a.mov(R.rcx, R.rdi)
    copy_bytes(a, R.r9, R.r11, R.rcx, size, R.rax)
    a.add(R.r8, R.r12)
    a.add(R.r10, R.r13)
    a.dec(R.rdx)
    a.jnz(rows)
    a.jmp(done)
    a.label(strided)
    element = R.rax.view(8 * size)
    rows, cols = Label("strided_rows"), Label("strided_cols")
    a.label(rows)
    a.mov(R.r9, R.r8)
    a.mov(R.r11, R.r10)
    a.mov(R.rcx, R.rdi)
    a.label(cols)
    a.mov(element, SIZED[size][R.r9])
    a.mov(SIZED[size][R.r11], element)
    a.add(R.r9, R.r14)
    a.add(R.r11, R.r15)
    a.dec(R.rcx)
    a.jnz(cols)
    a.add(R.r8, R.r12)
    a.add(R.r10, R.r13)
    a.dec(R.rdx)
    a.jnz(rows)
    a.label(done)
    return e.finish(fallback)


def assemble_fill(name: str, fallback: int) -> bytes:
    assert name == "fill.2d.x32"
    e = Entry(name, FILL_FIELDS, _FRAME)
    a = e.a
    e.size_minus_1(R.rdx, "size0")
    e.size_minus_1(R.rdi, "size1")
    e.below_2_31("out_offset", "out_row_stride")
    _last_index(e, "out_row_stride", None)
    e.map_buffer("out", "out_offset", R.rax, 2, True, R.r10, R.r11)
    a.mov(R.r13, e.arg("out_row_stride"))
    a.shl(R.r13, 2)                                    # row stride in bytes
    a.movd(R.xmm0, e.arg("value", 32))
    a.pshufd(R.xmm0, R.xmm0, 0)                        # the value in all four lanes
    a.movq(R.rax, R.xmm0)
    a.add(R.rdx, 1)                                    # rows
    a.lea(R.rdi, R.Mem(None, R.rdi, 4, 4))             # bytes per row
    rows, tail, four, next_row = Label("rows"), Label("tail"), Label("four"), Label("next_row")
    a.label(rows)
    a.mov(R.r11, R.r10)
    a.mov(R.rcx, R.rdi)
    a.cmp(R.rcx, 16)
    a.jb(tail)
    wide_stores(a, R.r11, R.rcx, R.xmm0)
    a.label(tail)
    a.test(R.ecx, 8)
    a.jz(four)
    a.mov(qword[R.r11], R.rax)
    a.add(R.r11, 8)
    a.label(four)
    a.test(R.ecx, 4)
    a.jz(next_row)
    a.mov(dword[R.r11], R.eax)
    a.label(next_row)
    a.add(R.r10, R.r13)
    a.dec(R.rdx)
    a.jnz(rows)
    return e.finish(fallback)


ASSEMBLERS = {**{name: assemble_copy for name in COPY_SHIFT}, "fill.2d.x32": assemble_fill}
