"""Native x86-64 entries for the `vmvx.*` element-wise microkernels: the binary f32 / i32
ops (i32 division after a pass that sends zero divisors and INT_MIN / -1 to the model), abs /
neg / floor / ceil / rsqrt / ctlz, and exp / log (a call of glibc's `expf` / `logf` per
element, the function IREE's ukernel calls); and the registry of every native vmvx entry
(`ASSEMBLERS`: these, native_copy's copies and fill, native_pack's pack and unpack,
native_mmt4d's mmt4d and query_tile_sizes.2d).

Each entry speaks the JIT's import ABI (`int32 fn(Context*, args, results)`, args in
calling-convention layout) and runs the whole 2-D loop in machine code when the call is the
ordinary case: non-null buffers, a mutable output, sizes in [1, 2**31), offsets and strides
in [0, 2**31), every element in bounds, and the output's byte range disjoint from the
inputs'. Any other call tail-jumps to the op's Python implementation (intrinsics/vmvx.py),
which reproduces IREE's checks, errors and overlap semantics exactly; so the fast path only
ever computes what the Python model computes, with the same instructions IREE's C build
uses per element (SSE scalar ops under MXCSR FTZ|DAZ for f32, as IREE's dispatches run).

Contract: `native_provider(python_provider)` wraps the ops of `ASSEMBLERS` whose CPU
features (`NEEDS`) this CPU has in `NativeIntrinsic`s:
still callables (the AArch64 backend and direct callers use the Python function), plus
`native_code(fallback_address)` (the entry's position-independent bytes, which the x86-64
import table maps with its other entries and keeps mapped) and `native_entry` (the same,
mapped on its own). The fallback address is embedded; entries of one op differ only in
that address, so each op is assembled once per process (runtime/patched_code.py); those
in EMBEDS_MODULE_CODE once per copy of the code they call.
"""
from __future__ import annotations

from ..emit_x64 import operands as R
from ..emit_x64.cpu import BASELINE, host_features
from ..emit_x64.ops_float import libm_address
from ..emit_x64.operands import Label, dword, qword
from ..runtime.grid import enter_flush_denormals, leave_flush_denormals
from ..runtime.memory import ExecutableMemory
from ..runtime.patched_code import patched
from . import native_copy, native_mmt4d, native_pack
from .native_entry import Entry

#: (row pointer, current pointer, column stride) registers per operand, in operand order.
_OPERAND_REGS = ((R.r8, R.r11, R.r14), (R.r9, R.r12, R.r15), (R.r10, R.r13, R.rbx))
_FRAME = 120         # [rsp]: MXCSR save, [rsp+8..24]: row strides, [rsp+24]: libm function
                     # (unary only), [rsp+32..48]: rdi rsi rdx, [rsp+56..80]: loop state,
                     # [rsp+88..112]: row pointers and rows of a checked loop's first pass


def _f32_binary(op):
    def body(a, lhs, rhs, out):
        a.movss(R.xmm0, dword[lhs])
        getattr(a, op)(R.xmm0, dword[rhs])
        a.movss(dword[out], R.xmm0)
    return body


def _i32_binary(op):
    def body(a, lhs, rhs, out):
        a.mov(R.eax, dword[lhs])
        getattr(a, op)(R.eax, dword[rhs])
        a.mov(dword[out], R.eax)
    return body


def _i32_shift(op):
    def body(a, lhs, rhs, out):
        a.mov(R.eax, dword[lhs])
        a.mov(R.ecx, dword[rhs])
        getattr(a, op)(R.eax, R.cl)          # x86 masks the count to 5 bits, as IREE's build
        a.mov(dword[out], R.eax)
    return body


def _bits_unary(op, mask):
    def body(a, src, out):
        a.mov(R.eax, dword[src])
        getattr(a, op)(R.eax, mask)
        a.mov(dword[out], R.eax)
    return body


def _round(mode: int):
    def body(a, src, out):
        a.roundss(R.xmm0, dword[src], mode)          # DAZ: a denormal input rounds as 0
        a.movss(dword[out], R.xmm0)
    return body


