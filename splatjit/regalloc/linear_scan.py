"""Linear-scan register allocation (Poletto & Sarkar) over live intervals.

Contract: `allocate(intervals, target)` returns an `Allocation` mapping each variable to a
register name of its class, or to None (spilled: the variable lives in its memory home, the
frame slot of the VM register). Intervals that cross a call only get callee-saved registers.
When registers run out, the cheapest interval is spilled - the fewest loop-weighted uses
(see liveness.LOOP_WEIGHT) per program point it covers - and among equally cheap ones the
one that ends last.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .liveness import Interval
from .target import TargetDesc
from .variables import Var


@dataclass
class Allocation:
    reg_of: dict[Var, str | None] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # registers handed out (for prologue saves)

    def location(self, v: Var | None) -> str | None:
        return None if v is None else self.reg_of.get(v)


def allocate(intervals: list[Interval], target: TargetDesc) -> Allocation:
    alloc = Allocation()
    reg_of, used, registers = alloc.reg_of, alloc.used, target.registers
    active: list[tuple[Interval, str]] = []  # in the order they got their registers
    taken: set[str] = set()                  # their registers
    first_end = None  # at most the lowest end in `active`: nothing expires before it
    for iv in sorted(intervals, key=lambda i: (i.start, i.end)):
        if first_end is not None and first_end < iv.start:  # expire old intervals
            active = [(a, r) for a, r in active if a.end >= iv.start]
            taken = {r for _, r in active}
            first_end = min((a.end for a, _ in active), default=None)
        allowed = registers(iv.var.cls, across_call=iv.crosses_call)
        reg = None
        for r in allowed:  # the first free one
            if r not in taken:
                reg = r
                break
        else:
            # Spill the cheapest: the current interval or one whose register we could take.
            candidates = [(a, r) for a, r in active if r in allowed]
            if candidates:
                victim, victim_reg = min(candidates, key=lambda ar: _spill_order(ar[0]))
                if _spill_order(victim) < _spill_order(iv):
                    reg_of[victim.var] = None
                    active.remove((victim, victim_reg))
                    reg = victim_reg  # (still in `taken`: it goes to iv below)
        reg_of[iv.var] = reg
        if reg is not None:
            active.append((iv, reg))
            taken.add(reg)
            used.add(reg)
            if first_end is None or iv.end < first_end:
                first_end = iv.end
    return alloc


def _spill_order(iv: Interval) -> tuple[float, int]:
    """Lower spills first: fewer weighted uses per program point of the interval (a short
    temporary used in a loop outranks a long-lived value read there as often: reloading
    that value is a plain load, spilling the temporary puts a store and a reload on the
    chain that computes it), then the later end."""
    return iv.uses / (iv.end - iv.start + 2), -iv.end
