"""Integer op lowerings (i32 and i64) with the interpreter's exact semantics (iree/vm/ops.h).

Wrap-around arithmetic; shift amounts masked to the width (LSLV/LSRV/ASRV use the amount
mod the width, as the VM's `& 31` / `& 63` do); division by zero and INT_MIN / -1 trap as
on x86 (SDIV/UDIV would quietly give 0 / INT_MIN), so both targets trap identically.
"""
from __future__ import annotations

from ..runtime import abi
from . import operands as R
from .lower import gview

#: Two-operand ALU ops: mnemonic stem -> assembler method name.
ALU = {"add": "add", "sub": "sub", "mul": "mul", "and": "and_", "or": "orr", "xor": "eor"}


def _bits(ins) -> int:
    return 64 if ".i64" in ins.op.name else 32


def binary_alu(L, ins):
    args = ins.args
    op = getattr(L.a, ALU[ins.op.mnemonic.split(".")[0]])
    lhs = L.read_gpr(args["left"], R.x0)
    rhs = L.read_gpr(args["right"], R.x1)
    d = L.dest_gpr(args["result"], R.x0)
    op(d, lhs, rhs)
    L.write_gpr(args["result"], d)


def _unsigned_power_of_two(L, ins, bits: int) -> int | None:
    """k when `ins` is an unsigned div / rem by a constant 2**k (0 < k < bits), else None."""
    right = ins.args["right"]
    if not ins.op.mnemonic.endswith(".u") or "remainder" in ins.args:
        return None
    value = L.constants.get(right.ordinal)
    if value is None:
        return None
    value &= (1 << bits) - 1
    k = value.bit_length() - 1
    return k if value and not value & (value - 1) and 0 < k < bits else None


def divide(L, ins):
    """Division / remainder with the interpreter's traps (zero divisor, INT_MIN / -1); an
    unsigned one by a constant power of two is a shift / bitfield extract (no trap)."""
    a, args = L.a, ins.args
    bits = _bits(ins)
    signed = ins.op.mnemonic.endswith(".s")
    want_rem = ins.op.mnemonic.startswith("rem")
    k = _unsigned_power_of_two(L, ins, bits)
    if k is not None:
        lhs = L.read_gpr(args["left"], R.x0)
        d = L.dest_gpr(args["result"], R.x2)
        if want_rem:
            a.ubfx(d, lhs, 0, k)
        else:
            a.lsr(d, lhs, k)
        L.write_gpr(args["result"], d)
        return
    lhs = L.read_gpr(args["left"], R.x0)
    rhs = L.read_gpr(args["right"], R.x1)
    a.cbz(rhs, L.trap_label(abi.TRAP_DIV_BY_ZERO))
    if signed:  # INT_MIN / -1: rhs == -1 (cmn rhs, #1) and lhs == INT_MIN (lhs - 1 overflows)
        a.cmn(rhs, 1)
        a.ccmp(lhs, 1, 0, "eq")  # when rhs != -1: nzcv = 0 (no overflow)
        a.b_vs(L.trap_label(abi.TRAP_DIV_OVERFLOW))
    q = gview(R.x2, bits)
    (a.sdiv if signed else a.udiv)(q, lhs, rhs)
    if "remainder" in args:  # jit.divrem: both, the remainder first (lhs may share a home)
        r = gview(R.x3, bits)
        a.msub(r, q, rhs, lhs)
        d = L.dest_gpr(args["result"], R.x2)
        if d != q:
            a.mov(d, q)
        L.write_gpr(args["result"], d)
        d = L.dest_gpr(args["remainder"], R.x3)
        if d != r:
            a.mov(d, r)
        L.write_gpr(args["remainder"], d)
        return
    d = L.dest_gpr(args["result"], R.x2)
    if want_rem:
        a.msub(d, q, rhs, lhs)  # lhs - q * rhs: C's %, sign of the dividend
    elif d != q:
        a.mov(d, q)
    L.write_gpr(args["result"], d)


def fma_int(L, ins):
    args = ins.args
    x = L.read_gpr(args["first"], R.x0)
    y = L.read_gpr(args["second"], R.x1)
    z = L.read_gpr(args["third"], R.x2)
    d = L.dest_gpr(args["result"], R.x0)
    L.a.madd(d, x, y, z)
    L.write_gpr(args["result"], d)


