"""Native f32 mmt4d (x86-64 AVX2 + FMA): the tile loops, generated per tile shape by our
assembler, and the native entries of `vmvx.mmt4d` and `vmvx.query_tile_sizes.2d`.

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

Entries (see native_entry.py for the frame and the fallback): `assemble_mmt4d` runs a whole
`vmvx.mmt4d` call in machine code when it is the ordinary case of the model's native path
(intrinsics/vmvx.py `_native_mmt4d`): flags f32 plus no bits but accumulate, allow-generic
and skip-intermediate-roundings (which f32 tiles ignore),
K0 = 1, (M0, N0) one of `native_tile_shapes()` (an architecture tile of this CPU, so fused,
that a tile loop exists for), M, N, K in [1, 2**31), offsets and row strides in [0, 2**31),
every element in bounds, non-null buffers, a mutable output whose rows do not overlap (row
stride >= N*M0*N0 when M > 1) and whose byte range is disjoint from both inputs'. Then it
calls the shape's tile loop with flushed denormals; the bits are the model's. Every other
call (generic tiles, s8, K = 0, overlap, errors) goes to the model. `assemble_query` answers
`query_tile_sizes.2d` from a table of this CPU's answers (a pure function of the flags' low
16 bits); flags the model rejects go to the model.
"""
from __future__ import annotations

import ctypes

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.cpu import host_features
from ..emit_x64.operands import Label, dword, qword, ymmword
from ..runtime.grid import enter_flush_denormals, stub_entry, stub_exit
from ..runtime.memory import ExecutableMemory
from . import vmvx as V
from .native_entry import Entry


class Mmt4dParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int64) for name in (
        "out", "out_stride", "lhs", "lhs_stride", "rhs", "rhs_stride", "m", "n", "k",
        "accumulate", "flush_denormals")]


_OFF = {name: 8 * i for i, (name, _) in enumerate(Mmt4dParams._fields_)}
MMT4D_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
MAX_ACCUMULATORS = 14  # ymm0-13; ymm15 holds the broadcast lhs value
_CACHE: dict[tuple[int, int], object] = {}


def _assemble(m0: int, n0: int) -> bytes:
    a = Assembler({"base", "sse", "sse2", "avx", "avx2", "fma"})
    p = R.r15
    cols = n0 // 8
    acc = [[R.YMMS[m * cols + c] for c in range(cols)] for m in range(m0)]
    # the rhs row of a k step stays in registers when they are left over (one load each,
    # not one per lhs row); otherwise each fma reads it from memory
    held = m0 * cols + cols < 16
    rhs = [R.YMMS[m0 * cols + c] if held else ymmword[R.rdi + 32 * c] for c in range(cols)]
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
    a.test(R.rcx, R.rcx)
    a.jz(k_done)
    a.label(k_loop)
    if held:
        for c in range(cols):
            a.vmovups(rhs[c], ymmword[R.rdi + 32 * c])
    for m in range(m0):
        a.vbroadcastss(R.ymm15, dword[R.rsi + 4 * m])
        for c in range(cols):
            a.vfmadd231ps(acc[m][c], R.ymm15, rhs[c])
    a.add(R.rsi, 4 * m0)
    a.add(R.rdi, 4 * n0)
    a.dec(R.rcx)
    a.jnz(k_loop)
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