def _rsqrt(a, src, out):
    """1.0f / sqrtf(x), the ukernel's two correctly rounded steps."""
    a.sqrtss(R.xmm0, dword[src])
    a.movss(R.xmm1, a.const_f32(1.0))
    a.divss(R.xmm1, R.xmm0)
    a.movss(dword[out], R.xmm1)


def _ctlz(a, src, out):
    a.lzcnt(R.eax, dword[src])                      # lzcnt(0) = 32, as the ukernel
    a.mov(dword[out], R.eax)


def _i32_divide(signed: bool):
    """(check, body): the check rejects a zero divisor (and INT_MIN / -1 when signed), which
    the model turns into an error (IREE's process dies of SIGFPE there)."""
    def check(a, lhs, rhs, out, slow):
        ok = Label()
        a.mov(R.ecx, dword[rhs])
        a.test(R.ecx, R.ecx)
        a.jz(slow)
        if signed:
            a.cmp(R.ecx, -1)
            a.jne(ok)
            a.cmp(dword[lhs], -0x80000000)
            a.je(slow)
            a.label(ok)

    def body(a, lhs, rhs, out):
        a.mov(R.eax, dword[lhs])
        if signed:
            a.cdq()
            a.idiv(dword[rhs])
        else:
            a.xor(R.edx, R.edx)
            a.div(dword[rhs])
        a.mov(dword[out], R.eax)
    return check, body


#: checked binary ops: name -> (check, body)
CHECKED = {"divs.2d.i32": _i32_divide(True), "divu.2d.i32": _i32_divide(False)}

#: op name -> (operand count incl. output, element body, uses floating point)
BINARY = {
    "add.2d.f32": _f32_binary("addss"), "sub.2d.f32": _f32_binary("subss"),
    "mul.2d.f32": _f32_binary("mulss"), "div.2d.f32": _f32_binary("divss"),
    "add.2d.i32": _i32_binary("add"), "sub.2d.i32": _i32_binary("sub"),
    "mul.2d.i32": _i32_binary("imul"), "and.2d.i32": _i32_binary("and_"),
    "or.2d.i32": _i32_binary("or_"), "xor.2d.i32": _i32_binary("xor"),
    "shl.2d.i32": _i32_shift("shl"), "shrs.2d.i32": _i32_shift("sar"),
    "shru.2d.i32": _i32_shift("shr"),
}
UNARY = {
    "abs.2d.f32": _bits_unary("and_", 0x7FFFFFFF), "neg.2d.f32": _bits_unary("xor", -0x80000000),
    "floor.2d.f32": _round(9), "ceil.2d.f32": _round(10),
    "rsqrt.2d.f32": _rsqrt, "ctlz.2d.i32": _ctlz,
}
#: ops whose element is a call of glibc's function (what IREE's ukernel calls)
LIBM_UNARY = {"exp.2d.f32": "expf", "log.2d.f32": "logf"}
#: CPU features an op's body needs beyond SSE2
NEEDS = {"floor.2d.f32": {"sse4_1"}, "ceil.2d.f32": {"sse4_1"}, "ctlz.2d.i32": {"lzcnt"},
         **native_mmt4d.NEEDS}
FLOAT_OPS = frozenset({"add.2d.f32", "sub.2d.f32", "mul.2d.f32", "div.2d.f32", "floor.2d.f32",
                       "ceil.2d.f32", "rsqrt.2d.f32", *LIBM_UNARY})


def _fields(n_buffers: int) -> tuple[str, ...]:
    """Argument names of a 2-D op with `n_buffers` buffers (inputs, then out): (r I I I)* I I."""
    names = ("lhs", "rhs", "out") if n_buffers == 3 else ("in", "out")
    return tuple(f for b in names for f in (b, f"{b}_offset", f"{b}_stride0", f"{b}_stride1")) \
        + ("size0", "size1")


