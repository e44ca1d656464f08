"""What every native `vmvx` entry shares: its frame, the checks that pick the fast path, and
the two ways out.

An entry speaks the JIT's import ABI (`int32 fn(Context*, args, results)`, args in
calling-convention layout, see runtime/abi.py). `Entry(op, fields, frame)` opens a stub frame
(grid.stub_entry: callee-saved registers pushed, `frame` bytes at [rsp]) and saves the call's
rdi / rsi / rdx at [rsp + 32 .. 48]. Its checks jump to `slow` whenever the call is not the
ordinary case; `finish(fallback)` appends the success exit (status 0) and the fallback tail,
which restores rdi / rsi / rdx, undoes the frame and tail-jumps to the op's Python trampoline,
so an unusual call behaves exactly as if the native entry did not exist (same results, same
errors, same overlap semantics: intrinsics/vmvx.py decides).

Units: the checks count ELEMENTS (as vmvx offsets and strides do) and produce BYTE addresses.
Argument fields are read through `rsi` (the args pointer): `arg` operands are valid only
while the entry body has not reused rsi. Scratch registers of the checks: rax, rcx, rbp.
"""
from __future__ import annotations

from contextlib import contextmanager

from ..emit_x64 import operands as R
from ..emit_x64.assembler import Assembler
from ..emit_x64.cpu import BASELINE
from ..emit_x64.operands import GPR, Label, Mem, byte, dword, qword, word, xmmword
from ..frontend.cconv import parse_cconv
from ..runtime import abi
from ..runtime.grid import stub_entry, stub_leave
from .vmvx import CCONV

MAX_31 = 0x7FFFFFFF
#: [rsp + SAVED_ARGS + 0 / 8 / 16]: the call's rdi, rsi, rdx (for the fallback tail)
SAVED_ARGS = 32
_ARG_REGS = (R.rdi, R.rsi, R.rdx)
#: element size in bytes -> memory operand size
SIZED = {1: byte, 2: word, 4: dword, 8: qword}


