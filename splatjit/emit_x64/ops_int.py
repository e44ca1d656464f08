"""Integer op lowerings (i32 and i64) with the interpreter's exact semantics (iree/vm/ops.h).

Wrap-around arithmetic; shift amounts masked to the width (x86's own masking agrees);
division by zero and INT_MIN / -1 trap (the interpreter's C code is undefined there).
"""
from __future__ import annotations

from ..runtime import abi
from . import operands as R
from .frame import SIZE

#: Commutative-or-not two-operand ALU ops: mnemonic stem -> assembler method name.
ALU = {"add": "add", "sub": "sub", "mul": "imul", "and": "and_", "or": "or_", "xor": "xor"}
COMMUTATIVE = {"add", "mul", "and", "or", "xor"}
#: (op, field) pairs read through `imm_or_src` on every path: a constant read only there
#: never needs a register (lowering.immediate_only).
IMMEDIATE_OPERANDS = frozenset(
    [(f"{stem}.{t}", "right") for stem in ("add", "sub", "and", "or", "xor") for t in ("i32", "i64")]
    + [(f"cmp.{c}.{t}", "right") for c in ("eq", "ne") for t in ("i32", "i64")]
    + [(f"cmp.lt.{t}.{s}", "right") for t in ("i32", "i64") for s in ("s", "u")]
    + [(f"{stem}.{t}.{s}", "right") for stem in ("div", "rem") for t in ("i32", "i64")
       for s in ("s", "u")]
    + [(f"mul.{t}", "right") for t in ("i32", "i64")]
    + [(f"fma.{t}", f) for t in ("i32", "i64") for f in ("second", "third")])


def _bits(ins) -> int:
    return 64 if ".i64" in ins.op.name else 32


def _immediate_of(L, reg) -> int | None:
    """`reg`'s value as a sign-extended 32-bit immediate when it is a single-def constant
    that fits one (`imm_or_src`'s rule, which `lowering.immediate_only` relies on)."""
    if reg.ordinal not in L.constants:
        return None
    value = L.imm_or_src(reg)
    return value if isinstance(value, int) else None


def binary_alu(L, ins):
    a, args = L.a, ins.args
    stem = ins.op.mnemonic.split(".")[0]
    op = getattr(a, ALU[stem])
    lhs, rhs, dst = args["left"], args["right"], args["result"]
    if stem == "mul":  # a constant factor (the right one first: IMMEDIATE_OPERANDS)
        factor, x = _immediate_of(L, rhs), lhs
        if factor is None:
            factor, x = _immediate_of(L, lhs), rhs
        if factor is not None:
            d = L.var_reg(dst)
            t = d if isinstance(d, R.GPR) else R.rax.view(SIZE[dst.type])
            a.imul(t, _operand(L, x, R.rcx), factor)
            L.write_gpr(dst, t)
            return
    d = L.var_reg(dst)
    src_of = L.gpr_src if stem == "mul" else L.imm_or_src  # imul has no two-operand imm form
    if isinstance(d, R.GPR) and L.var_reg(rhs) != d:
        src = L.read_gpr(lhs, d)
        if src != d:
            a.mov(d, src)
        op(d, src_of(rhs))
        return
    if isinstance(d, R.GPR) and stem in COMMUTATIVE:  # dst aliases rhs: d = d op lhs
        op(d, src_of(lhs))
        return
    t = L.load_gpr(lhs, R.rax)
    op(t, src_of(rhs))
    L.write_gpr(dst, t)


def _constant_divisor(L, ins) -> int | None:
    """The divisor as a signed value of the op's width when it is a constant that fits a
    sign-extended 32-bit immediate, else None (then it is read from its register)."""
    value = L.imm_or_src(ins.args["right"]) if ins.args["right"].ordinal in L.constants else None
    return value if isinstance(value, int) else None


