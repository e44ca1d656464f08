"""f32/f64 op lowerings with the results of the x86-64 backend (the differential oracle).

Inline where an AArch64 instruction computes exactly what the interpreter's C code computes
on x86-64; a call to the same libm function otherwise (exp, remainderf, ...), through the
resolved symbol address (`FunctionLowering.call_symbol`). Differences handled here:

* min/max are `rhs < lhs ? rhs : lhs` / `lhs < rhs ? rhs : lhs`: FCMP + FCSEL on MI
  (ordered less-than), never FMIN/FMAX (their NaN and -0.0 rules differ).
* fma is `a * b + c` rounded twice (FMUL, FADD), never FMADD.
* float -> int casts are `lroundf` / `llround` / `roundf` + cast in the interpreter. glibc's
  x86-64 versions round half away from zero (FCVTAS / FRINTA here) and give the x86
  "integer indefinite" INT64_MIN for NaN and out-of-range inputs where FCVT* saturate (and
  give 0 for NaN): `_x86_indefinite` patches those cases.
"""
from __future__ import annotations

import struct

from . import operands as R
from .lower import fview, gview


def _w(ins) -> str:
    return "f64" if ".f64" in ins.op.name else "f32"


def _bits(ins) -> int:
    return 64 if _w(ins) == "f64" else 32


BINARY = {"add": "fadd", "sub": "fsub", "mul": "fmul", "div": "fdiv"}


def binary(L, ins):
    args = ins.args
    op = getattr(L.a, BINARY[ins.op.mnemonic.split(".")[0]])
    x = L.read_fpr(args["left"], R.v0)
    y = L.read_fpr(args["right"], R.v1)
    d = L.dest_fpr(args["result"], R.v0)
    op(d, x, y)
    L.write_fpr(args["result"], d)


def min_max(L, ins):
    """min: rhs < lhs ? rhs : lhs; max: lhs < rhs ? rhs : lhs (MI = ordered less-than)."""
    a, args = L.a, ins.args
    lhs = L.read_fpr(args["left"], R.v0)
    rhs = L.read_fpr(args["right"], R.v1)
    d = L.dest_fpr(args["result"], R.v0)
    if ins.op.mnemonic.startswith("min"):
        a.fcmp(rhs, lhs)
    else:
        a.fcmp(lhs, rhs)
    a.fcsel(d, rhs, lhs, "mi")
    L.write_fpr(args["result"], d)


UNARY = {"sqrt": "fsqrt", "abs": "fabs", "neg": "fneg", "floor": "frintm", "ceil": "frintp",
         "round_even": "frintn"}


def unary(L, ins):
    """sqrt, abs / neg (sign bit only), floor / ceil / round-half-even (as roundss does)."""
    args = ins.args
    stem = "round_even" if ins.op.mnemonic.endswith(".even") else ins.op.mnemonic.split(".")[0]
    x = L.read_fpr(args["operand"], R.v0)
    d = L.dest_fpr(args["result"], R.v0)
    getattr(L.a, UNARY[stem])(d, x)
    L.write_fpr(args["result"], d)


def rsqrt(L, ins):
    """1 / sqrt(x), two roundings."""
    a, args = L.a, ins.args
    bits = _bits(ins)
    x = L.read_fpr(args["operand"], R.v0)
    a.fsqrt(fview(1, bits), x)
    a.fmov(fview(0, bits), 1.0)
    d = L.dest_fpr(args["result"], R.v0)
    a.fdiv(d, fview(0, bits), fview(1, bits))
    L.write_fpr(args["result"], d)


def fma(L, ins):
    """a * b + c, rounded twice (IREE builds without FP_FAST_FMA: see emit_x64/ops_float)."""
    a, args = L.a, ins.args
    x = L.read_fpr(args["first"], R.v0)
    y = L.read_fpr(args["second"], R.v1)
    z = L.read_fpr(args["third"], R.v2)
    t = fview(0, _bits(ins))
    a.fmul(t, x, y)
    d = L.dest_fpr(args["result"], R.v0)
    a.fadd(d, t, z)
    L.write_fpr(args["result"], d)


def call_libm(L, name: str, operands, result) -> None:
    """result = name(operands...) through libm (operands and result are f32/f64 registers)."""
    for i, reg in enumerate(operands):
        L.load_fpr(reg, R.v[i])
    L.call_symbol(name)
    L.write_fpr(result, fview(0, 64 if result.type == "f64" else 32))


#: Unary / binary math functions: mnemonic stem -> libm name for f32 (f64 drops the 'f').
MATH = {"atan": "atanf", "cos": "cosf", "sin": "sinf", "exp": "expf", "exp2": "exp2f",
        "expm1": "expm1f", "log": "logf", "log10": "log10f", "log1p": "log1pf", "log2": "log2f",
        "tanh": "tanhf", "erf": "erff", "round": "roundf", "atan2": "atan2f", "pow": "powf",
        "rem": "remainderf"}