def _assemble(name: str, fallback: int) -> bytes:
    binary = name in BINARY or name in CHECKED
    body = BINARY.get(name) or UNARY.get(name)
    n = 3 if binary else 2
    fields = _fields(n)
    buffers = [fields[4 * k:4 * k + 4] for k in range(n)]   # (desc, offset, stride0, stride1)
    regs = _OPERAND_REGS[:n - 1] + (_OPERAND_REGS[2],)   # inputs..., output last
    e = Entry(name, fields, _FRAME, BASELINE | NEEDS.get(name, set()))
    a, slow = e.a, e.slow
    e.size_minus_1(R.rdx, "size0")                     # rdx = n0 - 1, rdi = n1 - 1
    e.size_minus_1(R.rdi, "size1")
    ranges = []  # per operand: (start, end) byte addresses
    for k, ((desc, off, s0, s1), (row, cur, col)) in enumerate(zip(buffers, regs)):
        e.below_2_31(off, s0, s1)
        a.mov(R.rax, e.arg(s0))                        # last = (n0-1)*stride0 + (n1-1)*stride1
        a.imul(R.rax, R.rdx)
        a.mov(R.rcx, e.arg(s1))
        a.imul(R.rcx, R.rdi)
        a.add(R.rax, R.rcx)
        # row pointer; cur keeps the end of the range meanwhile
        e.map_buffer(desc, off, R.rax, 2, k == n - 1, row, cur)
        ranges.append((row, cur))
    for r in ranges[:-1]:                              # output disjoint from every input
        e.disjoint(r, ranges[-1])
    for k, ((_, _, s0, s1), (row, cur, col)) in enumerate(zip(buffers, regs)):
        a.mov(R.rax, e.arg(s0))
        a.shl(R.rax, 2)
        a.mov(qword[R.rsp + 8 + 8 * k], R.rax)
        a.mov(col, e.arg(s1))
        a.shl(col, 2)
    if name in FLOAT_OPS:
        enter_flush_denormals(a, lambda a, label: None)
    a.add(R.rdx, 1)                                    # rows left
    a.add(R.rdi, 1)
    if name in LIBM_UNARY:
        _call_loop(a, libm_address(LIBM_UNARY[name]))
    elif name in CHECKED:
        check, body = CHECKED[name]
        _checked_register_loop(a, regs, lambda a, *p: check(a, *p, slow), body)
    else:
        _register_loop(a, regs, body)
    if name in FLOAT_OPS:
        leave_flush_denormals(a)
    return e.finish(fallback)


def _register_loop(a, regs, body) -> None:
    """The 2-D loop with every pointer in a register (no calls inside); the rows left are
    counted in the frame so bodies may use rax, rcx and rdx."""
    a.mov(R.rbp, R.rdi)                                # columns per row
    a.mov(qword[R.rsp + 72], R.rdx)
    row_loop, col_loop = Label("row"), Label("col")
    a.label(row_loop)
    for row, cur, _ in regs:
        a.mov(cur, row)
    a.mov(R.rsi, R.rbp)
    a.label(col_loop)
    body(a, *[cur for _, cur, _ in regs])
    for _, cur, col in regs:
        a.add(cur, col)
    a.dec(R.rsi)
    a.jnz(col_loop)
    for k, (row, _, _) in enumerate(regs):
        a.add(row, qword[R.rsp + 8 + 8 * k])
    a.dec(qword[R.rsp + 72])
    a.jnz(row_loop)


def _checked_register_loop(a, regs, check, body) -> None:
    """Two passes: `check` over every element first (it jumps to the fallback on an element
    the model must reject, before anything is written), then `body`."""
    rows = [row for row, _, _ in regs]
    for k, row in enumerate(rows):
        a.mov(qword[R.rsp + 88 + 8 * k], row)
    a.mov(qword[R.rsp + 112], R.rdx)
    _register_loop(a, regs, check)
    a.mov(R.rdx, qword[R.rsp + 112])
    for k, row in enumerate(rows):
        a.mov(row, qword[R.rsp + 88 + 8 * k])
    _register_loop(a, regs, body)


