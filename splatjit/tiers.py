"""Which x86-64 compiler makes a module's code: the tier switch.

- "optimizing": `emit_x64/lower.py` (webs, folding, ranges, register allocation): fast code,
  ~10k bytecode ops/s of compile time.
- "baseline": `emit_x64/baseline.py` (one pass, every VM register in its frame slot):
  slower code, compiled several times faster.
- "auto" (the default): baseline code that recompiles the module with the optimizing tier
  once it is hot (runtime/tier_up.py: after ~256 calls or ~16k loop iterations); a call
  already running switches at its next loop header (on-stack replacement, splatjit/osr.py).
- "mixed": per function (`emit_x64/mixed.py`): functions with loops and short ones
  optimizing, longer straight-line ones baseline, the module recompiled by the
  optimizing tier once those are hot.

`JitModule(tier=...)` picks one; None reads the environment variable `SPLATJIT_TIER`, and
without it the default is "auto". AArch64 has only its optimizing compiler: the tier
is ignored there.
"""
from __future__ import annotations

import os

from .errors import UnsupportedError

TIERS = ("optimizing", "baseline", "auto", "mixed")
DEFAULT = "auto"
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
    """`loaded` compiled for x86-64 by `tier`'s compiler: a `CompiledModule` without its
    assembler (recompiled, with each op's code tagged, when a tool asks for the listing
    or tag map)."""
    compiled = _compile_x64(tier, loaded, features, fuel=fuel, imports=imports, pure=pure,
                            tags=False)
    tu = getattr(compiled, "tier_up", None)  # (the same cells: the same code; no cycle)
    compiled.forget_assembler(_Compiles(tier, loaded, features, fuel, imports, pure, tu).again)
    return compiled


def _compile_x64(tier: str, loaded, features, *, fuel: bool, imports, pure, tier_up=None,
                 tags: bool = True):
    from .emit_x64.lower import compile_module as optimizing
    if tier == "optimizing":
        return optimizing(loaded, features, fuel=fuel, imports=imports, pure=pure)
    if tier == "mixed":
        from .emit_x64 import mixed
        baseline = mixed.baseline_functions(loaded)
        if not baseline:  # (every function optimizing: no stubs, no budget)
            return optimizing(loaded, features, fuel=fuel, imports=imports, pure=pure)
        tu = tier_up if tier_up is not None else _tier_up(loaded, features, fuel, imports, pure)
        return mixed.compile_module(loaded, features, fuel=fuel, imports=imports, pure=pure,
                                    tier_up=tu, baseline=baseline)
    from .emit_x64.baseline import compile_module as baseline
    tu = tier_up
    if tier == "auto" and tu is None:
        tu = _tier_up(loaded, features, fuel, imports, pure)
    return baseline(loaded, features, fuel=fuel, imports=imports, tier_up=tu, tags=tags)


def _tier_up(loaded, features, fuel: bool, imports, pure):
    """A TierUp whose hot module is recompiled by the optimizing tier, and whose running
    loops get their OSR variants from it one header at a time (linked imports that have
    tiered up meanwhile are called at their optimizing entries)."""
    from .runtime.tier_up import TierUp
    compiles = _Compiles("optimizing", loaded, features, fuel, imports, pure)
    return TierUp(len(loaded.functions), compiles.recompile, compiles.compile_osr)


class _Compiles:
    """The later compiles of one module (`loaded`, with these options; one object, not a
    closure per compile): `again` its first compile with each op's code tagged (the
    listing's rebuild), `recompile` and `compile_osr` the optimizing ones a TierUp asks
    for."""

    __slots__ = ("tier", "loaded", "features", "fuel", "imports", "pure", "tier_up")

    def __init__(self, tier: str, loaded, features, fuel: bool, imports, pure, tier_up=None):
        self.tier, self.loaded, self.features, self.fuel = tier, loaded, features, fuel
        self.imports, self.pure, self.tier_up = imports, pure, tier_up

    def again(self):
        return _compile_x64(self.tier, self.loaded, self.features, fuel=self.fuel,
                            imports=self.imports, pure=self.pure, tier_up=self.tier_up)

    def _linked(self):
        """The imports, providers that tiered up called at their optimizing entries."""
        from .runtime.tier_up import direct_entry
        return None if self.imports is None else [
            (direct_entry(entry), context) for entry, context in self.imports]

    def recompile(self):
        """(CompiledModule, ExecutableMemory) of the module by the optimizing tier."""
        from .emit_x64.lower import compile_module as optimizing
        from .runtime.memory import ExecutableMemory
        loaded, features, fuel, pure = self.loaded, self.features, self.fuel, self.pure
        linked_imports = self._linked()
        compiled = optimizing(loaded, features, fuel=fuel, imports=linked_imports, pure=pure)
        compiled.forget_assembler(lambda: optimizing(loaded, features, fuel=fuel,
                                                     imports=linked_imports, pure=pure))
        return compiled, ExecutableMemory(compiled.code, lambda: compiled.symbols(loaded, "+opt"))

    def compile_osr(self, site, functions):
        """(CompiledModule, ExecutableMemory) of the OSR variant of `site` (function
        ordinal, header block), calling the functions at `functions` (ordinal -> address
        of its optimizing code)."""
        from .emit_x64.lower import compile_osr_variant
        from .osr import osr_variant
        from .runtime.memory import ExecutableMemory
        loaded, features, fuel, pure = self.loaded, self.features, self.fuel, self.pure
        ordinal, header = site
        n = len(loaded.functions)
        variant, linked_imports = osr_variant(loaded.functions[ordinal], header, n), self._linked()

        def compile_variant():
            return compile_osr_variant(loaded, variant, functions, features, fuel=fuel,
                                       imports=linked_imports, pure=pure)
        compiled = compile_variant()
        compiled.forget_assembler(compile_variant)
        return compiled, ExecutableMemory(
            compiled.code, f"splatjit:{loaded.defn.name}.{variant.name}+osr{header}")