def _tiles(m0: int, n0: int):
    """(mapping, ctypes function) of the tile loop for (M0, N0), or None; made once."""
    key = (m0, n0)
    if key not in _CACHE:
        fn = None
        if (m0 > 0 and n0 > 0 and n0 % 8 == 0 and m0 * (n0 // 8) <= MAX_ACCUMULATORS
                and {"avx2", "fma"} <= host_features()):
            memory = ExecutableMemory(_assemble(m0, n0))
            fn = (memory, MMT4D_FN(memory.address))
        _CACHE[key] = fn
    return _CACHE[key]


def mmt4d_f32_function(m0: int, n0: int):
    """The native tile loop for (M0, N0), or None (see the module docstring)."""
    entry = _tiles(m0, n0)
    return None if entry is None else entry[1]


# --- the vmvx entries ----------------------------------------------------------------------

MMT4D_FIELDS = ("lhs", "lhs_offset", "lhs_row_stride", "rhs", "rhs_offset", "rhs_row_stride",
                "out", "out_offset", "out_row_stride", "m", "n", "k", "m0", "n0", "k0", "flags")
QUERY_FIELDS = ("size0", "size1", "flags")
_PARAMS = 56                                  # [rsp + 56 ..]: the Mmt4dParams of the call
_MMT4D_FRAME = _PARAMS + ctypes.sizeof(Mmt4dParams) + 8
_FLAG_BITS = (V.MMT4D_ACCUMULATE | V.MMT4D_ALLOW_GENERIC_FALLBACK |
              V.MMT4D_SKIP_INTERMEDIATE_ROUNDINGS)


def native_tile_shapes() -> tuple[tuple[int, int], ...]:
    """The (M0, N0) the mmt4d entry runs natively: f32 architecture tiles (K0 = 1) of this
    CPU as IREE selects them (so the model computes them fused) that have a tile loop."""
    target = V.host_target()
    if target.arch != "x86_64":
        return ()
    return tuple((m0, n0) for n0 in (8, 16) for m0 in (1, 2, 4, 8, 16)
                 if V._mmt4d_arch_tile(target, V.MMT4D_TYPE_F32F32F32, m0, n0, 1)
                 and _tiles(m0, n0) is not None)


def assemble_mmt4d(name: str, fallback: int) -> bytes:
    assert name == "mmt4d"
    e = Entry(name, MMT4D_FIELDS, _MMT4D_FRAME)
    a, slow = e.a, e.slow
    p = {field: qword[R.rsp + _PARAMS + off] for field, off in _OFF.items()}
    a.mov(R.eax, e.arg("flags", 32))
    a.and_(R.eax, ~_FLAG_BITS)
    a.cmp(R.eax, V.MMT4D_TYPE_F32F32F32)
    a.jne(slow)
    a.cmp(e.arg("k0", 32), 1)
    a.jne(slow)
    found = Label("tile_found")
    for m0, n0 in native_tile_shapes():                 # r11 = the shape's tile loop
        other = Label()
        a.cmp(e.arg("m0", 32), m0)
        a.jne(other)
        a.cmp(e.arg("n0", 32), n0)
        a.jne(other)
        a.mov(R.r11, _tiles(m0, n0)[0].address)
        a.jmp(found)
        a.label(other)
    a.jmp(slow)
    a.label(found)
    e.size_minus_1(R.r8, "m")                           # r8 = M-1, r9 = N-1, r10 = K-1
    e.size_minus_1(R.r9, "n")
    e.size_minus_1(R.r10, "k")
    e.below_2_31("lhs_offset", "lhs_row_stride", "rhs_offset", "rhs_row_stride",
                 "out_offset", "out_row_stride")
    a.mov(R.r12d, e.arg("m0", 32))                      # M0, N0 (small and positive)
    a.mov(R.r13d, e.arg("n0", 32))
    # out: rows of N*M0*N0 elements; they must not overlap (the model's tile-by-tile path)
    a.lea(R.rbx, R.Mem(R.r9, None, 1, 1))
    a.imul(R.rbx, R.r12)
    a.imul(R.rbx, R.r13)                                # rbx = N*M0*N0
    rows_apart = Label("rows_apart")
    a.test(R.r8, R.r8)
    a.jz(rows_apart)
    a.cmp(e.arg("out_row_stride"), R.rbx)
    a.jb(slow)
    a.label(rows_apart)
    a.mov(R.rax, e.arg("out_row_stride"))               # last = (M-1)*stride + N*M0*N0 - 1
    a.imul(R.rax, R.r8)
    a.lea(R.rax, R.Mem(R.rax, R.rbx, 1, -1))
    e.map_buffer("out", "out_offset", R.rax, 2, True, R.r14, R.r15)
    a.mov(p["out"], R.r14)
    for operand, rows, tile in (("lhs", R.r8, R.r12), ("rhs", R.r9, R.r13)):
        a.mov(R.rax, e.arg(f"{operand}_row_stride"))    # last = rows*stride + K*T0 - 1
        a.imul(R.rax, rows)
        a.lea(R.rcx, R.Mem(R.r10, None, 1, 1))
        a.imul(R.rcx, tile)
        a.lea(R.rax, R.Mem(R.rax, R.rcx, 1, -1))
        e.map_buffer(operand, f"{operand}_offset", R.rax, 2, False, R.rbx, R.rdx)
        e.disjoint((R.rbx, R.rdx), (R.r14, R.r15))
        a.mov(p[operand], R.rbx)
    for operand in ("out", "lhs", "rhs"):               # row strides in bytes
        a.mov(R.rax, e.arg(f"{operand}_row_stride"))
        a.shl(R.rax, 2)
        a.mov(p[f"{operand}_stride"], R.rax)
    for field, reg in (("m", R.r8), ("n", R.r9), ("k", R.r10)):
        a.lea(R.rax, R.Mem(reg, None, 1, 1))
        a.mov(p[field], R.rax)
    a.mov(R.eax, e.arg("flags", 32))
    a.shr(R.eax, 8)
    a.and_(R.eax, 1)                                    # MMT4D_ACCUMULATE
    a.mov(p["accumulate"], R.rax)
    a.mov(p["flush_denormals"], int(V.host_target().flush_denormals))
    a.lea(R.rdi, qword[R.rsp + _PARAMS])
    a.call(R.r11)
    return e.finish(fallback)


def assemble_query(name: str, fallback: int) -> bytes:
    assert name == "query_tile_sizes.2d"
    query = V._make_query(V.host_target())
    e = Entry(name, QUERY_FIELDS, 56)
    a = e.a
    a.movzx(R.eax, R.word[R.rsi + e.offsets["flags"]])  # the model ignores bits 16-31
    done = Label("answered")
    for op in V._QTS_MATMUL_OPS:
        for role in (V.QTS_ROLE_LHS, V.QTS_ROLE_RHS, V.QTS_ROLE_RESULT):
            size0, size1 = query(0, 0, op | role)
            other = Label()
            a.cmp(R.eax, op | role)
            a.jne(other)
            a.mov(qword[R.rdx], size0)
            a.mov(qword[R.rdx + 8], size1)
            a.jmp(done)
            a.label(other)
    a.jmp(e.slow)
    a.label(done)
    return e.finish(fallback)


ASSEMBLERS = {"mmt4d": assemble_mmt4d, "query_tile_sizes.2d": assemble_query}
#: CPU features an entry needs beyond SSE2
NEEDS = {"mmt4d": {"avx2", "fma"}}