def _call_loop(a, function: int) -> None:
    """The unary 2-D loop calling `float function(float)` per element: what survives the
    call lives in callee-saved registers (r12/r13 pointers, r14/rbx column strides, r15
    the column count) or in the frame (row pointers, rows left, columns per row)."""
    in_row, out_row = _OPERAND_REGS[0][0], _OPERAND_REGS[2][0]
    a.mov(qword[R.rsp + 56], in_row)
    a.mov(qword[R.rsp + 64], out_row)
    a.mov(qword[R.rsp + 72], R.rdx)
    a.mov(qword[R.rsp + 80], R.rdi)
    a.mov(R.rax, function)
    a.mov(qword[R.rsp + 24], R.rax)
    row_loop, col_loop = Label("row"), Label("col")
    a.label(row_loop)
    a.mov(R.r12, qword[R.rsp + 56])
    a.mov(R.r13, qword[R.rsp + 64])
    a.mov(R.r15, qword[R.rsp + 80])
    a.label(col_loop)
    a.movss(R.xmm0, dword[R.r12])
    a.call(qword[R.rsp + 24])
    a.movss(dword[R.r13], R.xmm0)
    a.add(R.r12, R.r14)
    a.add(R.r13, R.rbx)
    a.dec(R.r15)
    a.jnz(col_loop)
    for slot, stride in ((56, 8), (64, 16)):
        a.mov(R.rax, qword[R.rsp + slot])
        a.add(R.rax, qword[R.rsp + stride])
        a.mov(qword[R.rsp + slot], R.rax)
    a.dec(qword[R.rsp + 72])
    a.jnz(row_loop)


#: op name -> assemble(name, fallback address) -> code bytes, for every native vmvx entry
ASSEMBLERS = {**{n: _assemble for n in (*BINARY, *CHECKED, *UNARY, *LIBM_UNARY)},
              **native_copy.ASSEMBLERS, **native_pack.ASSEMBLERS, **native_mmt4d.ASSEMBLERS}


#: Ops whose entries call code that a module-level cache owns (native_mmt4d's tile loops):
#: their patched templates are keyed by that cache object (`_Owner`), which the key keeps
#: alive with its mappings, so a template's baked-in addresses never outlive the code they
#: call; a new cache (a harness that loads splatjit again) gets templates of its own.
EMBEDS_MODULE_CODE = frozenset({"mmt4d"})


class _Owner:
    """Part of a template key: equal only to an _Owner of the same object (identity), and
    holds that object (the cache owning the code a template calls) alive."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return type(other) is _Owner and other.obj is self.obj


class NativeIntrinsic:
    """A `vmvx` op's Python implementation plus its native x86-64 entry builder."""

    def __init__(self, name: str, fn):
        self.name, self.fn = name, fn
        self.pure = getattr(fn, "pure", False)  # see runtime/imports.pure_imports

    def __call__(self, *args):
        return self.fn(*args)

    def native_code(self, fallback: int, signature=None) -> bytes:
        """The position-independent code of a native entry falling back to the native-ABI
        function at `fallback` (the Python trampoline of this op; vmvx imports have the
        signatures of CCONV, so `signature` is not consulted)."""
        name, assemble = self.name, ASSEMBLERS[self.name]
        key = ("vmvx-native", name)
        if name in EMBEDS_MODULE_CODE:
            key += (_Owner(native_mmt4d._CACHE),)
        return patched(key, lambda a: assemble(name, a[0]), (fallback,))

    def native_entry(self, fallback: int, signature=None) -> tuple[int, object]:
        """(entry address, the mapping to keep alive) of `native_code`."""
        memory = ExecutableMemory(self.native_code(fallback, signature), f"splatjit:vmvx.{self.name}")
        return memory.address, memory


def native_provider(provider: dict) -> dict:
    """`provider` with the ops this module implements (on this CPU) wrapped in
    `NativeIntrinsic`s."""
    features = host_features()
    native = {n for n in ASSEMBLERS if NEEDS.get(n, set()) <= features}
    return {name: NativeIntrinsic(name, fn) if name in native else fn
            for name, fn in provider.items()}
