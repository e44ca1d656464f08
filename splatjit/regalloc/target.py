"""Target descriptions: what the allocator may use, as plain data handed in by a backend.

Register names are the backend's own strings; the allocator never interprets them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetDesc:
    """Allocatable registers per class ("gpr", "fpr") in preference order.

    `callee_saved` registers survive calls (the allocator gives them to values live across a
    call); the others are clobbered by calls. Scratch registers are never allocated: the
    lowering uses them for temporaries and move cycles.
    """
    name: str
    allocatable: dict[str, tuple[str, ...]]
    callee_saved: frozenset[str]
    scratch: dict[str, tuple[str, ...]]

    def registers(self, cls: str, *, across_call: bool) -> tuple[str, ...]:
        """Candidates for a value: callee-saved ones if it lives across a call, else every
        allocatable register, caller-saved first (they cost no save / restore)."""
        key = (cls, across_call)
        out = self._candidates.get(key)
        if out is None:
            regs = self.allocatable.get(cls, ())
            saved = tuple(r for r in regs if r in self.callee_saved)
            out = saved if across_call else tuple(r for r in regs if r not in self.callee_saved) + saved
            self._candidates[key] = out
        return out

    def __post_init__(self):
        object.__setattr__(self, "_candidates", {})  # (cls, across_call) -> registers()