#: Every external symbol the a64 lowering may call (the Unicorn runtime provides them).
LIBM_SYMBOLS = tuple(sorted({*MATH.values(), *(n[:-1] for n in MATH.values())}))


def math_call(L, ins):
    w = _w(ins)
    stem = ins.op.mnemonic.split(".")[0]
    if stem == "round":  # roundf / round: FRINTA rounds half away from zero, exactly
        unary_round(L, ins)
        return
    name = MATH[stem] if w == "f32" else MATH[stem][:-1]
    operands = [ins.args[f.name] for f in ins.op.fields if f.kind == "src"]
    call_libm(L, name, operands, ins.args["result"])


def unary_round(L, ins):
    x = L.read_fpr(ins.args["operand"], R.v0)
    d = L.dest_fpr(ins.args["result"], R.v0)
    L.a.frinta(d, x)
    L.write_fpr(ins.args["result"], d)


# Comparisons after FCMP lhs, rhs: one condition, or (cond, "|vs") for "or unordered".
# eq.u is the x86 ZF test (true for NaN); ne.o is C's != (true for NaN, like ne.u);
# lt.o / lte.o are ordered (MI / LS); lt.u / lte.u also hold when unordered (LT / LE).
COMPARE = {"eq.o": "eq", "eq.u": "eq|vs", "ne.o": "ne", "ne.u": "ne", "lt.o": "mi",
           "lt.u": "lt", "lte.o": "ls", "lte.u": "le"}


def compare(L, ins):
    a, args = L.a, ins.args
    parts = ins.op.mnemonic.split(".")
    cond = COMPARE[f"{parts[1]}.{parts[3]}"]
    x = L.read_fpr(args["left"], R.v0)
    y = L.read_fpr(args["right"], R.v1)
    a.fcmp(x, y)
    if "|" not in cond:
        L.flags_result(args["result"], cond)
        return
    d = L.dest_gpr(args["result"], R.x1)
    a.cset(d, "eq")
    a.csinc(d, d, R.wzr, "vc")  # unordered -> 1
    L.write_gpr(args["result"], d)


def is_nan(L, ins):
    x = L.read_fpr(ins.args["operand"], R.v0)
    L.a.fcmp(x, x)
    L.flags_result(ins.args["result"], "vs")


