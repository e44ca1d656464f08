"""AArch64 target description for the allocator, and the native frame of a compiled function.

Registers (AAPCS64):
    allocatable  x9-x15 (caller-saved), x19-x28 (callee-saved); d16-d31 (caller-saved),
                 d8-d15 (callee-saved: only their low 64 bits, which is all a VM value uses)
    scratch      x0-x8 (operand temporaries, call and helper arguments), x16/x17 (IP0/IP1:
                 call targets, move-cycle breaking, large frame offsets), v0-v7
    reserved     x18 (platform register, never touched), x29 (frame pointer), x30 (link)

Frame (x29 = the saved x29/x30 pair; sp 16-byte aligned, fixed after the prologue):

    [x29 + 0]         saved x29, x30
    [x29 - 8]         Context*            [x29 - 16]   results buffer pointer
    [x29 - 24 ..]     saved callee-saved registers (8 bytes each, only those allocated)
    ...
    [sp + ref_base]   ref bank: ref r at ref_base + 8*r   (BufferDesc*/ListDesc*, 0 = null)
    [sp + i32_base]   i32 bank: slot s at i32_base + 4*s  (8-aligned: pairs are aligned)
    [sp + 0 ..]       outgoing args buffer, then results buffer, for internal calls

The header lives below x29 (small negative offsets, reached by LDUR/STP); the register banks
live above sp at positive offsets, reached by scaled LDR/STR (offsets beyond their range
go through x17, see `FunctionLowering.slot_mem`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..regalloc.target import TargetDesc
from . import operands as R

A64_TARGET = TargetDesc(
    name="aarch64",
    allocatable={"gpr": tuple(f"x{i}" for i in (*range(9, 16), *range(19, 29))),
                 "fpr": tuple(f"d{i}" for i in (*range(16, 32), *range(8, 16)))},
    callee_saved=frozenset({*(f"x{i}" for i in range(19, 29)), *(f"d{i}" for i in range(8, 16))}),
    scratch={"gpr": tuple(f"x{i}" for i in (*range(0, 9), 16, 17)),
             "fpr": tuple(f"d{i}" for i in range(0, 8))},
)

GPR_BY_NAME = {f"x{i}": R.x[i] for i in range(31)}
FPR_BY_NAME = {f"d{i}": R.v[i] for i in range(32)}  # VReg: pick .s / .d per value
CTX_OFF = -8
RESULTS_OFF = -16
SAVE_BASE = -24


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass
class Frame:
    """Byte offsets of one function's frame areas: the header relative to x29 (negative),
    the banks and the outgoing area relative to sp (positive)."""
    saved: tuple[str, ...]  # callee-saved registers to preserve ("x19", "d8", ...), save order
    i32_base: int
    ref_base: int
    out_size: int  # bytes of the outgoing call area at [sp]
    size: int      # bytes subtracted from sp after `stp x29, x30, [sp, #-16]!; mov x29, sp`

    @classmethod
    def layout(cls, saved, i32_count: int, ref_count: int, out_size: int) -> "Frame":
        header = 16 + 8 * len(saved)                # bytes below x29: ctx, results, saves
        i32_base = _align(out_size, 8)
        ref_base = i32_base + _align(4 * i32_count, 8)
        size = _align(ref_base + 8 * ref_count + header, 16)
        return cls(tuple(saved), i32_base, ref_base, out_size, size)

    def save_slot(self, i: int) -> int:
        """x29-relative offset of the i-th saved register."""
        return SAVE_BASE - 8 * i

    def slot(self, ordinal: int) -> int:
        """sp-relative offset of i32-bank slot `ordinal`."""
        return self.i32_base + 4 * ordinal

    def ref(self, ordinal: int) -> int:
        """sp-relative offset of ref-bank register `ordinal`."""
        return self.ref_base + 8 * ordinal