def _divide_by_power_of_two(L, ins, k: int) -> None:
    """x / 2**k and x % 2**k (0 <= k <= 30) with shifts: the unsigned forms shift and mask;
    the signed forms first add 2**k - 1 to a negative x, so the quotient rounds toward zero
    like the interpreter's C division, and the remainder takes x's sign."""
    a, args = L.a, ins.args
    bits = _bits(ins)
    want_rem = ins.op.mnemonic.startswith("rem")
    x = L.read_gpr(args["left"], R.rax)
    if not ins.op.mnemonic.endswith(".s"):
        d = L.var_reg(args["result"])  # only x is read: the result's register may take it
        t = d if isinstance(d, R.GPR) else R.rax.view(bits)
        if t != x:
            a.mov(t, x)
        if want_rem:
            a.and_(t, (1 << k) - 1)
        elif k:
            a.shr(t, k)
        L.write_gpr(args["result"], t)
        return
    if k == 0:
        if want_rem:
            a.xor(R.eax, R.eax)
            L.write_gpr(args["result"], R.rax.view(bits))
        else:
            L.write_gpr(args["result"], x)
        return
    bias = R.rdx.view(bits)
    a.mov(bias, x)
    if k > 1:
        a.sar(bias, bits - 1)
    a.shr(bias, bits - k)            # 2**k - 1 when x < 0, else 0
    a.add(bias, x)
    if want_rem:
        a.and_(bias, -(1 << k))
        t = R.rax.view(bits)
        if t != x:
            a.mov(t, x)
        a.sub(t, bias)
        L.write_gpr(args["result"], t)
    else:
        a.sar(bias, k)
        L.write_gpr(args["result"], bias)


def divide(L, ins):
    """Division / remainder with the interpreter's traps (zero divisor, INT_MIN / -1). For
    64-bit operands that both fit in 31 bits (loop indices, tile sizes) the 32-bit `div`
    gives the same quotient and remainder several times faster than a 64-bit one. A
    constant divisor needs no zero test (a zero one traps unconditionally), and a constant
    power of two up to 2**30 becomes shifts."""
    a, args = L.a, ins.args
    bits = _bits(ins)
    signed = ins.op.mnemonic.endswith(".s")
    want_rem = ins.op.mnemonic.startswith("rem")
    ax, cx, dx = R.rax.view(bits), R.rcx.view(bits), R.rdx.view(bits)
    divisor = _constant_divisor(L, ins)
    if divisor is not None and 0 < divisor <= 1 << 30 and not divisor & (divisor - 1):
        _divide_by_power_of_two(L, ins, divisor.bit_length() - 1)
        return
    if divisor == 0:
        a.jmp(L.trap_label(abi.TRAP_DIV_BY_ZERO))
        return
    if divisor is None:
        L.load_gpr(args["right"], R.rcx)
        L.load_gpr(args["left"], R.rax)
        a.test(cx, cx)
        a.jz(L.trap_label(abi.TRAP_DIV_BY_ZERO))
    else:
        a.mov(cx, divisor)
        L.load_gpr(args["left"], R.rax)
    done = R.Label()
    if bits == 64 and (divisor is None or divisor > 0):
        wide = R.Label()
        a.mov(R.rdx, R.rax)
        if divisor is None:
            a.or_(R.rdx, R.rcx)
        a.shr(R.rdx, 31)                  # both operands in [0, 2**31)?
        a.jnz(wide)
        a.xor(R.edx, R.edx)
        a.div(R.ecx)                      # zero-extends the quotient and remainder to 64 bits
        a.jmp(done)
        a.label(wide)
    if signed:
        if divisor is None or divisor == -1:
            ok = R.Label()
            a.cmp(cx, -1)
            a.jne(ok)
            if bits == 32:
                a.cmp(ax, -0x80000000)
            else:
                a.mov(R.rdx, -0x8000000000000000)
                a.cmp(R.rax, R.rdx)
            a.je(L.trap_label(abi.TRAP_DIV_OVERFLOW))
            a.label(ok)
        (a.cdq if bits == 32 else a.cqo)()
        a.idiv(cx)
    else:
        a.xor(R.edx, R.edx)
        a.div(cx)
    a.label(done)
    if "remainder" in args:  # jit.divrem: the quotient, then the remainder (rdx is scratch)
        L.write_gpr(args["result"], ax)
        L.write_gpr(args["remainder"], dx)
    else:
        L.write_gpr(args["result"], dx if want_rem else ax)


def _home_free_of(L, dst, *others):
    """dst's own general register when none of `others` lives in it (so it may be written
    before they are read), else rax sized for dst."""
    d = L.var_reg(dst)
    if isinstance(d, R.GPR) and all(L.var_reg(o) is None or L.var_reg(o).view(64) != d.view(64)
                                    for o in others):
        return d
    return R.rax.view(SIZE[dst.type])


def _operand(L, reg, scratch):
    """An ALU source for `reg`: its general register or memory home, or (a value held in
    an XMM register) its bits copied into `scratch`, never into rax."""
    if isinstance(L.var_reg(reg), R.XMM):
        return L.read_gpr(reg, scratch)
    return L.gpr_src(reg)


