"""f32/f64 op lowerings with the interpreter's exact semantics (iree/vm/ops.h).

Inline SSE where the instruction computes exactly what the C code does; a call to the same
libm function the interpreter calls otherwise (exp, lroundf, remainderf, ...). Ops lowered to
calls are listed in `CALLS` so the allocator keeps no caller-saved register live across them.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import struct

from . import operands as R

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libc = ctypes.CDLL(ctypes.util.find_library("c"))


def libm_address(name: str) -> int:
    """Address of a libm function: the same code the interpreter's C calls."""
    return ctypes.cast(getattr(_libm, name), ctypes.c_void_p).value


def libc_address(name: str) -> int:
    return ctypes.cast(getattr(_libc, name), ctypes.c_void_p).value


def _w(ins) -> str:
    return "f64" if ".f64" in ins.op.name else "f32"


def _sfx(w: str) -> str:
    return "sd" if w == "f64" else "ss"


def _op(a, stem: str, w: str):
    return getattr(a, stem + _sfx(w))


def binary(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    stem = ins.op.mnemonic.split(".")[0]
    x = L.load_xmm(args["left"], L.xmm_work(args["result"], args["right"]))
    _op(a, stem, w)(x, L.xmm_src(args["right"]))
    L.write_xmm(args["result"], x)


def min_max(L, ins):
    """min: rhs < lhs ? rhs : lhs == minss(rhs, lhs); max likewise with maxss."""
    a, args, w = L.a, ins.args, _w(ins)
    stem = ins.op.mnemonic.split(".")[0]
    x = L.load_xmm(args["right"], R.xmm0)
    _op(a, stem, w)(x, L.xmm_src(args["left"]))
    L.write_xmm(args["result"], x)


def sqrt(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    _op(a, "sqrt", w)(R.xmm0, L.xmm_src(args["operand"]))
    L.write_xmm(args["result"], R.xmm0)


def rsqrt(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    _op(a, "sqrt", w)(R.xmm1, L.xmm_src(args["operand"]))
    (a.movss if w == "f32" else a.movsd)(R.xmm0, a.const_f32(1.0) if w == "f32" else a.const_f64(1.0))
    _op(a, "div", w)(R.xmm0, R.xmm1)
    L.write_xmm(args["result"], R.xmm0)


def sign_mask(L, ins):
    """abs / neg: clear or flip the sign bit."""
    a, args, w = L.a, ins.args, _w(ins)
    x = L.load_xmm(args["operand"], R.xmm0)
    neg = ins.op.mnemonic.startswith("neg")
    if w == "f32":
        mask = a.const_bytes(struct.pack("<4I", *([0x80000000 if neg else 0x7FFFFFFF] * 4)), 16)
    else:
        mask = a.const_bytes(struct.pack("<2Q", *([1 << 63 if neg else (1 << 63) - 1] * 2)), 16)
    (a.xorps if neg else a.andps)(x, mask)
    L.write_xmm(args["result"], x)


#: SSE4.1 rounding immediates: floor, ceil, nearest-even (all with inexact suppressed).
ROUND_MODES = {"floor": 0x09, "ceil": 0x0A, "round_even": 0x08}
LIBM_ROUND = {("floor", "f32"): "floorf", ("ceil", "f32"): "ceilf", ("floor", "f64"): "floor",
              ("ceil", "f64"): "ceil", ("round_even", "f32"): "roundevenf",
              ("round_even", "f64"): "roundeven"}


def rounding(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    kind = "round_even" if ins.op.mnemonic.endswith(".even") else ins.op.mnemonic.split(".")[0]
    if "sse4_1" in a.features:
        _op(a, "round", w)(R.xmm0, L.xmm_src(args["operand"]), ROUND_MODES[kind])
        L.write_xmm(args["result"], R.xmm0)
    else:
        call_libm(L, LIBM_ROUND[(kind, w)], [args["operand"]], args["result"])


def fma(L, ins):
    """a * b + c, rounded twice: IREE builds without FP_FAST_FMA(F) (every x86-64 build)
    compute `a * b + c` unfused, and the VM fixes that order for every target."""
    a, args, w = L.a, ins.args, _w(ins)
    x = L.load_xmm(args["first"], L.xmm_work(args["result"], args["second"], args["third"]))
    _op(a, "mul", w)(x, L.xmm_src(args["second"]))
    _op(a, "add", w)(x, L.xmm_src(args["third"]))
    L.write_xmm(args["result"], x)


def call_libm(L, name: str, operands, result, result_in_gpr: str | None = None):
    """result = name(operands...) through libm (operands and result are VM registers)."""
    a = L.a
    for i, reg in enumerate(operands):
        if reg.type in ("f32", "f64"):
            L.load_xmm(reg, R.XMMS[i])
        else:
            L.load_gpr(reg, (R.rdi, R.rsi)[i])
    a.mov(R.rax, libm_address(name))
    a.call(R.rax)
    if result_in_gpr is None:
        L.write_xmm(result, R.xmm0)
    else:
        L.write_gpr(result, R.rax.view(64 if result_in_gpr == "i64" else 32))


#: Unary / binary math functions: mnemonic stem -> libm name for f32 (f64 drops the 'f').
MATH = {"atan": "atanf", "cos": "cosf", "sin": "sinf", "exp": "expf", "exp2": "exp2f",
        "expm1": "expm1f", "log": "logf", "log10": "log10f", "log1p": "log1pf", "log2": "log2f",
        "tanh": "tanhf", "erf": "erff", "round": "roundf", "atan2": "atan2f", "pow": "powf",
        "rem": "remainderf"}


def math_call(L, ins):
    w = _w(ins)
    stem = ins.op.mnemonic.split(".")[0]
    name = MATH[stem] if w == "f32" else MATH[stem][:-1]
    operands = [ins.args[f.name] for f in ins.op.fields if f.kind == "src"]
    call_libm(L, name, operands, ins.args["result"])


# Comparisons: (operand order, setcc) after ucomis[sd]; "both" = ordered-equal needs e & np.
# ne.o is C's `lhs != rhs`, which is true when either side is NaN (the same as ne.u).
COMPARE = {"eq.o": ("ab", "e&np"), "eq.u": ("ab", "e"), "ne.o": ("ab", "ne|p"),
           "ne.u": ("ab", "ne|p"), "lt.o": ("ba", "a"), "lt.u": ("ab", "b"),
           "lte.o": ("ba", "ae"), "lte.u": ("ab", "be")}


def compare(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    parts = ins.op.mnemonic.split(".")
    order, cond = COMPARE[f"{parts[1]}.{parts[3]}"]
    first, second = (args["left"], args["right"]) if order == "ab" else (args["right"], args["left"])
    x = L.read_xmm(first, R.xmm0)
    getattr(a, "ucomi" + _sfx(w))(x, L.xmm_src(second))
    if "&" in cond or "|" in cond:
        c1, c2 = cond.replace("|", "&").split("&")
        getattr(a, "set" + c1)(R.cl)
        getattr(a, "set" + c2)(R.dl)
        (a.and_ if "&" in cond else a.or_)(R.cl, R.dl)
    else:
        getattr(a, "set" + cond)(R.cl)
    a.movzx(R.ecx, R.cl)
    L.write_gpr(args["result"], R.ecx)


def is_nan(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    x = L.read_xmm(args["operand"], R.xmm0)
    getattr(a, "ucomi" + _sfx(w))(x, x)
    a.setp(R.cl)
    a.movzx(R.ecx, R.cl)
    L.write_gpr(args["result"], R.ecx)


def const_float(L, ins):
    a, args, w = L.a, ins.args, _w(ins)
    value = args.get("value", 0.0)
    dst = args["result"]
    bits = struct.unpack("<I", struct.pack("<f", value))[0] if w == "f32" else \
        struct.unpack("<Q", struct.pack("<d", value))[0]
    d = L.var_reg(dst)
    if isinstance(d, R.XMM):
        if bits == 0:
            a.xorps(d, d)
        else:
            (a.movss if w == "f32" else a.movsd)(d, a.const_f32(value) if w == "f32" else a.const_f64(value))
        return
    if d is None and (w == "f32" or bits < 2**31):
        a.mov(L.slot_mem(dst.ordinal, 32 if w == "f32" else 64), bits if w == "f32" or bits < 2**31 else 0)
        return
    t = R.rax.view(32 if w == "f32" else 64)
    a.mov(t, bits)
    L.write_gpr(dst.__class__("i32" if w == "f32" else "i64", dst.ordinal), t)


def select(L, ins):
    a, args = L.a, ins.args
    done = R.Label()
    x = L.load_xmm(args["false_value"], R.xmm0)
    c = L.read_gpr(args["condition"], R.rcx)
    a.test(c, c)
    a.jz(done)
    L.load_xmm(args["true_value"], R.xmm0)
    a.label(done)
    L.write_xmm(args["result"], x)


# ---------------------------------------------------------------- conversions
def int_to_float(L, ins):
    """cast.si32/ui32/si64/ui64.fXX: exact conversions with round-to-nearest."""
    a, args, w = L.a, ins.args, _w(ins)
    src_t = ins.op.mnemonic.split(".")[1]  # si32 ui32 si64 ui64
    cvt = getattr(a, "cvtsi2" + _sfx(w))
    src = args["operand"]
    if src_t == "si32":
        cvt(R.xmm0, L.read_gpr(src, R.rax))
    elif src_t in ("ui32", "si64"):
        t = L.load_gpr(src, R.rax)
        if src_t == "ui32":
            a.mov(R.eax, t)  # zero-extend into rax
        cvt(R.xmm0, R.rax)
    else:  # ui64: halve (keeping the sticky bit) when the top bit is set, convert, double
        L.load_gpr(src, R.rax)
        big, done = R.Label(), R.Label()
        a.test(R.rax, R.rax)
        a.js(big)
        cvt(R.xmm0, R.rax)
        a.jmp(done)
        a.label(big)
        a.mov(R.rcx, R.rax)
        a.shr(R.rcx, 1)
        a.and_(R.eax, 1)
        a.or_(R.rcx, R.rax)
        cvt(R.xmm0, R.rcx)
        _op(a, "add", w)(R.xmm0, R.xmm0)
        a.label(done)
    L.write_xmm(args["result"], R.xmm0)


#: float -> int casts: (libm function, its argument type, result width) per mnemonic.
FLOAT_TO_INT = {
    "cast.f32.si32": ("lroundf", "f32", "i32"), "cast.f32.ui32": ("llroundf", "f32", "i32"),
    "cast.f32.si64": ("llroundf", "f32", "i64"), "cast.f64.si32": ("lroundf", "f32", "i32"),
    "cast.f64.ui32": ("llroundf", "f32", "i32"), "cast.f64.si64": ("lround", "f64", "i64"),
    "cast.f64.ui64": ("llround", "f64", "i64"),
}


def float_to_int(L, ins):
    """(int)lround*(x) through libm, as the interpreter does (f64->i32 goes through float)."""
    a, args = L.a, ins.args
    fn, arg_t, res_t = FLOAT_TO_INT[ins.op.mnemonic]
    x = L.load_xmm(args["operand"], R.xmm0)
    if arg_t == "f32" and ".f64." in ins.op.mnemonic:
        a.cvtsd2ss(R.xmm0, x)
    a.mov(R.rax, libm_address(fn))
    a.call(R.rax)
    L.write_gpr(args["result"], R.rax.view(32 if res_t == "i32" else 64))


def float_to_u64(L, ins):
    """cast.f32.ui64: (uint64_t)roundf(x), with clang's x86-64 float->u64 sequence."""
    a, args = L.a, ins.args
    L.load_xmm(args["operand"], R.xmm0)
    a.mov(R.rax, libm_address("roundf"))
    a.call(R.rax)
    a.cvttss2si(R.rcx, R.xmm0)
    a.mov(R.rdx, R.rcx)
    a.sar(R.rdx, 63)
    a.subss(R.xmm0, a.const_f32(2.0 ** 63))
    a.cvttss2si(R.rax, R.xmm0)
    a.and_(R.rax, R.rdx)
    a.or_(R.rax, R.rcx)
    L.write_gpr(args["result"], R.rax)


def bitcast(L, ins):
    """Reinterpret the bits between the general and the vector register files."""
    dst, src = ins.args["result"], ins.args["operand"]
    if dst.type in ("f32", "f64"):
        L.write_xmm(dst, _as_xmm(L, src))
    else:
        L.write_gpr(dst, _as_gpr(L, src))


def _as_xmm(L, reg):
    bits = 32 if reg.type == "i32" else 64
    t = L.read_gpr(reg, R.rax)
    (L.a.movd if bits == 32 else L.a.movq)(R.xmm0, t)
    return R.xmm0


def _as_gpr(L, reg):
    bits = 32 if reg.type == "f32" else 64
    x = L.read_xmm(reg, R.xmm0)
    t = R.rax.view(bits)
    (L.a.movd if bits == 32 else L.a.movq)(t, x)
    return t


def f32_f64(L, ins):
    a, args = L.a, ins.args
    if ins.op.mnemonic == "ext.f32.f64":
        a.cvtss2sd(R.xmm0, L.xmm_src(args["operand"]))
    else:
        a.cvtsd2ss(R.xmm0, L.xmm_src(args["operand"]))
    L.write_xmm(args["result"], R.xmm0)


HANDLERS = {}
CALLS = set()
for _t in ("f32", "f64"):
    for _s in ("add", "sub", "mul", "div"):
        HANDLERS[f"{_s}.{_t}"] = binary
    HANDLERS[f"min.{_t}"] = min_max
    HANDLERS[f"max.{_t}"] = min_max
    HANDLERS[f"sqrt.{_t}"] = sqrt
    HANDLERS[f"rsqrt.{_t}"] = rsqrt
    HANDLERS[f"abs.{_t}"] = sign_mask
    HANDLERS[f"neg.{_t}"] = sign_mask
    for _r in ("floor", "ceil"):
        HANDLERS[f"{_r}.{_t}"] = rounding
    HANDLERS[f"round.{_t}.even"] = rounding
    HANDLERS[f"fma.{_t}"] = fma
    for _m in MATH:
        HANDLERS[f"{_m}.{_t}"] = math_call
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
CALLS.update(FLOAT_TO_INT)
HANDLERS["cast.f32.ui64"] = float_to_u64
CALLS.add("cast.f32.ui64")
HANDLERS.update({"bitcast.i32.f32": bitcast, "bitcast.f32.i32": bitcast,
                 "bitcast.i64.f64": bitcast, "bitcast.f64.i64": bitcast,
                 "ext.f32.f64": f32_f64, "trunc.f64.f32": f32_f64})