class Entry:
    """One native entry under construction (see the module docstring).

    `fields` names the op's arguments in `CCONV[op]` order (or `arg_types` order); `frame`
    is the stub frame size (8 mod 16, at least SAVED_ARGS + 24; the bytes from
    SAVED_ARGS + 24 up are the body's)."""

    def __init__(self, op: str, fields: tuple[str, ...], frame: int, features=BASELINE,
                 arg_types=None):
        """`arg_types`: the argument types when `op` is not a vmvx op (a variadic call's
        fixed arguments and its count, as flattened by abi.flatten_variadic)."""
        offsets, _ = abi.cconv_layout(parse_cconv(CCONV[op]).args if arg_types is None
                                      else arg_types)
        if len(offsets) != len(fields):
            raise ValueError(f"{op}: {len(fields)} field names for {len(offsets)} arguments")
        assert frame >= SAVED_ARGS + 24
        self.offsets = dict(zip(fields, offsets))
        self.frame = frame
        self.a = Assembler(features)
        self.slow = Label("fallback")
        stub_entry(self.a, frame)
        for k, reg in enumerate(_ARG_REGS):
            self.a.mov(qword[R.rsp + SAVED_ARGS + 8 * k], reg)

    def arg(self, field: str, bits: int = 64) -> Mem:
        """The argument `field` in the args buffer (i64 fields: qword; i32 fields: bits=32)."""
        return (qword if bits == 64 else dword)[R.rsi + self.offsets[field]]

    def size_minus_1(self, reg: GPR, field: str) -> None:
        """reg = field - 1; falls back unless 1 <= field < 2**31."""
        a = self.a
        a.mov(reg, self.arg(field))
        a.sub(reg, 1)
        a.cmp(reg, MAX_31 - 1)
        a.ja(self.slow)

    def below_2_31(self, *fields: str) -> None:
        """Falls back unless 0 <= field < 2**31 for each field (offsets, strides)."""
        for field in fields:
            self.a.cmp(self.arg(field), MAX_31)
            self.a.ja(self.slow)

    def map_buffer(self, desc: str, offset: str, last: GPR, shift: int, mutable: bool,
                   start: GPR, end: GPR) -> None:
        """Falls back unless `desc` is a non-null buffer (mutable if asked) holding element
        `offset + last` (elements of 1 << shift bytes; `last`, a register, is the largest
        element index the op touches relative to `offset`, at most ~2**63, and is clobbered).
        Then `start` = address of element `offset`, `end` = address one past element
        `offset + last`. `offset` must have passed `below_2_31`."""
        a, slow = self.a, self.slow
        assert shift in (0, 1, 2, 3) and R.rbp not in (last, start, end)
        a.mov(R.rbp, self.arg(desc))
        a.test(R.rbp, R.rbp)
        a.jz(slow)
        a.cmp(dword[R.rbp + abi.BUF_TYPE], abi.TYPE_BUFFER)
        a.jne(slow)
        if mutable:
            a.test(R.byte[R.rbp + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
            a.jz(slow)
        a.add(last, self.arg(offset))
        a.mov(R.rcx, qword[R.rbp + abi.BUF_LENGTH])
        if shift:
            a.shr(R.rcx, shift)
        a.cmp(last, R.rcx)                              # last element < length in elements
        a.jae(slow)
        a.mov(start, self.arg(offset))
        if shift:
            a.shl(start, shift)
        a.add(start, qword[R.rbp + abi.BUF_DATA])
        a.mov(end, qword[R.rbp + abi.BUF_DATA])
        a.lea(end, R.Mem(end, last, 1 << shift, 1 << shift))

    def disjoint(self, first: tuple[GPR, GPR], second: tuple[GPR, GPR]) -> None:
        """Falls back unless the byte ranges [start, end) of `first` and `second` are
        disjoint."""
        a, ok = self.a, Label()
        a.cmp(first[1], second[0])
        a.jbe(ok)
        a.cmp(second[1], first[0])
        a.ja(self.slow)
        a.label(ok)

    def finish(self, fallback: int) -> bytes:
        """Append the success exit (here: status 0) and the fallback tail (to the native-ABI
        function at `fallback`); the code's bytes."""
        a = self.a
        a.xor(R.eax, R.eax)
        stub_leave(a, self.frame)
        a.ret()
        a.label(self.slow)
        for k, reg in enumerate(_ARG_REGS):
            a.mov(reg, qword[R.rsp + SAVED_ARGS + 8 * k])
        stub_leave(a, self.frame)
        a.mov(R.rax, fallback)
        a.jmp(R.rax)
        return a.finish()


@contextmanager
def counted_loop(a: Assembler, index: GPR, count, name: str):
    """`for index in range(count)` around the code the with-block emits: `index` (a 64-bit
    GPR the body must not change) from 0 while below `count` (a 64-bit GPR or memory
    operand, read every iteration)."""
    loop, done = Label(name), Label(f"{name}_done")
    a.xor(index.view(32), index.view(32))
    a.label(loop)
    a.cmp(index, count)
    a.jae(done)
    yield
    a.inc(index)
    a.jmp(loop)
    a.label(done)


def copy_bytes(a: Assembler, src: GPR, dst: GPR, count: GPR, unit: int, scratch: GPR) -> None:
    """Copy `count` bytes (a multiple of `unit`, 1 2 4 or 8; may be 0) from `src` to `dst`
    forwards, 16 at a time then 8 4 2 1 (sizes below `unit` never occur); advances src and dst,
    clobbers count, scratch and xmm0. The ranges must not overlap."""
    loop, tail = Label("copy16"), Label("copy_tail")
    a.cmp(count, 16)
    a.jb(tail)
    a.label(loop)
    a.movdqu(R.xmm0, xmmword[src])
    a.movdqu(xmmword[dst], R.xmm0)
    a.add(src, 16)
    a.add(dst, 16)
    a.sub(count, 16)
    a.cmp(count, 16)
    a.jae(loop)
    a.label(tail)
    for size in (8, 4, 2, 1):
        if size < unit:
            break
        skip = Label()
        a.test(count.view(32), size)
        a.jz(skip)
        reg = scratch.view(8 * size)
        a.mov(reg, SIZED[size][src])
        a.mov(SIZED[size][dst], reg)
        a.add(src, size)
        a.add(dst, size)
        a.label(skip)
