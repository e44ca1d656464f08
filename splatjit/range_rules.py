"""Interval arithmetic of the VM's integer ops: the range of an op's result from its operands'.

Ranges are inclusive signed bounds `(lo, hi)` of an i32 or i64 value. `result_range(ins,
rng)` gives the range of `ins`'s one integer result when its operands lie in `rng(reg)`:
every value the interpreter's C code (iree/vm/ops.h: wrap-around arithmetic, C division,
masked shift amounts, zero- or sign-extension) can produce for operands in those ranges lies
in it. Rules compute exact mathematical bounds and give up (None: unknown) where the result
could wrap. An op that traps has no result, so a division's range leaves a zero divisor out.
`compare(mnemonic, x, y)` decides an integer `cmp` (1 / 0) when its operand ranges do.

Contract: pure functions of their arguments (a per-opcode plan is cached by opcode identity).
"""
from __future__ import annotations

from .frontend import opcodes as oc
from .ir import Instr

I32, I64 = "i32", "i64"
BITS = {I32: 32, I64: 64}


FULL = {t: (-(1 << (b - 1)), (1 << (b - 1)) - 1) for t, b in BITS.items()}


def full(type_: str) -> tuple[int, int]:
    return FULL[type_]


def fits(lo: int, hi: int, type_: str) -> tuple[int, int] | None:
    """(lo, hi) when it lies in the type's signed range, else None (the op may wrap)."""
    tlo, thi = FULL[type_]
    return (lo, hi) if tlo <= lo and hi <= thi else None


