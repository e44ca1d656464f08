"""Differential tests: every exported function of every corpus `vm` module, run by IREE's
interpreter and by splatjit's x86-64 code on the same edge-value inputs, bit for bit.

Harness rules (each one is a place where IREE's interpreter has undefined behaviour, so the
oracle is not asked): splatjit runs first, with a fuel budget; when it traps for exhausted
fuel, integer division by zero / INT_MIN / -1 (the interpreter dies of SIGFPE), a failed
allocation (the interpreter would try to allocate it), or an out-of-bounds access whose
offset makes IREE's `(offset + n) * size` check wrap (the interpreter reads wild memory),
or a `vm.fail` with status 0 as a function's last op (the interpreter runs off the end of
the bytecode), the input is skipped. Anything else must agree: same values, or a trap on both sides.
"""
from __future__ import annotations


import numpy as np
import pytest

import corpus
from differential import TEST_TIERS, Oracle, edge_inputs, normalise, same, use_tier
from splatjit import TrapError, UnsupportedError, tiers
from splatjit.module import JitModule

FUEL = 200_000
SKIP_TRAPS = ("fuel exhausted", "division", "runtime helper failed", "run off the end")
#: Modules some corpus modules import, by imported module name -> corpus item name.
PROVIDERS = {"native_import_module": "native_import_module"}


def _wraps_in_iree(args) -> bool:
    return any(isinstance(x, int) and (x < 0 or x >= 1 << 61) for x in args)


def _buffer_for(i: int):
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, size=64, dtype=np.uint8)


def _inputs(sig):
    """Edge-value argument tuples; refs get a fresh 64-byte random buffer per case."""
    scalar = [t if t != "ref" else "i32" for t in sig.args]
    for n, combo in enumerate(edge_inputs(scalar, limit=24)):
        yield n, [(_buffer_for(n) if t == "ref" else v) for t, v in zip(sig.args, combo)]


pytestmark = pytest.mark.usefixtures("memory_cap")


def _module_bytes(name: str) -> bytes:
    item = next(i for i in corpus.vm_items() if i.name == name)
    return corpus.compile_item(item)


ITEMS = [i for i in corpus.vm_items() if i.expect == "ok" and "invoke-hangs" not in i.hazards]


#: Modules whose lowering depends on CPU features (lzcnt, SSE4.1 rounding): also run with
#: the baseline instruction set, as on a CPU without them.
BASELINE = [i for i in ITEMS if i.name in ("arith_i32", "arith_i64", "arith_f32", "arith_f64",
                                           "math_f32", "math_f64", "conversions")]


@pytest.mark.parametrize("tier", tiers.TIERS)
@pytest.mark.parametrize("item", BASELINE, ids=[i.id for i in BASELINE])
def test_baseline_sse2_code_matches_interpreter(item, tier, monkeypatch):
    test_module_matches_interpreter(item, tier, monkeypatch, features={"sse2"})


@pytest.mark.parametrize("tier", TEST_TIERS)  # the compiler of the module under test
@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_module_matches_interpreter(item, tier, monkeypatch, features=None):
    tier = use_tier(tier, monkeypatch)
    try:
        data = corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item.id}: {e.reason}")
    from splatjit import load_module
    loaded = load_module(data)
    needed = {imp.name.split(".")[0] for imp in loaded.defn.imports}
    provider_bytes = [_module_bytes(PROVIDERS[n]) for n in sorted(needed) if n in PROVIDERS]
    if len(provider_bytes) != len(needed):
        pytest.skip(f"no provider module for imports of {sorted(needed)}")
    providers = {n: JitModule(b) for n, b in zip(sorted(needed), provider_bytes)}
    jit = JitModule(data, fuel=FUEL, imports=providers, features=features, tier=tier)
    if features is not None:
        assert jit.compiled.features >= frozenset(features) and "lzcnt" not in jit.compiled.features
    oracle = Oracle(provider_bytes + [data])
    compared = unsupported = 0
    for export in loaded.defn.exports:
        if export.name.startswith("__"):
            continue
        sig = loaded.functions[export.ordinal].signature
        for n, args in _inputs(sig):
            jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            try:
                got, got_trap = jit[export.name](*jit_args), None
            except UnsupportedError:
                unsupported += 1
                break
            except TrapError as e:
                got, got_trap = None, e
                if any(s in e.message for s in SKIP_TRAPS):
                    continue
                if "out-of-bounds" in e.message and _wraps_in_iree(args):
                    continue
            ora_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            try:
                want, want_trap = oracle.call(export.name, ora_args, list(sig.args)), None
            except Exception as e:  # noqa: BLE001 - the interpreter reports any failure so
                want, want_trap = None, e
            where = f"{item.id}:{export.name}{tuple(args)}"
            assert (got_trap is None) == (want_trap is None), \
                f"{where}: splatjit {got_trap or got!r}, interpreter {want_trap or want!r}"
            if got_trap is not None:
                continue
            n_results = len(sig.results)
            got_list = [] if n_results == 0 else [got] if n_results == 1 else list(got)
            assert len(got_list) == len(want), where
            for t, g, w in zip(sig.results, got_list, want):
                if t == "ref":
                    continue  # ref results: compared through the buffers below
                assert same(normalise(g, t), normalise(w, t), t), f"{where}: {g!r} != {w!r}"
            for ja, oa in zip(jit_args, ora_args):
                if isinstance(ja, np.ndarray):
                    assert ja.tobytes() == oa.tobytes(), f"{where}: buffer contents differ"
            compared += 1
    assert compared or unsupported, f"{item.id}: nothing compared"
