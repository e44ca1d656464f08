"""Constant folding (splatjit/constant_folding.py) and division by constants.

tests/sources/pure_import_divisors.mlir divides by the results of imports called with
constant operands. The imports are Python callables; marked `pure`, the compiler calls them
once and folds their results (and products of them) into the divisions, which emit_x64 then
strength-reduces. Each case compares the folded module with the same module whose imports
are not marked pure (the unfolded code that the differential corpus tests already check
against IREE), over edge inputs: the same results, or the same trap at the same offset.
"""
from __future__ import annotations

import platform
from pathlib import Path

import pytest

import corpus
from splatjit import TrapError
from splatjit.constant_folding import fold_constants
from splatjit.frontend.loader import load_module
from splatjit.module import JitModule
from splatjit.regalloc.webs import rename_webs

#: these tests look at what the optimizing tier's transforms make
pytestmark = pytest.mark.usefixtures("optimizing_tier")

SOURCE = Path(__file__).resolve().parent / "sources" / "pure_import_divisors.mlir"
ITEM = corpus.CorpusItem(SOURCE.stem, SOURCE, "vm", "vm", corpus.VM_FLAGS)
I64 = [0, 1, -1, 7, -7, 8, -8, 9, 63, -63, 64, -65, 1000, -1000, 2**31 - 1, -2**31, 2**62,
       2**63 - 1, -2**63, 12345678901, -12345678901]
I32 = [0, 1, -1, 7, -7, 8, -8, 9, 63, -65, 1000, -1000, 2**31 - 1, -2**31, 123456789]
#: (tiles results, tiles32 results): powers of two, other constants, 1, -1, 0 (traps),
#: negative and large divisors
DIVISORS = [((8, 8), (8, 4)), ((1, 1), (1, 1)), ((3, 5), (3, 7)), ((-4, 2), (-8, 16)),
            ((2**30, 2), (2**30, 2**30)), ((2**31, 2), (-2**31, 5)), ((-1, 1), (-1, -1)),
            ((0, 4), (4, 0)), ((16, 0), (0, 16)), ((-2**63, 1), (64, 2**30 + 1))]
TARGETS = ["x86_64", "aarch64"] if platform.machine() in ("x86_64", "AMD64") else ["aarch64"]


def _provider(values, pure: bool, calls: list):
    tiles, tiles32 = values

    def tiles_fn(size, flags):
        calls.append("tiles")
        assert (size, flags) == (8, 3)
        return tiles

    def tiles32_fn(flags):
        calls.append("tiles32")
        return tiles32

    if pure:
        tiles_fn.pure = tiles32_fn.pure = True
    return {"m": {"tiles": tiles_fn, "tiles32": tiles32_fn}}


def _outcome(fn, x):
    try:
        return fn(x)
    except TrapError as e:
        return ("trap", str(e), e.offset)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("values", DIVISORS, ids=str)
def test_folded_divisions_match_the_unfolded_code(values, target):
    data = corpus.compile_item(ITEM)
    folded_calls, plain_calls = [], []
    folded = JitModule(data, target=target, imports=_provider(values, True, folded_calls))
    plain = JitModule(data, target=target, imports=_provider(values, False, plain_calls))
    assert sorted(folded_calls) == ["tiles", "tiles32"]  # at compile time, once per call site
    del folded_calls[:]
    for x in I64:
        assert _outcome(folded.split, x) == _outcome(plain.split, x), x
    for x in I32:
        assert _outcome(folded.split32, x) == _outcome(plain.split32, x), x
    assert not folded_calls and plain_calls  # folded: the imports never run


def test_folded_power_of_two_divisions_are_shifts():
    """x86-64: dividing by folded powers of two emits no div / idiv at all."""
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 code")
    from splatjit import disasm
    m = JitModule(corpus.compile_item(ITEM), imports=_provider(((8, 8), (8, 4)), True, []))
    for name in ("split", "split32"):
        texts = [c["text"] for r in disasm.function_records(m, function=name)
                 for op in r["ops"] for c in op["code"]]
        assert not any(t.startswith(("div", "idiv", "call")) for t in texts), name


def test_an_import_that_raises_at_compile_time_stays_a_call():
    """A pure import raising for its constant operands is not folded: the call runs (and
    fails) at run time, as without folding."""
    calls = []

    def tiles(size, flags):
        calls.append(1)
        raise ValueError("no tiles for these flags")
    tiles.pure = True

    def tiles32(flags):
        return (8, 4)
    tiles32.pure = True
    m = JitModule(corpus.compile_item(ITEM), imports={"m": {"tiles": tiles, "tiles32": tiles32}})
    compile_time = len(calls)
    with pytest.raises(TrapError, match="no tiles"):
        m.split(5)
    assert len(calls) == compile_time + 1
    assert m.split32(-9) == (-1, -1, 2**30 - 3, 3)


def test_nothing_folds_without_pure_imports():
    loaded = load_module(corpus.compile_item(ITEM))
    for fn in loaded.functions:
        renamed = rename_webs(fn)
        assert fold_constants(renamed, fn.i32_count, {}) is renamed
        both = {0: lambda *a: (1, 1), 1: lambda *a: (1, 1)}
        assert fold_constants(renamed, fn.i32_count, both) is not renamed


def test_the_import_table_finds_the_pure_imports_pure_imports_does():
    """A native module's import table notes its pure imports while linking them
    (`ImportTable.pure`); the emulated AArch64 path asks `pure_imports`: the same answer,
    for a plain function, a bound method and an unmarked callable."""
    from splatjit.runtime.imports import pure_imports

    class Tiles:
        def tiles(self, size, flags):
            return (8, 8)
        tiles.pure = True

    def tiles32(flags):
        return (8, 4)
    tiles32.pure = True
    loaded = load_module(corpus.compile_item(ITEM))
    for provider, want in (({"tiles": Tiles().tiles, "tiles32": tiles32}, 2),
                           ({"tiles": lambda size, flags: (8, 8), "tiles32": tiles32}, 1)):
        m = JitModule(loaded, imports={"m": provider})
        assert m._imports.pure == pure_imports(loaded.defn, {"m": provider})
        assert len(m._imports.pure) == want