def fma_int(L, ins):
    """first * second + third; a constant factor (second first) and a constant addend are
    immediates (IMMEDIATE_OPERANDS)."""
    a, args = L.a, ins.args
    first, second, third = args["first"], args["second"], args["third"]
    addend = _immediate_of(L, third)
    factor = _immediate_of(L, second)
    x = first
    if factor is None:
        factor, x = _immediate_of(L, first), second
    if factor is not None:  # imul reads x before writing t: only third must not be in t
        t = _home_free_of(L, args["result"], third)
        a.imul(t, _operand(L, x, R.rcx), factor)
    else:
        t = _home_free_of(L, args["result"], second, third)
        src = L.read_gpr(first, t)
        if src != t:
            a.mov(t, src)
        a.imul(t, _operand(L, second, R.rcx))
    a.add(t, addend if addend is not None else _operand(L, third, R.rdx))
    L.write_gpr(args["result"], t)


def shift(L, ins):
    a, args = L.a, ins.args
    op = {"shl": a.shl, "shr": a.sar if ins.op.mnemonic.endswith(".s") else a.shr}[ins.op.mnemonic[:3]]
    L.load_gpr(args["amount"], R.rcx)
    t = L.load_gpr(args["operand"], R.rax)
    op(t, R.cl)  # x86 masks the count to 31 / 63, as the VM does
    L.write_gpr(args["result"], t)


def unary(L, ins):
    a, args = L.a, ins.args
    name = ins.op.mnemonic.split(".")[0]
    t = L.load_gpr(args["operand"], R.rax)
    if name == "not":
        a.not_(t)
    elif name == "abs":  # abs(INT_MIN) stays INT_MIN, as the interpreter computes on x86
        c = R.rcx.view(t.bits)
        a.mov(c, t)
        a.neg(c)
        a.cmovns(t, c)
    L.write_gpr(args["result"], t)


def ctlz(L, ins):
    a, args = L.a, ins.args
    bits = _bits(ins)
    t = L.load_gpr(args["operand"], R.rax)
    if "lzcnt" in a.features:
        a.lzcnt(t, t)
    else:  # bsr leaves the destination undefined for 0: handle 0 explicitly
        c = R.rcx.view(bits)
        a.mov(c, bits)
        zero = R.Label()
        a.test(t, t)
        a.jz(zero)
        a.bsr(t, t)
        a.mov(c, bits - 1)
        a.sub(c, t)
        a.label(zero)
        t = c
    L.write_gpr(args["result"], t)


def min_max(L, ins):
    a, args = L.a, ins.args
    kind, signed = ins.op.mnemonic.split(".")[0], ins.op.mnemonic.endswith(".s")
    t = L.load_gpr(args["left"], R.rax)
    c = L.load_gpr(args["right"], R.rcx)
    a.cmp(t, c)
    if kind == "min":   # rhs < lhs ? rhs : lhs
        (a.cmovg if signed else a.cmova)(t, c)
    else:               # lhs < rhs ? rhs : lhs
        (a.cmovl if signed else a.cmovb)(t, c)
    L.write_gpr(args["result"], t)


def extend(L, ins):
    """trunc.i32.i8/i16, ext.i8/i16.i32.s/u, trunc.i64.i32, ext.i32.i64.s/u."""
    a, args, m = L.a, ins.args, ins.op.mnemonic
    src = L.load_gpr(args["operand"], R.rax)
    if m in ("trunc.i32.i8", "ext.i8.i32.u"):
        a.movzx(R.eax, R.al)
        out = R.eax
    elif m in ("trunc.i32.i16", "ext.i16.i32.u"):
        a.movzx(R.eax, R.ax)
        out = R.eax
    elif m == "ext.i8.i32.s":
        a.movsx(R.eax, R.al)
        out = R.eax
    elif m == "ext.i16.i32.s":
        a.movsx(R.eax, R.ax)
        out = R.eax
    elif m == "trunc.i64.i32":
        out = R.eax  # the low half of rax
    elif m == "ext.i32.i64.s":
        a.movsxd(R.rax, R.eax)
        out = R.rax
    else:  # ext.i32.i64.u: writing eax zero-extends
        a.mov(R.eax, src.view(32))
        out = R.rax
    L.write_gpr(args["result"], out)


CONDITION = {"eq": "e", "ne": "ne", "lt.s": "l", "lt.u": "b"}