def signed(value: int, bits: int) -> int:
    """`value`'s low `bits` bits as a two's complement number."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# --------------------------------------------------------------------- transfer rules
# Each rule: (instr, operand ranges by field name, result type) -> (lo, hi) or None.

def _add(x, y, t):
    return fits(x[0] + y[0], x[1] + y[1], t)


def _sub(x, y, t):
    return fits(x[0] - y[1], x[1] - y[0], t)


def _mul(x, y, t):
    p = [a * b for a in x for b in y]
    return fits(min(p), max(p), t)


def _and(x, y, t):
    if x[0] == x[1] and y[0] == y[1]:
        return (signed(x[0] & y[0], BITS[t]),) * 2
    bounds = [r[1] for r in (x, y) if r[0] >= 0]
    return (0, min(bounds)) if bounds else None


def _or_xor(x, y, t, op):
    if x[0] == x[1] and y[0] == y[1]:
        return (signed(op(x[0], y[0]), BITS[t]),) * 2
    if x[0] >= 0 and y[0] >= 0:
        top = (1 << max(x[1], y[1]).bit_length()) - 1
        return (max(x[0], y[0]) if op is int.__or__ else 0, top)
    return None


def _shift(mnemonic, x, k, t):
    """x shifted by k (a range of amounts; the VM masks the amount to the width)."""
    bits = BITS[t]
    if k[0] != k[1]:
        if mnemonic.startswith("shl"):
            return None
        if x[0] >= 0:
            return (0, x[1])
        return (x[0], max(x[1], -1)) if mnemonic.endswith(".s") else None
    n = k[0] & (bits - 1)
    if mnemonic.startswith("shl"):
        return fits(x[0] << n, x[1] << n, t)
    if mnemonic.endswith(".s") or x[0] >= 0 or n == 0:
        return (x[0] >> n, x[1] >> n)
    return (0, ((1 << bits) - 1) >> n)


def _without_zero(y):
    """y with a zero bound moved off zero (a zero divisor traps: no result), or None when y
    is exactly zero or zero lies strictly inside it."""
    lo, hi = y
    if lo == 0:
        lo = 1
    if hi == 0:
        hi = -1
    return (lo, hi) if lo <= hi and not lo < 0 < hi else None


def _div(x, y, t, is_signed):
    if not is_signed and (x[0] < 0 or y[0] < 0):
        if y[0] >= 2:  # any x, as unsigned, over at least y[0]
            return fits(0, ((1 << BITS[t]) - 1) // y[0], t)
        return None
    y = _without_zero(y)
    if y is None:
        m = max(abs(x[0]), abs(x[1]))
        return fits(-m, m, t)
    q = [_trunc_div(a, b) for a in x for b in y]
    return fits(min(q), max(q), t)


def _rem(x, y, t, is_signed):
    if not is_signed and (x[0] < 0 or y[0] < 0):
        return (0, y[1] - 1) if y[0] >= 1 else None
    m = max(abs(y[0]), abs(y[1])) - 1  # |x % y| < |y|, and x % y takes x's sign
    if m < 0:
        return None
    return (max(x[0], -m) if x[0] < 0 else 0, min(x[1], m) if x[1] > 0 else 0)


def _min_max(x, y, t, is_signed, is_min):
    if is_signed or (x[0] >= 0 and y[0] >= 0):
        f = min if is_min else max
        return (f(x[0], y[0]), f(x[1], y[1]))
    if is_min:  # unsigned min is at most the non-negative operand
        bounds = [r[1] for r in (x, y) if r[0] >= 0]
        return (0, min(bounds)) if bounds else None
    return None


def compare(mnemonic: str, x, y) -> int | None:
    """The outcome (1 / 0) of an integer `cmp` with operand ranges x, y, or None."""
    kind = mnemonic.split(".")[1]
    if kind == "nz":
        return 1 if x[0] > 0 or x[1] < 0 else 0 if x == (0, 0) else None
    if kind in ("eq", "ne"):
        same = 1 if x[0] == x[1] == y[0] == y[1] else 0 if x[1] < y[0] or y[1] < x[0] else None
        return same if same is None or kind == "eq" else 1 - same
    if mnemonic.endswith(".u") and not (x[0] >= 0 and y[0] >= 0):
        if x[0] >= 0 and y[1] < 0:
            return 1  # a non-negative value is below any negative one, unsigned
        if x[1] < 0 and y[0] >= 0:
            return 0
        return None
    return 1 if x[1] < y[0] else 0 if x[0] >= y[1] else None


#: a register compared with itself
_SELF = {"eq": 1, "ne": 0, "lt": 0}


def _cmp(ins, r, t):
    if "right" in r and ins.args["left"] == ins.args["right"]:
        outcome = _SELF[ins.op.mnemonic.split(".")[1]]
        return (outcome, outcome)
    outcome = compare(ins.op.mnemonic, r["left"] if "left" in r else r["operand"], r.get("right"))
    return (0, 1) if outcome is None else (outcome, outcome)


def _select(ins, r, t):
    c = r["condition"]
    if c[0] > 0 or c[1] < 0:
        return r["true_value"]
    if c == (0, 0):
        return r["false_value"]
    a, b = r["true_value"], r["false_value"]
    return (min(a[0], b[0]), max(a[1], b[1]))


def _ext(ins, r, t):
    x = r["operand"]
    _, src, _, sign = ins.op.mnemonic.split(".")
    width = int(src[1:])
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if sign == "s" else (0, (1 << width) - 1)
    if width == 32:  # ext.i32.i64: the operand's own range is the i32's
        if sign == "s" or x[0] >= 0:
            return x
        return (x[0] + (1 << 32), x[1] + (1 << 32)) if x[1] < 0 else (0, (1 << 32) - 1)
    return x if lo <= x[0] and x[1] <= hi else (lo, hi)


def _trunc(ins, r, t):
    x = r["operand"]
    width = int(ins.op.mnemonic.split(".")[-1][1:])
    if width == 32:
        return fits(x[0], x[1], I32) or full(I32)
    return x if 0 <= x[0] and x[1] < 1 << width else (0, (1 << width) - 1)


def _abs(ins, r, t):
    x = r["operand"]  # abs(INT_MIN) wraps to INT_MIN: its bound 2**(bits-1) does not fit
    if x[0] >= 0:
        return x
    if x[1] <= 0:
        return (-x[1], -x[0])
    return (0, max(-x[0], x[1]))


def _fma(ins, r, t):
    p = _mul(r["first"], r["second"], t)
    return None if p is None else _add(p, r["third"], t)


def _is_signed(ins) -> bool:
    return ins.op.mnemonic.endswith(".s")


def _binary(f):
    return lambda ins, r, t: f(r["left"], r["right"], t)


_RULES = {
    "add": _binary(_add),
    "sub": _binary(_sub),
    "mul": _binary(_mul),
    "and": _binary(_and),
    "or": _binary(lambda x, y, t: _or_xor(x, y, t, int.__or__)),
    "xor": _binary(lambda x, y, t: _or_xor(x, y, t, int.__xor__)),
    "fma": _fma,
    "shl": lambda ins, r, t: _shift(ins.op.mnemonic, r["operand"], r["amount"], t),
    "shr": lambda ins, r, t: _shift(ins.op.mnemonic, r["operand"], r["amount"], t),
    "div": lambda ins, r, t: _div(r["left"], r["right"], t, _is_signed(ins)),
    "rem": lambda ins, r, t: _rem(r["left"], r["right"], t, _is_signed(ins)),
    "min": lambda ins, r, t: _min_max(r["left"], r["right"], t, _is_signed(ins), True),
    "max": lambda ins, r, t: _min_max(r["left"], r["right"], t, _is_signed(ins), False),
    "not": lambda ins, r, t: (~r["operand"][1], ~r["operand"][0]),
    "abs": _abs,
    "ctlz": lambda ins, r, t: (0, BITS[t]),
    "cmp": _cmp,
    "select": _select,
    "ext": _ext,
    "trunc": _trunc,
}
#: buffer loads of narrow elements: the range of the extended value
_LOADS = {"buffer.load.i8.u": (0, 255), "buffer.load.i8.s": (-128, 127),
          "buffer.load.i16.u": (0, 65535), "buffer.load.i16.s": (-32768, 32767)}
_CONSTS = {"const.i32": I32, "const.i64": I64, "const.i32.zero": I32, "const.i64.zero": I64}


def _plan(op) -> tuple | None:
    """How `result_range` treats ops of opcode `op`: ("const", type), ("load", range),
    (rule, source field names), or None (no integer result it knows)."""
    m = op.mnemonic
    if m in _CONSTS:
        return ("const", _CONSTS[m])
    if m in _LOADS:
        return ("load", _LOADS[m])
    rule = _RULES.get(m.split(".", 1)[0])
    if rule is None or ".f" in m or "ref" in m:
        return None
    return (rule, tuple(f.name for f in op.fields if f.kind == oc.SRC))


_PLANS: dict[int, tuple | None] = {}


def result_range(ins: Instr, rng) -> tuple[int, int] | None:
    """The range of `ins`'s one integer result given `rng(reg)` for its operands, or None
    (unknown, or not an integer op with one result). Ops that trap have no result, so a
    division's divisor range leaves zero out."""
    key = id(ins.op)
    plan = _PLANS.get(key, False)
    if plan is False:
        plan = _PLANS[key] = _plan(ins.op)
    if plan is None:
        return None
    rule, what = plan
    args = ins.args
    if rule == "const":
        v = signed(args.get("value", 0), BITS[what])
        return (v, v)
    if rule == "load":
        return what
    res = args.get("result")
    if res is None or res.type not in BITS:
        return None
    operands = {}
    for name in what:
        reg = args[name]
        if reg.type not in BITS:
            return None
        operands[name] = rng(reg)
    out = rule(ins, operands, res.type)
    return None if out is None else fits(out[0], out[1], res.type)
