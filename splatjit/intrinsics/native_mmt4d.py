"""Native f32 mmt4d tiles (x86-64 AVX2 + FMA), generated per tile shape by our assembler.

    void mmt4d_f32(const Mmt4dParams* p)

For every (i, j) < (M, N): the M0 x N0 output tile at `out + i*out_stride + j*M0*N0*4`
becomes (accumulate ? itself : 0) plus, for k = 0 .. K-1 in order, the fused multiply-add
of lhs[i, k] (M0 values at `lhs + i*lhs_stride + k*M0*4`, broadcast per row) with rhs[j, k]
(N0 values at `rhs + j*rhs_stride + k*N0*4`). Strides are in bytes. Each output element sees
exactly the fused multiply-adds of IREE's architecture-specific f32 tile functions (K0 = 1)
in the same k order, so the results are bit-identical to them; with `flush_denormals` the
loop runs under MXCSR FTZ|DAZ as IREE's dispatches do (the caller's MXCSR is restored).

Contract: `mmt4d_f32_function(m0, n0)` returns a ctypes function, or None when this CPU lacks
AVX2/FMA or the shape does not fit the register file (N0 a multiple of 8, M0 * N0/8 <= 14
accumulators); callers fall back to the numpy model then. Code is mapped read-execute once
per shape and kept for the process.
"""
from __future__ import annotations

import ctypes

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.cpu import host_features
from ..emit_x64.operands import Label, dword, qword, ymmword
from ..runtime.grid import enter_flush_denormals, stub_entry, stub_exit
from ..runtime.memory import ExecutableMemory


class Mmt4dParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int64) for name in (
        "out", "out_stride", "lhs", "lhs_stride", "rhs", "rhs_stride", "m", "n", "k",
        "accumulate", "flush_denormals")]


_OFF = {name: 8 * i for i, (name, _) in enumerate(Mmt4dParams._fields_)}
MMT4D_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
MAX_ACCUMULATORS = 14  # ymm0-13; ymm14/15 hold the broadcast lhs value and scratch
_CACHE: dict[tuple[int, int], object] = {}


def _assemble(m0: int, n0: int) -> bytes:
    a = Assembler({"base", "sse", "sse2", "avx", "avx2", "fma"})
    p = R.r15
    cols = n0 // 8
    acc = [[R.YMMS[m * cols + c] for c in range(cols)] for m in range(m0)]
    stub_entry(a, 8)
    a.mov(p, R.rdi)

    def skip_unless_flush(a, label):
        a.cmp(qword[p + _OFF["flush_denormals"]], 0)
        a.je(label)

    enter_flush_denormals(a, skip_unless_flush)  # MXCSR restored on return
    done, i_loop, i_next = Label("done"), Label("i"), Label("i_next")
    a.xor(R.r12, R.r12)                                   # i
    a.label(i_loop)
    a.cmp(R.r12, qword[p + _OFF["m"]])
    a.jae(done)
    a.mov(R.r8, R.r12)
    a.imul(R.r8, qword[p + _OFF["lhs_stride"]])
    a.add(R.r8, qword[p + _OFF["lhs"]])                   # lhs row i
    a.mov(R.r9, R.r12)
    a.imul(R.r9, qword[p + _OFF["out_stride"]])
    a.add(R.r9, qword[p + _OFF["out"]])                   # out tile (i, 0)
    a.mov(R.r10, qword[p + _OFF["rhs"]])                  # rhs row 0
    a.xor(R.r13, R.r13)                                   # j
    j_loop, k_loop, k_done, zero, loaded = (Label("j"), Label("k"), Label("k_done"),
                                            Label("zero"), Label("loaded"))
    a.label(j_loop)
    a.cmp(R.r13, qword[p + _OFF["n"]])
    a.jae(i_next)
    a.cmp(qword[p + _OFF["accumulate"]], 0)
    a.je(zero)
    for m in range(m0):
        for c in range(cols):
            a.vmovups(acc[m][c], ymmword[R.r9 + (m * n0 + 8 * c) * 4])
    a.jmp(loaded)
    a.label(zero)
    for row in acc:
        for r in row:
            a.vxorps(r, r, r)
    a.label(loaded)
    a.mov(R.rsi, R.r8)
    a.mov(R.rdi, R.r10)
    a.mov(R.rcx, qword[p + _OFF["k"]])
    a.label(k_loop)
    a.test(R.rcx, R.rcx)
    a.jz(k_done)
    for m in range(m0):
        a.vbroadcastss(R.ymm15, dword[R.rsi + 4 * m])
        for c in range(cols):
            a.vfmadd231ps(acc[m][c], R.ymm15, ymmword[R.rdi + 32 * c])
    a.add(R.rsi, 4 * m0)
    a.add(R.rdi, 4 * n0)
    a.dec(R.rcx)
    a.jmp(k_loop)
    a.label(k_done)
    for m in range(m0):
        for c in range(cols):
            a.vmovups(ymmword[R.r9 + (m * n0 + 8 * c) * 4], acc[m][c])
    a.add(R.r9, 4 * m0 * n0)
    a.add(R.r10, qword[p + _OFF["rhs_stride"]])
    a.inc(R.r13)
    a.jmp(j_loop)
    a.label(i_next)
    a.inc(R.r12)
    a.jmp(i_loop)
    a.label(done)
    a.vzeroupper()
    stub_exit(a)
    return a.finish()


def mmt4d_f32_function(m0: int, n0: int):
    """The native tile loop for (M0, N0), or None (see the module docstring)."""
    key = (m0, n0)
    if key not in _CACHE:
        fn = None
        if (m0 > 0 and n0 > 0 and n0 % 8 == 0 and m0 * (n0 // 8) <= MAX_ACCUMULATORS
                and {"avx2", "fma"} <= host_features()):
            memory = ExecutableMemory(_assemble(m0, n0))
            fn = (memory, MMT4D_FN(memory.address))
        _CACHE[key] = fn
    entry = _CACHE[key]
    return None if entry is None else entry[1]
