"""Which VM register slots can live in machine registers ("variables"), and which stay in memory.

The VM's i32 bank is memory-like: i64/f64 values take two slots, and branch remaps copy raw
32-bit halves. A slot is *promotable* when every access in the function treats it the same
way: always one 32-bit kind (i32 or f32), or always as the same half of one wide variable
(i64 or f64) whose raw remaps move both halves together. Everything else keeps its home in
the frame's memory register file, which reproduces the VM's aliasing exactly.

Contract: `classify(fn)` returns a `SlotMap`; `var_of(reg)` gives the `Var` a register
operand reads or writes (None when the access goes to memory), and `remap_moves(pairs)`
turns a branch remap list into whole-variable moves plus leftover raw 32-bit slot moves.
"""
from __future__ import annotations

from typing import NamedTuple

from ..frontend import opcodes as oc
from ..frontend.verifier import arg_registers
from ..ir import WIDE, Function, Instr, Reg

CLASS_OF = {"i32": "gpr", "i64": "gpr", "f32": "fpr", "f64": "fpr"}


class Var(NamedTuple):
    """A promoted value: `kind` is i32/i64/f32/f64, `slot` its (even, for wide) first slot.
    A named tuple, so the allocator's many dict and set lookups hash it at C speed."""
    kind: str
    slot: int

    @property
    def cls(self) -> str:
        return CLASS_OF[self.kind]

    @property
    def wide(self) -> bool:
        return self.kind in WIDE

    @property
    def slots_covered(self) -> tuple[int, ...]:
        return (self.slot, self.slot + 1) if self.wide else (self.slot,)

    def __str__(self):
        return f"{self.kind}@{self.slot}"


def typed_regs(ins: Instr):
    """(uses, defs): the primitive-bank register operands of `ins`, remaps excluded.
    Computed once per Instr (kept in `ins.regs`): callers must not change the lists."""
    regs = ins.regs
    if regs is None:
        regs = ins.regs = _typed_regs(ins)
    return regs


def _typed_regs(ins: Instr):
    uses: list[Reg] = []
    defs: list[Reg] = []
    args = ins.args
    for name, kind in ins.op.reg_fields:
        v = args.get(name)
        if kind is oc.SRC:
            if v.type != "ref":
                uses.append(v)
        elif kind is oc.DST:
            if v.type != "ref":
                defs.append(v)
        elif kind is oc.SRCLIST:
            uses += [r for r in v if r.type != "ref"]
        else:
            defs += [r for r in v if r.type != "ref"]
    return uses, defs


def successors(ins: Instr):
    out = []
    for name, cases in ins.op.edge_fields:
        if cases:
            out.extend(ins.args[name])
        else:
            out.append(ins.args[name])
    return out


def _raw_pairs(pairs) -> list[tuple[int, int]]:
    return [(s.ordinal, d.ordinal) for s, d in pairs if not s.is_ref]


def wide_pair_moves(raw: list[tuple[int, int]], wide_slots: set[int]):
    """Splits raw (src, dst) slot copies into whole wide moves and single-slot copies.

    A wide move is two consecutive copies lo->lo', hi->hi' of even-aligned pairs.
    """
    wide, single, i = [], [], 0
    while i < len(raw):
        s, d = raw[i]
        if (i + 1 < len(raw) and not s & 1 and not d & 1 and raw[i + 1] == (s + 1, d + 1)
                and s in wide_slots and d in wide_slots):
            wide.append((s, d))
            i += 2
        else:
            single.append((s, d))
            i += 1
    return wide, single


