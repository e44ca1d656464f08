"""The mixed tier for x86-64: each function gets the compiler that pays off for it.

- A function with a loop, or a short one (at most `SHORT_OPS` ops: a leaf a hot caller may
  call millions of times), is compiled by the optimizing tier (`lower.FunctionLowering`).
- A longer straight-line function (no loop: a program's `__init`, its entry points, most
  dispatch set-up) runs each of its ops at most once per call, so the optimizing tier's
  analyses (~100 us per op) cost more than they save: it is compiled by the baseline tier
  (`baseline.BaselineLowering`, ~10 us per op), with a tier-up entry stub.
- When the baseline functions get hot (`runtime/tier_up.py`: their calls spend the module's
  budget), the whole module is recompiled by the optimizing tier and every baseline stub
  switches to it. A call cannot stay long in baseline code: a function without loops runs
  each op once, and everything it calls enters through entry stubs or is optimizing code.

Contract: `compile_module(loaded, features, fuel=..., imports=..., pure=..., tier_up=...)`
returns a `baseline.BaselineModule` with the native ABI of `runtime/abi.py`, as the other
tiers' `compile_module`s; `tier_up` None (no baseline function in the module) gives plain
optimizing code. `baseline_functions(loaded)` says which functions take the baseline tier.
"""
from __future__ import annotations

from ..frontend.loader import LoadedModule
from ..lowering import loop_headers, module_fields
from .assembler import Assembler
from .baseline import BaselineLowering, BaselineModule
from .lower import FunctionLowering
from .operands import Label
from .ops import HANDLERS, clobbers_caller_saved

#: functions of at most this many ops are always optimized (cheap to, and the likely hot
#: leaves: a native import's callee, an accessor)
SHORT_OPS = 8


def takes_baseline(fn) -> bool:
    """Whether the mixed tier compiles `fn` with the baseline tier: no loop and more than
    SHORT_OPS ops."""
    return fn.op_count > SHORT_OPS and not loop_headers(fn)


def baseline_functions(loaded: LoadedModule) -> set[int]:
    """Ordinals of the functions of `loaded` the mixed tier compiles with the baseline tier."""
    return {fn.ordinal for fn in loaded.functions if takes_baseline(fn)}


def compile_module(loaded: LoadedModule, features=None, fuel: bool = False, imports=None,
                   pure=None, tier_up=None, baseline: set[int] | None = None) -> BaselineModule:
    """Every function of `loaded` in one code blob, those in `baseline` (default:
    `baseline_functions(loaded)`) by the baseline tier with `tier_up`'s entry stubs and
    budget (`tier_up` None: no function takes the baseline tier), the others by the
    optimizing tier (`fuel`, `imports`, `pure` as in `lower.compile_module`)."""
    if baseline is None:
        baseline = baseline_functions(loaded)
    if tier_up is None:
        baseline = set()
    a = Assembler(features)

    def lower(fn, entries):
        if fn.ordinal in baseline:
            return BaselineLowering(a, loaded, fn, entries, HANDLERS, fuel, imports,
                                    tier_up).lower()
        return FunctionLowering(a, loaded, fn, entries, HANDLERS, clobbers_caller_saved, fuel,
                                imports, pure).lower()
    return BaselineModule(**module_fields(a, loaded, Label, lower), tier_up=tier_up)