def shift(L, ins):
    a, args = L.a, ins.args
    m = ins.op.mnemonic
    op = {"shl": a.lslv, "shr": a.asrv if m.endswith(".s") else a.lsrv}[m[:3]]
    x = L.read_gpr(args["operand"], R.x0)
    n = L.read_gpr(args["amount"], R.x1)  # i32; the instruction uses it mod the width
    d = L.dest_gpr(args["result"], R.x0)
    op(d, x, gview(n, d.width))
    L.write_gpr(args["result"], d)


def unary(L, ins):
    a, args = L.a, ins.args
    name = ins.op.mnemonic.split(".")[0]
    x = L.read_gpr(args["operand"], R.x0)
    d = L.dest_gpr(args["result"], R.x0)
    if name == "not":
        a.mvn(d, x)
    elif name == "abs":  # abs(INT_MIN) stays INT_MIN, as the interpreter computes on x86
        a.cmp(x, 0)
        a.cneg(d, x, "lt")
    else:  # ctlz: CLZ gives the width for 0, as the VM does
        a.clz(d, x)
    L.write_gpr(args["result"], d)


def min_max(L, ins):
    a, args = L.a, ins.args
    kind, signed = ins.op.mnemonic.split(".")[0], ins.op.mnemonic.endswith(".s")
    lhs = L.read_gpr(args["left"], R.x0)
    rhs = L.read_gpr(args["right"], R.x1)
    d = L.dest_gpr(args["result"], R.x0)
    a.cmp(rhs, lhs)
    if kind == "min":   # rhs < lhs ? rhs : lhs
        a.csel(d, rhs, lhs, "lt" if signed else "lo")
    else:               # lhs < rhs ? rhs : lhs
        a.csel(d, rhs, lhs, "gt" if signed else "hi")
    L.write_gpr(args["result"], d)


EXTEND = {"trunc.i32.i8": "uxtb", "ext.i8.i32.u": "uxtb", "trunc.i32.i16": "uxth",
          "ext.i16.i32.u": "uxth", "ext.i8.i32.s": "sxtb", "ext.i16.i32.s": "sxth",
          "ext.i32.i64.s": "sxtw"}


def extend(L, ins):
    """trunc.i32.i8/i16, ext.i8/i16.i32.s/u, trunc.i64.i32, ext.i32.i64.s/u."""
    a, args, m = L.a, ins.args, ins.op.mnemonic
    x = L.read_gpr(args["operand"], R.x0)
    d = L.dest_gpr(args["result"], R.x0)
    if m in EXTEND:
        getattr(a, EXTEND[m])(d, x.w)
    else:  # trunc.i64.i32 / ext.i32.i64.u: a W write keeps the low half, zero-extended
        a.mov(d.w, x.w)
    L.write_gpr(args["result"], d)


CONDITION = {"eq": "eq", "ne": "ne", "lt.s": "lt", "lt.u": "lo"}


def compare(L, ins):
    args = ins.args
    parts = ins.op.mnemonic.split(".")
    cond = CONDITION[parts[1] if parts[1] in ("eq", "ne") else f"{parts[1]}.{parts[3]}"]
    lhs = L.read_gpr(args["left"], R.x0)
    rhs = L.read_gpr(args["right"], R.x1)
    L.a.cmp(lhs, rhs)
    L.flags_result(args["result"], cond)


def compare_nz(L, ins):
    x = L.read_gpr(ins.args["operand"], R.x0)
    L.a.cmp(x, 0)
    L.flags_result(ins.args["result"], "ne")


def select(L, ins):
    a, args = L.a, ins.args
    c = L.read_gpr(args["condition"], R.x2)
    t = L.read_gpr(args["true_value"], R.x0)
    f = L.read_gpr(args["false_value"], R.x1)
    d = L.dest_gpr(args["result"], R.x0)
    a.cmp(c, 0)
    a.csel(d, t, f, "ne")
    L.write_gpr(args["result"], d)


def const_int(L, ins):
    a, args = L.a, ins.args
    dst = args["result"]
    value = args.get("value", 0)
    d = L.dest_gpr(dst, R.x0)
    if value == 0 and L.var_reg(dst) is None:
        a.str(gview(R.xzr, d.width), L.slot_mem(dst.ordinal, d.width))
        return
    a.mov(d, value)
    L.write_gpr(dst, d)


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
    HANDLERS[f"ctlz.{_t}"] = unary
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
