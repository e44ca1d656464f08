"""Copy nests: element-copy loops over a delinearised index, run as one native copy.

IREE's data-tiled kernels end with loops like

    for i in [0, n):                      # step 1, n loop invariant
        d0, d1, d2 = i / 1024, i % 1024 / 64, i % 64 / 8, ...   (mixed-radix digits of i)
        if g(d) <u 128 and ...:           # guards: affine in the digits and invariants
            dst[s(d)] = src[l(d)]         # one load, one store of the same width

This pass proves such a loop symbolically and hands the backend a `CopyNest` plan: every
integer value on the path that stores is an affine form over digit slices of `i`
(floor(i / w) mod r) and loop-invariant registers; the slices used by the indices and the
guards are refined into one mixed radix (digit k has weight W_k, each weight dividing the
next; the top digit is unbounded, its count n / W_top comes at run time).

The loop's entering `br` becomes `jit.copy.nest` (opcodes.py): at run time the backend
evaluates the plan's checks - every invariant and n within `limit` (so no value on the path
wraps and the forms are exact), i starts at 0, n > 0 is a multiple of W_top, each guard
holds at the extreme corners of the digit box (so everywhere), both index ranges lie inside
their buffers, the destination is non-null and writable, the two byte ranges do not overlap
- and, when all pass, copies the box (outer digits as loops, the contiguous innermost digits
as one run of vector moves) and jumps to the loop's exit. Otherwise it enters the loop,
which is unchanged: any trap happens at the same element and offset, after the same stores.

Contract: `plan_copy_nests(fn)` returns a `Function` computing what `fn` computes, or `fn`
itself when no loop qualifies. A loop qualifies when it is a natural loop (one header, one
outside predecessor ending in `br`, exiting only from the header through an edge without
remaps to a later block that is no loop header), its header ends `cond_br (i <s n)`, `n`
invariant, and exactly one path through the body - fully understood, with every branch on
it decided by compares of affine values - loads one element and stores it (same width) and
returns `i + 1` to the header; and no slot the loop writes is live at the exit. Everything
else is left as it is. Run it last (after element promotion and remap coalescing), and only
for a backend that lowers `jit.copy.nest` and without fuel (the nest burns none).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .buffer_cache import natural_loops, ref_writes
from .frontend import opcodes as oc
from .ir import Block, Function, Instr, Reg, Successor
from .regalloc.loops import predecessors
from .regalloc.variables import successors, typed_regs
from .lowering import loop_headers

BITS = {"i32": 32, "i64": 64}
#: load mnemonic -> (element bytes, the store mnemonic that writes the same bytes back)
COPIES = {"buffer.load.i8.u": (1, "buffer.store.i8"), "buffer.load.i8.s": (1, "buffer.store.i8"),
          "buffer.load.i16.u": (2, "buffer.store.i16"), "buffer.load.i16.s": (2, "buffer.store.i16"),
          "buffer.load.i32": (4, "buffer.store.i32"), "buffer.load.i64": (8, "buffer.store.i64"),
          "buffer.load.f32": (4, "buffer.store.f32"), "buffer.load.f64": (8, "buffer.store.f64")}
MAX_PATHS = 16
MAX_LEVELS = 8
NEST_OP = oc.JIT_OPS["jit.copy.nest"]


class Unknown(Exception):
    """A value (or op) the symbolic evaluation does not model."""


# --------------------------------------------------------------------- affine forms
class Affine:
    """const + sum(coef * atom). Atoms: ("s", w, r) = floor(i / w) mod r (r None: unbounded)
    while recognising; in a plan ("d", k) = digit k (0 = top) and ("v", j) = invariant j."""

    __slots__ = ("const", "terms")

    def __init__(self, const: int = 0, terms: dict | None = None):
        self.const = const
        self.terms = {a: c for a, c in (terms or {}).items() if c}

    @staticmethod
    def atom(a) -> "Affine":
        return Affine(0, {a: 1})

    def __add__(self, o: "Affine") -> "Affine":
        t = dict(self.terms)
        for a, c in o.terms.items():
            t[a] = t.get(a, 0) + c
        return Affine(self.const + o.const, t)

    def scale(self, k: int) -> "Affine":
        return Affine(self.const * k, {a: c * k for a, c in self.terms.items()})

    def __sub__(self, o: "Affine") -> "Affine":
        return self + o.scale(-1)

    def constant(self) -> int | None:
        return None if self.terms else self.const

    def __eq__(self, o):
        return isinstance(o, Affine) and self.const == o.const and self.terms == o.terms

    def __hash__(self):
        return hash((self.const, tuple(sorted(self.terms.items(), key=repr))))

    def __repr__(self):
        parts = [str(self.const)] + [f"{c}*{a}" for a, c in self.terms.items()]
        return " + ".join(parts)


INDUCTION = Affine.atom(("s", 1, None))


@dataclass(frozen=True)
class Cond:
    """left < right (strict) or left <= right, signed or unsigned."""
    strict: bool
    signed: bool
    left: Affine
    right: Affine

    def negated(self) -> "Cond":
        return Cond(not self.strict, self.signed, self.right, self.left)


@dataclass(frozen=True)
class Both:
    """Both conditions hold (`and.i32` of two booleans)."""
    parts: tuple


@dataclass(frozen=True)
class Loaded:
    """The value one `buffer.load` produced (only a store of the same width may read it)."""
    ins: Instr


# --------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class CopyNest:
    """What `jit.copy.nest` does, in terms of its operand list (`args["operands"]`).

    Forms are `Affine`s over ("d", k) digits (k = 0 the top digit, counting n / top_weight
    at run time; k >= 1 of static `radices[k - 1]`, most significant first) and ("v", j)
    = the value of invariant j (operand `invariants[j]`, sign-extended when i32)."""
    size: int                  # element bytes of the load / store
    start: int                 # operand index of i's value on entry (must be 0)
    invariants: tuple          # operand indexes of the invariant registers
    src: int                   # operand index of the loaded buffer's ref
    dst: int                   # operand index of the stored buffer's ref
    bound: Affine              # n, over invariants only
    top_weight: int            # W_top: n must be a positive multiple of it
    radices: tuple             # static radices of digits 1.., most significant first
    load: Affine               # element index loaded
    store: Affine              # element index stored
    guards: tuple              # Cond over digits and invariants, each must hold everywhere
    limit: int                 # |invariant| <= limit and n <= limit keep every value exact

    @property
    def digits(self) -> int:
        return 1 + len(self.radices)


# --------------------------------------------------------------------- symbolic state
class _State:
    """slot -> (type, value) for slots the loop writes; values of others are invariants."""

    def __init__(self, written: set[int], constants: dict, slots: dict | None = None):
        self.written, self.constants, self.slots = written, constants, dict(slots or {})

    def copy(self) -> "_State":
        return _State(self.written, self.constants, self.slots)

    def get(self, reg: Reg):
        if reg.is_ref:
            raise Unknown(reg)
        if not set(reg.slots) & self.written:
            if reg.type not in BITS:
                raise Unknown(reg)
            known = self.constants.get(reg.ordinal)
            if known is not None and known[1] == reg.type:
                return Affine(_signed_value(known[0], BITS[reg.type]))
            return Affine.atom(("v", reg.ordinal, reg.type))
        entry = self.slots.get(reg.ordinal)
        if entry is None or entry[0] != reg.type or entry[2] != reg.slots:
            raise Unknown(reg)
        return entry[1]

    def set(self, reg: Reg, value) -> None:
        for s in reg.slots:
            for k in (s - 1, s):
                e = self.slots.get(k)
                if e is not None and s in e[2]:
                    del self.slots[k]
        self.slots[reg.ordinal] = (reg.type, value, reg.slots)

    def _kill(self, slot: int, n: int) -> None:
        for s in range(slot, slot + n):
            for k in (s - 1, s):
                e = self.slots.get(k)
                if e is not None and s in e[2]:
                    del self.slots[k]
            self.slots[s] = ("dead", None, (s,))


def _remap_into(state: _State, pairs) -> None:
    """Apply a branch's sequential 32-bit remap copies to `state`: a whole i64 / i32 value
    moves when its slots are copied in order; any other destination becomes unknown."""
    raw = [(s.ordinal, d.ordinal) for s, d in pairs if not s.is_ref]
    k = 0
    while k < len(raw):
        s, d = raw[k]
        wide = k + 1 < len(raw) and raw[k + 1] == (s + 1, d + 1) and not s & 1 and not d & 1
        moved = None
        for t in (("i64",) if wide else ()) + ("i32",):
            try:
                moved = (t, state.get(Reg(t, s)))
                break
            except Unknown:
                continue
        n = 2 if moved is not None and moved[0] == "i64" else 1
        if moved is None:
            state._kill(d, 1)
        else:
            state.set(Reg(moved[0], d), moved[1])
        k += n


# --------------------------------------------------------------------- op rules
def _slice_of(x: Affine):
    """(w, r) when x is exactly one digit slice of i."""
    if x.const or len(x.terms) != 1:
        raise Unknown(x)
    (a, c), = x.terms.items()
    if c != 1 or a[0] != "s":
        raise Unknown(x)
    return a[1], a[2]


def _div(x: Affine, k: int) -> Affine:
    w, r = _slice_of(x)
    if k <= 0:
        raise Unknown(k)
    if r is not None and r <= k:
        return Affine(0)  # x < r <= k
    if r is not None and r % k:
        raise Unknown((r, k))
    return Affine.atom(("s", w * k, None if r is None else r // k))


def _rem(x: Affine, k: int) -> Affine:
    w, r = _slice_of(x)
    if k <= 0:
        raise Unknown(k)
    if r is not None and r <= k:
        return x
    if r is not None and r % k:
        raise Unknown((r, k))
    return Affine.atom(("s", w, k))


def _const_of(x) -> int:
    if not isinstance(x, Affine) or x.constant() is None:
        raise Unknown(x)
    return x.constant()


def _mul(x, y) -> Affine:
    if not isinstance(x, Affine) or not isinstance(y, Affine):
        raise Unknown((x, y))
    if x.constant() is not None:
        return y.scale(x.constant())
    return x.scale(_const_of(y))


def _as_affine(x) -> Affine:
    if not isinstance(x, Affine):
        raise Unknown(x)
    return x


def _signed_value(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _evaluate(ins: Instr, state: _State, produced: list):
    """The symbolic result of a pure op (None: the op is not modelled -> Unknown)."""
    m, a = ins.op.mnemonic, ins.args
    parts = m.split(".")
    stem = parts[0]
    res = a.get("result")
    if m.startswith("jit.copy."):
        return state.get(a["operand"])
    if stem == "const" and parts[1] in BITS:
        return Affine(_signed_value(a.get("value", 0), BITS[parts[1]]))
    if res is None or res.type not in BITS:
        raise Unknown(m)
    g = state.get
    if stem in ("add", "sub") and len(parts) == 2:
        x, y = _as_affine(g(a["left"])), _as_affine(g(a["right"]))
        value = x + y if stem == "add" else x - y
    elif stem == "mul" and len(parts) == 2:
        value = _mul(g(a["left"]), g(a["right"]))
    elif stem == "fma" and len(parts) == 2:
        value = _mul(g(a["first"]), g(a["second"])) + _as_affine(g(a["third"]))
    elif stem in ("div", "rem") and len(parts) == 3:
        k = _const_of(g(a["right"]))
        if parts[2] == "u" and k < 0:
            raise Unknown(k)
        value = (_div if stem == "div" else _rem)(_as_affine(g(a["left"])), k)
    elif stem == "shr" and len(parts) == 3:
        k = _const_of(g(a["amount"]))
        if not 0 <= k < BITS[parts[1]]:
            raise Unknown(k)
        value = _div(_as_affine(g(a["operand"])), 1 << k)
    elif stem == "shl" and len(parts) == 2:
        k = _const_of(g(a["amount"]))
        if not 0 <= k < BITS[parts[1]]:
            raise Unknown(k)
        value = _as_affine(g(a["operand"])).scale(1 << k)
    elif stem == "and" and parts[1] in BITS and not _is_bool_and(ins, state):
        x, y = g(a["left"]), g(a["right"])
        if isinstance(x, Affine) and x.constant() is not None:
            x, y = y, x
        k = _const_of(y)
        if k <= 0 or k & (k + 1):
            raise Unknown(k)
        value = _rem(_as_affine(x), k + 1)
    elif m == "ext.i32.i64.s":
        value = _as_affine(g(a["operand"]))
    elif m == "trunc.i64.i32":
        value = _as_affine(g(a["operand"]))
    elif stem == "cmp" and parts[1] == "lt" and parts[2] in BITS:
        return Cond(True, parts[3] == "s", _as_affine(g(a["left"])), _as_affine(g(a["right"])))
    elif m == "cmp.nz.i32":
        value = g(a["operand"])
        if not isinstance(value, (Cond, Both)):
            raise Unknown(value)
        return value
    elif m == "and.i32":
        x, y = g(a["left"]), g(a["right"])
        return Both((x, y))
    elif m == "xor.i32":
        x, y = g(a["left"]), g(a["right"])
        if isinstance(x, Affine):
            x, y = y, x
        if isinstance(x, Cond) and _const_of(y) == 1:
            return x.negated()
        raise Unknown(m)
    else:
        raise Unknown(m)
    produced.append((value, BITS[res.type]))
    return value


def _is_bool_and(ins: Instr, state: _State) -> bool:
    if ins.op.mnemonic != "and.i32":
        return False
    try:
        x, y = state.get(ins.args["left"]), state.get(ins.args["right"])
    except Unknown:
        return False
    return isinstance(x, (Cond, Both)) and isinstance(y, (Cond, Both))


def _conds(value, outcome: bool) -> list[Cond]:
    """The compares that `value` being non-zero (`outcome`) or zero means, all holding."""
    if isinstance(value, Cond):
        return [value if outcome else value.negated()]
    if isinstance(value, Both) and outcome:
        return [c for p in value.parts for c in _conds(p, True)]
    raise Unknown(value)


# --------------------------------------------------------------------- paths
@dataclass
class _Path:
    guards: list
    load: Instr | None = None
    store: Instr | None = None
    load_index: Affine | None = None
    store_index: Affine | None = None
    back: object = None        # i's value on the back edge

    def fork(self, guards: list) -> "_Path":
        return _Path(self.guards + guards, self.load, self.store, self.load_index,
                     self.store_index)


def _walk(fn, header: int, body: set[int], start: int, state: _State, produced: list):
    """Complete understood paths from block `start` back to `header` (opaque ones dropped;
    an op with memory effects other than one load + one store makes its path opaque)."""
    done: list[_Path] = []
    work = [(start, state, _Path([]), frozenset())]
    while work:
        b, st, path, seen = work.pop()
        if len(done) + len(work) > MAX_PATHS:
            raise Unknown("too many paths")
        if b == header:
            try:
                path.back = st.get(_induction_reg(fn, header))
            except Unknown:
                continue
            done.append(path)
            continue
        if b not in body or b in seen:
            continue  # leaves the loop elsewhere, or an inner cycle: not a copy path
        try:
            succs = _run_block(fn.blocks[b], st, path, produced)
        except Unknown:
            continue
        for target, s2, guards in succs:
            work.append((target, s2, path.fork(guards), seen | {b}))
    return done


def _run_block(block: Block, st: _State, path: _Path, produced: list):
    for ins in block.instrs[:-1]:
        m = ins.op.mnemonic
        if m in COPIES:
            if path.load is not None:
                raise Unknown("second load")
            a = ins.args
            if a["source_buffer"].move:
                raise Unknown("move")
            index = _as_affine(st.get(a["source_offset"]))
            produced.append((index, 64))
            path.load, path.load_index = ins, index
            st.set(a["result"], Loaded(ins))
            continue
        if m.startswith("buffer.store."):
            a = ins.args
            value = st.get(a["value"])
            if (path.store is not None or not isinstance(value, Loaded) or a["target_buffer"].move
                    or COPIES[value.ins.op.mnemonic][1] != m):
                raise Unknown("store")
            index = _as_affine(st.get(a["target_offset"]))
            produced.append((index, 64))
            path.store, path.store_index = ins, index
            continue
        defs = typed_regs(ins)[1]
        if len(defs) != 1 or ins.op.edge_fields:
            raise Unknown(m)
        st.set(defs[0], _evaluate(ins, st, produced))
    term = block.instrs[-1]
    m = term.op.mnemonic
    if m == "br":
        s = term.args["dest_pc"]
        st2 = st.copy()
        _remap_into(st2, s.remap)
        return [(s.block, st2, [])]
    if m == "cond_br":
        cond = st.get(term.args["condition"])
        out = []
        for succ, outcome in ((term.args["true_dest_pc"], True), (term.args["false_dest_pc"], False)):
            try:
                guards = _conds(cond, outcome)
            except Unknown:
                continue
            st2 = st.copy()
            _remap_into(st2, succ.remap)
            out.append((succ.block, st2, guards))
        return out
    raise Unknown(m)


def _induction_reg(fn, header: int) -> Reg:
    ins = fn.blocks[header].instrs[0]
    return ins.args["left"]


# --------------------------------------------------------------------- recognition
def _written(fn, body: set[int]) -> set[int]:
    out: set[int] = set()
    for b in body:
        for ins in fn.blocks[b].instrs:
            out.update(s for r in typed_regs(ins)[1] for s in r.slots)
            for succ in successors(ins):
                out.update(d.ordinal for s, d in succ.remap if not d.is_ref)
    return out


def _live_in(fn) -> dict[int, set[int]]:
    """Block -> i32-bank slots live on entry (ops read before written; remaps sequential)."""
    gen, kill, edges = {}, {}, {}
    for b in fn.blocks:
        g, k = set(), set()
        for ins in b.instrs:
            uses, defs = typed_regs(ins)
            g |= {s for r in uses for s in r.slots} - k
            k |= {s for r in defs for s in r.slots}
        gen[b.index], kill[b.index] = g, k
        edges[b.index] = [s for ins in b.instrs[-1:] for s in successors(ins)]
    live = {b.index: set() for b in fn.blocks}
    changed = True
    while changed:
        changed = False
        for b in reversed(fn.blocks):
            out = set()
            for s in edges[b.index]:
                if s.block is None:
                    continue
                x = set(live.get(s.block, ()))
                for src, dst in reversed(s.remap):
                    if not src.is_ref and dst.ordinal in x:
                        x.discard(dst.ordinal)
                        x.add(src.ordinal)
                out |= x
            new = gen[b.index] | (out - kill[b.index])
            if new != live[b.index]:
                live[b.index], changed = new, True
    return live


def _origins(pairs) -> tuple[dict, dict]:
    """Where each slot / ref written by a sequential remap list took its value from."""
    slots, refs = {}, {}
    for s, d in pairs:
        table = refs if s.is_ref else slots
        table[d.ordinal] = table.get(s.ordinal, s.ordinal)
    return slots, refs


def _before_remap(reg: Reg, slots: dict) -> Reg:
    """The register holding, before the remap, what `reg` holds after it."""
    origin = [slots.get(s, s) for s in reg.slots]
    if origin != list(range(origin[0], origin[0] + len(origin))):
        raise Unknown(reg)
    return Reg(reg.type, origin[0])


def _limit(produced: list) -> int | None:
    """The largest 2**k such that, with n and every |invariant| at most 2**k, no value on the
    path leaves its type's signed range (so the forms are exact)."""
    for k in range(62, 3, -1):
        lim = 1 << k
        if all(_magnitude(v, lim) < (1 << (bits - 1)) for v, bits in produced):
            return lim
    return None