def remap_copies(pairs, wide_slots: set[int]) -> list[tuple[str, int, int]]:
    """A remap list as ordered copies ("ref" | "w" 64-bit pair | "n" 32-bit, src, dst),
    grouping halves exactly as `wide_pair_moves` does."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(pairs)
    while i < n:
        s, d = pairs[i]
        if s.is_ref:
            out.append(("ref", s.ordinal, d.ordinal))
            i += 1
            continue
        nxt = pairs[i + 1] if i + 1 < n else None
        if (nxt is not None and not nxt[0].is_ref and not s.ordinal & 1 and not d.ordinal & 1
                and (nxt[0].ordinal, nxt[1].ordinal) == (s.ordinal + 1, d.ordinal + 1)
                and s.ordinal in wide_slots and d.ordinal in wide_slots):
            out.append(("w", s.ordinal, d.ordinal))
            i += 2
        else:
            out.append(("n", s.ordinal, d.ordinal))
            i += 1
    return out


class SlotMap:
    """Result of `classify`: slot -> Var for promoted slots (both slots of a wide var).
    Keeps no reference to the function (compiled modules keep their SlotMaps)."""

    def __init__(self, fn: Function, var_at: dict[int, Var], wide_slots: set[int]):
        self.var_at = var_at
        self.wide_slots = wide_slots  # every slot some op reads or writes as half of a wide value

    @property
    def variables(self) -> list[Var]:
        return sorted(set(self.var_at.values()), key=lambda v: v.slot)

    def var_of(self, reg: Reg) -> Var | None:
        if reg.is_ref:
            return None
        v = self.var_at.get(reg.ordinal)
        if v is None:
            return None
        if reg.type == "x32":
            return v if not v.wide else None
        return v if v.kind == reg.type and v.slot == reg.ordinal else None

    def remap_moves(self, pairs):
        """(wide copies [(src slot, dst slot)], 32-bit copies [(src slot, dst slot)]) of the
        primitive part of a remap list, grouped exactly as `classify` grouped them.

        A promoted wide var only ever appears in wide copies, a promoted 32-bit var only in
        32-bit copies; `var_at` says which slots are promoted.
        """
        return wide_pair_moves(_raw_pairs(pairs), self.wide_slots)


def classify(fn: Function) -> SlotMap:
    kinds: dict[int, set] = {}  # slot -> {(kind, base slot)} seen; ("raw", slot) for x32

    def see(slot: int, what):
        seen = kinds.get(slot)
        if seen is None:
            kinds[slot] = {what}
        else:
            seen.add(what)

    for r in arg_registers(fn.signature):
        if not r.is_ref:
            for s in r.slots:
                see(s, (r.type, r.ordinal))
    all_slots_wide: set[int] = set()
    edges = []
    seen_at = kinds.get
    for b in fn.blocks:
        for ins in b.instrs:
            for regs in typed_regs(ins):
                for r in regs:  # see(slot, what) inline: most of the walk's calls
                    t, o = r.type, r.ordinal
                    if t in WIDE:
                        what = (t, o)
                        for s in (o, o + 1):
                            seen = seen_at(s)
                            if seen is None:
                                kinds[s] = {what}
                            else:
                                seen.add(what)
                        all_slots_wide.add(o)
                        all_slots_wide.add(o + 1)
                        continue
                    what = ("raw", o) if t == "x32" else (t, o)
                    seen = seen_at(o)
                    if seen is None:
                        kinds[o] = {what}
                    else:
                        seen.add(what)
            if ins.op.edge_fields:
                edges += successors(ins)
    # Remaps: whole wide moves between wide slots, or raw single-slot copies.
    for succ in edges:
        wide, single = wide_pair_moves(_raw_pairs(succ.remap), all_slots_wide)
        for s, d in wide:
            see(s, ("pairmove", s))
            see(d, ("pairmove", d))
        for s, d in single:
            see(s, ("raw", s))
            see(d, ("raw", d))
    var_at: dict[int, Var] = {}
    for slot, seen in kinds.items():
        if len(seen) == 1:
            (what,) = seen
            if what[0] not in CLASS_OF:
                continue
            typed, extra = seen, ()
        else:
            typed = {w for w in seen if w[0] in CLASS_OF}
            if len(typed) != 1:
                continue
            extra = seen - typed
        kind, base = next(iter(typed))
        if kind in WIDE:
            if any(w[0] == "raw" for w in extra):
                continue
            partner = base + 1 if slot == base else base
            if kinds.get(partner, set()) - {("pairmove", partner)} != {(kind, base)}:
                continue
        elif any(w[0] == "pairmove" for w in extra):
            continue
        var_at[slot] = Var(kind, base)
    # A wide var needs both of its slots promoted.
    for slot, v in list(var_at.items()):
        if v.kind in WIDE and (var_at.get(v.slot) != v or var_at.get(v.slot + 1) != v):
            del var_at[slot]
    return SlotMap(fn, var_at, all_slots_wide)
