"""Which x86-64 compiler makes a module's code: the tier switch.

- "optimizing": `emit_x64/lower.py` (webs, folding, ranges, register allocation): fast code,
  ~10k bytecode ops/s of compile time.
- "baseline": `emit_x64/baseline.py` (one pass, every VM register in its frame slot):
  slower code, compiled several times faster.

`JitModule(tier=...)` picks one; None reads the environment variable `SPLATJIT_TIER`, and
without it the default is "optimizing". AArch64 has only its optimizing compiler: the tier
is ignored there.
"""
from __future__ import annotations

import os

from .errors import UnsupportedError

TIERS = ("optimizing", "baseline")
DEFAULT = "optimizing"
ENV = "SPLATJIT_TIER"


def resolve(tier: str | None) -> str:
    """The tier to use: `tier`, else `$SPLATJIT_TIER`, else DEFAULT (UnsupportedError for
    an unknown name)."""
    if tier is None:
        tier = os.environ.get(ENV) or DEFAULT
    if tier not in TIERS:
        raise UnsupportedError(f"tier {tier!r}: choose one of {', '.join(TIERS)}")
    return tier


def compile_x64(tier: str, loaded, features, *, fuel: bool, imports, pure):
    """`loaded` compiled for x86-64 by `tier`'s compiler: a `CompiledModule`."""
    if tier == "baseline":
        from .emit_x64.baseline import compile_module
        return compile_module(loaded, features, fuel=fuel, imports=imports)
    from .emit_x64.lower import compile_module
    return compile_module(loaded, features, fuel=fuel, imports=imports, pure=pure)