def _magnitude(v: Affine, lim: int) -> int:
    total = abs(v.const)
    for atom, c in v.terms.items():
        if atom[0] == "s":
            top = (lim - 1) // atom[1]
            bound = top if atom[2] is None else min(atom[2] - 1, top)
        else:
            bound = min(lim, 1 << (BITS[atom[2]] - 1))
        total += abs(c) * bound
    return total


def _digits(forms: list[Affine]):
    """Weights (least significant first; the last one is the unbounded top digit's), or
    None when the slices do not nest into one mixed radix."""
    bounds = {1}
    for f in forms:
        for atom in f.terms:
            if atom[0] == "s":
                bounds.add(atom[1])
                if atom[2] is not None:
                    bounds.add(atom[1] * atom[2])
    weights = sorted(bounds)
    if any(b % a for a, b in zip(weights, weights[1:])):
        return None
    return weights


def _in_digits(f: Affine, weights: list[int], invariant_index: dict) -> Affine:
    """`f` over ("d", k) (k = 0 the top digit) and ("v", j)."""
    out = Affine(f.const)
    top = len(weights) - 1
    for atom, c in f.terms.items():
        if atom[0] == "v":
            out = out + Affine(0, {("v", invariant_index[atom]): c})
            continue
        _, w, r = atom
        for k, wk in enumerate(weights):
            if wk >= w and (r is None or wk < w * r):
                out = out + Affine(0, {("d", top - k): c * (wk // w)})
    return out


def recognise(fn, header: int, body: set[int], preds, live, headers, constants):
    """(preheader block, exit block, CopyNest, operand registers) or None. `live()` gives
    the live-in slots per block."""
    outside = preds[header] - body
    if len(outside) != 1:
        return None
    pre = next(iter(outside))
    term = fn.blocks[pre].instrs[-1]
    if term.op.mnemonic != "br":
        return None
    hblock = fn.blocks[header].instrs
    if len(hblock) != 2 or hblock[1].op.mnemonic != "cond_br":
        return None
    cmp, br = hblock
    if cmp.op.mnemonic not in ("cmp.lt.i32.s", "cmp.lt.i64.s") or br.args["condition"] != cmp.args["result"]:
        return None
    t, x = br.args["true_dest_pc"], br.args["false_dest_pc"]
    if t.block not in body or x.block in body or x.block is None or t.remap or x.remap:
        return None
    if x.block in headers or x.block <= pre:
        return None
    written = _written(fn, body)
    if any(ref_writes(ins) for b in body for ins in fn.blocks[b].instrs):
        return None
    if written & live()[x.block]:
        return None
    ind = cmp.args["left"]
    if not set(ind.slots) <= written:
        return None
    produced: list = []
    try:
        st = _State(written, constants)
        st.set(ind, INDUCTION)
        bound = _as_affine(st.get(cmp.args["right"]))
        if any(a[0] != "v" for a in bound.terms):
            return None
        produced += [(INDUCTION, BITS[ind.type]), (bound, BITS[ind.type])]
        st.set(cmp.args["result"], None)
        paths = _walk(fn, header, body, t.block, st, produced)
    except Unknown:
        return None
    copies = [p for p in paths if p.store is not None]
    if len(copies) != 1 or copies[0].load is None:
        return None
    path = copies[0]
    if path.back != INDUCTION + Affine(1):
        return None
    produced.append((INDUCTION + Affine(1), BITS[ind.type]))
    limit = _limit(produced)
    if limit is None:
        return None
    load_idx, store_idx = path.load_index, path.store_index
    forms = [load_idx, store_idx] + [f for g in path.guards for f in (g.left, g.right)]
    weights = _digits(forms + [bound])
    if weights is None or len(weights) > MAX_LEVELS:
        return None
    # operands: start, invariants, src, dst (all as the preheader holds them before its remap)
    slots, refs = _origins(term.args["dest_pc"].remap)
    try:
        start_reg = _before_remap(ind, slots)
        atoms = sorted({a for f in forms + [bound] for a in f.terms if a[0] == "v"})
        inv_regs = [_before_remap(Reg(a[2], a[1]), slots) for a in atoms]
    except Unknown:
        return None
    src = path.load.args["source_buffer"]
    dst = path.store.args["target_buffer"]
    src_ref = Reg("ref", refs.get(src.ordinal, src.ordinal))
    dst_ref = Reg("ref", refs.get(dst.ordinal, dst.ordinal))
    operands = [start_reg] + inv_regs + [src_ref, dst_ref]
    index = {a: j for j, a in enumerate(atoms)}
    top = weights[-1]
    radices = tuple(weights[k + 1] // weights[k] for k in reversed(range(len(weights) - 1)))
    conv = lambda f: _in_digits(f, weights, index)  # noqa: E731
    plan = CopyNest(
        size=COPIES[path.load.op.mnemonic][0], start=0,
        invariants=tuple(range(1, 1 + len(inv_regs))), src=len(operands) - 2,
        dst=len(operands) - 1, bound=conv(bound), top_weight=top, radices=radices,
        load=conv(load_idx), store=conv(store_idx),
        guards=tuple(Cond(g.strict, g.signed, conv(g.left), conv(g.right)) for g in path.guards),
        limit=limit)
    return pre, x.block, plan, operands


def plan_copy_nests(fn: Function, constants: dict) -> Function:
    """See the module docstring. `constants`: `lowering.constant_slots` of `fn` (slots
    holding one integer constant everywhere they are read)."""
    loops = natural_loops(fn)
    if not loops:
        return fn
    preds = predecessors(fn)
    cache: list = []

    def live() -> dict:  # computed once, when a loop gets that far
        if not cache:
            cache.append(_live_in(fn))
        return cache[0]
    constants = {r.ordinal: (constants[r.ordinal], r.type) for ins in fn.instrs()
                 if ins.op.mnemonic.startswith("const.i") and (r := ins.args["result"]).ordinal in constants}
    headers = loop_headers(fn)
    blocks = list(fn.blocks)
    changed = False
    for header, body in loops:
        found = recognise(fn, header, body, preds, live, headers, constants)
        if found is None:
            continue
        pre, exit_block, plan, operands = found
        old = blocks[pre]
        term = old.instrs[-1]
        succ = term.args["dest_pc"]
        nest = Instr(term.offset, NEST_OP, {
            "operands": operands,
            "done_pc": Successor(fn.blocks[exit_block].offset, exit_block, succ.remap),
            "loop_pc": succ,
            "plan": plan}, term.length)
        blocks[pre] = Block(old.index, old.offset, old.instrs[:-1] + [nest])
        changed = True
    return replace(fn, blocks=blocks) if changed else fn
