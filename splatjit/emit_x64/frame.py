"""x86-64 target description for the allocator, and the native frame of a compiled function.

Frame (rbp-relative, growing down; rsp stays 16-byte aligned at calls):

    [rbp - 8]     Context*            [rbp - 16]   results buffer pointer
    [rbp - 24 ..] saved callee-saved registers (8 bytes each, only those allocated)
    i32 bank      slot s at i32_base + 4*s     (8-aligned, so pairs are naturally aligned)
    ref bank      ref r at ref_base + 8*r      (pointers to BufferDesc, 0 = null)
    [rsp + 0 ..]  outgoing args buffer, then results buffer, for internal calls

Scratch registers (never allocated): rax, rcx, rdx, r10, r11, xmm0, xmm1.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..regalloc.target import TargetDesc
from . import operands as R

X64_TARGET = TargetDesc(
    name="x86_64",
    allocatable={"gpr": ("rbx", "r12", "r13", "r14", "r15", "rsi", "rdi", "r8", "r9"),
                 "fpr": tuple(f"xmm{i}" for i in range(2, 16))},
    callee_saved=frozenset({"rbx", "r12", "r13", "r14", "r15"}),
    scratch={"gpr": ("rax", "rcx", "rdx", "r10", "r11"), "fpr": ("xmm0", "xmm1")},
)

GPR_BY_NAME = {r.name: r for r in R.GPR64}
XMM_BY_NAME = {r.name: r for r in R.XMMS}
#: bits of a value of each VM type in a register or frame slot
SIZE = {"i32": 32, "f32": 32, "i64": 64, "f64": 64, "x32": 32}
CTX_OFF = -8
RESULTS_OFF = -16
SAVE_BASE = -24


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass
class Frame:
    """Byte offsets (relative to rbp) of one function's frame areas."""
    saved: tuple[str, ...]  # callee-saved registers to preserve, in save order
    i32_base: int
    ref_base: int
    out_size: int  # bytes of the outgoing call area at [rsp]
    size: int      # bytes subtracted from rsp after `push rbp; mov rbp, rsp`

    @classmethod
    def layout(cls, saved, i32_count: int, ref_count: int, out_size: int) -> "Frame":
        top = -SAVE_BASE + 8 * len(saved)            # bytes used above the register banks
        i32_base = -(top + _align(4 * i32_count, 8))
        ref_base = i32_base - 8 * ref_count
        size = _align(-ref_base + out_size, 16)
        return cls(tuple(saved), i32_base, ref_base, out_size, size)

    def save_slot(self, i: int) -> int:
        return SAVE_BASE - 8 * i

    def slot(self, ordinal: int) -> int:
        return self.i32_base + 4 * ordinal

    def ref(self, ordinal: int) -> int:
        return self.ref_base + 8 * ordinal