def const_float(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    value = args.get("value", 0.0)
    dst = args["result"]
    bits = struct.unpack("<I", struct.pack("<f", value))[0] if w == "f32" else \
        struct.unpack("<Q", struct.pack("<d", value))[0]
    r = L.var_reg(dst)
    if r is None:  # a memory home: store the bits from a general register
        t = gview(R.x0, _bits(ins))
        a.mov(t, bits)
        a.str(t, L.slot_mem(dst.ordinal, _bits(ins)))
        return
    d = L.dest_fpr(dst, R.v0)
    a.load_const(d, value)
    L.write_fpr(dst, d)


def select(L, ins):
    a, args = L.a, ins.args
    c = L.read_gpr(args["condition"], R.x0)
    a.cmp(c, 0)
    t = L.read_fpr(args["true_value"], R.v0)
    f = L.read_fpr(args["false_value"], R.v1)
    d = L.dest_fpr(args["result"], R.v0)
    a.fcsel(d, t, f, "ne")
    L.write_fpr(args["result"], d)


# ---------------------------------------------------------------- conversions
def int_to_float(L, ins):
    """cast.si32/ui32/si64/ui64.fXX: SCVTF / UCVTF round to nearest, exactly as cvtsi2s*."""
    args = ins.args
    src_t = ins.op.mnemonic.split(".")[1]  # si32 ui32 si64 ui64
    x = L.read_gpr(args["operand"], R.x0)
    d = L.dest_fpr(args["result"], R.v0)
    (L.a.scvtf if src_t[0] == "s" else L.a.ucvtf)(d, x)
    L.write_fpr(args["result"], d)


def _x86_indefinite(L, r: R.GPR, x: R.FPReg) -> None:
    """r (an X register) = FCVT*S(x) -> what x86's CVTTS*2SI gives: INT64_MIN where the
    conversion saturated high (r == INT64_MAX) or x is NaN (negative saturation is already
    INT64_MIN). Uses x16."""
    a = L.a
    a.mov(R.x16, -(1 << 63))
    a.cmn(r, 1)                    # V set iff r == INT64_MAX
    a.csel(r, R.x16, r, "vs")
    a.fcmp(x, x)                   # V set iff x is NaN
    a.csel(r, R.x16, r, "vs")


#: float -> int casts: (f64 operand narrowed to f32 first, result width), see FLOAT_TO_INT
#: in emit_x64/ops_float.py: lroundf / llroundf / lround / llround, all returning int64.
FLOAT_TO_INT = {
    "cast.f32.si32": (False, 32), "cast.f32.ui32": (False, 32), "cast.f32.si64": (False, 64),
    "cast.f64.si32": (True, 32), "cast.f64.ui32": (True, 32), "cast.f64.si64": (False, 64),
    "cast.f64.ui64": (False, 64),
}


def float_to_int(L, ins):
    """(int)lround*(x): FCVTAS (round half away from zero) to 64 bits, x86 indefinite for
    NaN / out of range, then the low 32 bits for i32 results (f64 -> i32 goes through f32)."""
    a, args = L.a, ins.args
    narrow, bits = FLOAT_TO_INT[ins.op.mnemonic]
    x = L.read_fpr(args["operand"], R.v0)
    if narrow:
        a.fcvt(R.s0, x)
        x = R.s0
    a.fcvtas(R.x0, x)
    _x86_indefinite(L, R.x0, x)
    L.write_gpr(args["result"], gview(R.x0, bits))


def float_to_u64(L, ins):
    """cast.f32.ui64: (uint64_t)roundf(x) with clang's x86-64 float -> u64 sequence:
    a = cvtt(x), b = cvtt(x - 2^63), result = a | (b & (a >> 63))."""
    a, args = L.a, ins.args
    x = L.read_fpr(args["operand"], R.v0)
    a.frinta(R.s0, x)
    a.fcvtzs(R.x0, R.s0)
    _x86_indefinite(L, R.x0, R.s0)
    a.load_const(R.s1, 2.0 ** 63)
    a.fsub(R.s1, R.s0, R.s1)
    a.fcvtzs(R.x1, R.s1)
    _x86_indefinite(L, R.x1, R.s1)
    a.and_(R.x1, R.x1, R.x0.asr(63))
    a.orr(R.x0, R.x0, R.x1)
    L.write_gpr(args["result"], R.x0)


def bitcast(L, ins):
    """Reinterpret the bits between the general and the vector register files."""
    dst, src = ins.args["result"], ins.args["operand"]
    if dst.type in ("f32", "f64"):
        x = L.read_gpr(src, R.x0)
        d = L.dest_fpr(dst, R.v0)
        L.a.fmov(d, x)
        L.write_fpr(dst, d)
    else:
        x = L.read_fpr(src, R.v0)
        d = L.dest_gpr(dst, R.x0)
        L.a.fmov(d, x)
        L.write_gpr(dst, d)


def f32_f64(L, ins):
    """ext.f32.f64 / trunc.f64.f32: FCVT rounds to nearest, as cvtss2sd / cvtsd2ss."""
    args = ins.args
    x = L.read_fpr(args["operand"], R.v0)
    d = L.dest_fpr(args["result"], R.v0)
    L.a.fcvt(d, x)
    L.write_fpr(args["result"], d)


HANDLERS = {}
CALLS = set()
for _t in ("f32", "f64"):
    for _s in BINARY:
        HANDLERS[f"{_s}.{_t}"] = binary
    HANDLERS[f"min.{_t}"] = min_max
    HANDLERS[f"max.{_t}"] = min_max
    HANDLERS[f"rsqrt.{_t}"] = rsqrt
    for _u in ("sqrt", "abs", "neg", "floor", "ceil"):
        HANDLERS[f"{_u}.{_t}"] = unary
    HANDLERS[f"round.{_t}.even"] = unary
    HANDLERS[f"fma.{_t}"] = fma
    for _m in MATH:
        HANDLERS[f"{_m}.{_t}"] = math_call
        if _m != "round":
            CALLS.add(f"{_m}.{_t}")
    for _c in COMPARE:
        _p = _c.split(".")
        HANDLERS[f"cmp.{_p[0]}.{_t}.{_p[1]}"] = compare
    HANDLERS[f"cmp.nan.{_t}"] = is_nan
    HANDLERS[f"const.{_t}"] = const_float
    HANDLERS[f"const.{_t}.zero"] = const_float
    HANDLERS[f"select.{_t}"] = select
    for _src in ("si32", "ui32", "si64", "ui64"):
        HANDLERS[f"cast.{_src}.{_t}"] = int_to_float
HANDLERS.update({m: float_to_int for m in FLOAT_TO_INT})
HANDLERS["cast.f32.ui64"] = float_to_u64
HANDLERS.update({"bitcast.i32.f32": bitcast, "bitcast.f32.i32": bitcast,
                 "bitcast.i64.f64": bitcast, "bitcast.f64.i64": bitcast,
                 "ext.f32.f64": f32_f64, "trunc.f64.f32": f32_f64})