def compare(L, ins):
    a, args = L.a, ins.args
    parts = ins.op.mnemonic.split(".")
    cond = CONDITION[parts[1] if parts[1] in ("eq", "ne") else f"{parts[1]}.{parts[3]}"]
    t = L.read_gpr(args["left"], R.rax)
    a.cmp(t, L.imm_or_src(args["right"]))
    _flags_result(L, args["result"], cond)


def compare_nz(L, ins):
    a, args = L.a, ins.args
    t = L.read_gpr(args["operand"], R.rax)
    a.test(t, t)
    _flags_result(L, args["result"], "ne")


def _flags_result(L, result, cond: str) -> None:
    """Materialise a 0/1 result from condition `cond` unless only the next cond_br or
    select reads it; leave the condition in EFLAGS for that op either way."""
    a = L.a
    fused = L.branch_on_flags(result) or L.select_on_flags(result)
    if not (fused and L.dead_after_next(result)):
        getattr(a, "set" + cond)(R.cl)
        a.movzx(R.ecx, R.cl)
        L.write_gpr(result, R.ecx)  # mov / movd: EFLAGS survive
    if fused:
        L.flags = (result, cond)


def select(L, ins):
    """result = condition ? true_value : false_value, as a cmov: on the condition a compare
    just before left in EFLAGS, else on condition != 0. Computed in the result's register
    when the true value does not live there."""
    a, args = L.a, ins.args
    flags, L.flags = L.flags, None
    if flags is not None and flags[0] == args["condition"]:
        cond = flags[1]
    else:
        c = L.read_gpr(args["condition"], R.rcx)
        a.test(c, c)
        cond = "ne"
    t = _home_free_of(L, args["result"], args["true_value"])
    src = L.read_gpr(args["false_value"], t)  # mov / movd: EFLAGS survive
    if src != t:
        a.mov(t, src)
    getattr(a, "cmov" + cond)(t, _operand(L, args["true_value"], R.rcx))
    L.write_gpr(args["result"], t)


def const_int(L, ins):
    a, args = L.a, ins.args
    dst = args["result"]
    if dst.ordinal in L.imm_only:
        return  # every reader encodes it as an immediate
    value = args.get("value", 0)
    d = L.var_reg(dst)
    bits = 64 if dst.type == "i64" else 32
    if isinstance(d, R.GPR):
        if value == 0:
            a.xor(d.view(32), d.view(32))
        elif bits == 64 and 0 <= value < 2**32:
            a.mov(d.view(32), value)
        else:
            a.mov(d, value)
        return
    if d is None and -2**31 <= value < 2**31:
        a.mov(L.slot_mem(dst.ordinal, bits), value)
        return
    t = R.rax.view(bits)
    a.mov(t, value)
    L.write_gpr(dst, t)


HANDLERS = {}
for _t in ("i32", "i64"):
    for _stem in ALU:
        HANDLERS[f"{_stem}.{_t}"] = binary_alu
    for _m in ("div", "rem"):
        for _s in ("s", "u"):
            HANDLERS[f"{_m}.{_t}.{_s}"] = divide
            HANDLERS[f"jit.divrem.{_t}.{_s}"] = divide
            HANDLERS[f"min.{_t}.{_s}"] = min_max
            HANDLERS[f"max.{_t}.{_s}"] = min_max
    HANDLERS[f"fma.{_t}"] = fma_int
    HANDLERS[f"shl.{_t}"] = shift
    HANDLERS[f"shr.{_t}.s"] = shift
    HANDLERS[f"shr.{_t}.u"] = shift
    HANDLERS[f"not.{_t}"] = unary
    HANDLERS[f"abs.{_t}"] = unary
    HANDLERS[f"ctlz.{_t}"] = ctlz
    HANDLERS[f"cmp.eq.{_t}"] = compare
    HANDLERS[f"cmp.ne.{_t}"] = compare
    HANDLERS[f"cmp.lt.{_t}.s"] = compare
    HANDLERS[f"cmp.lt.{_t}.u"] = compare
    HANDLERS[f"cmp.nz.{_t}"] = compare_nz
    HANDLERS[f"select.{_t}"] = select
    HANDLERS[f"const.{_t}"] = const_int
    HANDLERS[f"const.{_t}.zero"] = const_int
for _m in ("trunc.i32.i8", "trunc.i32.i16", "ext.i8.i32.s", "ext.i8.i32.u", "ext.i16.i32.s",
           "ext.i16.i32.u", "trunc.i64.i32", "ext.i32.i64.s", "ext.i32.i64.u"):
    HANDLERS[_m] = extend
