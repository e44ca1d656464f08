"""`!vm.list` on the AArch64 backend (Unicorn) against the x86-64 JitModule, bit for bit.

The x86 side is held to IREE's interpreter by tests/test_x64_lists.py; here both ISAs run the
corpus `lists` module and that file's generated `list_quirks` module on the same inputs:
edge-value scalars and buffers, Python variant lists and VM-made typed lists (contents
compared after `set`), and a list kept in a ref global across calls. Traps must match
(message and bytecode offset); inputs where x86 runs out of fuel are compared too (the fuel
budget is the same on both sides).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import corpus
from differential import EDGE, edge_inputs, normalise, same
from splatjit import TrapError
from splatjit.module import JitModule
from splatjit.runtime.a64_backend import A64Module
from splatjit.runtime.lists import MAX_LIST_CAPACITY, TypedList
from test_x64_lists import (GLOBAL_LIST, INDICES, LIST_ARGS, TYPED, _fresh, _variant_lists, norm,
                            quirks_source)

FUEL = 200_000
LIMIT = 12

pytestmark = pytest.mark.usefixtures("memory_cap")


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """{name: (a64 module, x86 module)} for `lists` and `list_quirks`."""
    source = tmp_path_factory.mktemp("quirks") / "list_quirks.mlir"
    source.write_text(quirks_source())
    quirks = corpus.CorpusItem("list_quirks", source, "vm", "vm", ("--compile-mode=vm",))
    saved, corpus.COMPILE_TIMEOUT_S = corpus.COMPILE_TIMEOUT_S, 60
    try:
        data = {"lists": corpus.compile_item(corpus.find_item("vm/lists")),
                "list_quirks": corpus.compile_item(quirks)}
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile: {e.reason}")
    finally:
        corpus.COMPILE_TIMEOUT_S = saved
    return {n: (A64Module(b, fuel=FUEL), JitModule(b, fuel=FUEL)) for n, b in data.items()}


def _run(fn, args):
    try:
        return fn(*args), None
    except TrapError as e:
        return None, e


def compare(pair, name, args, *, lists_after=()) -> None:
    """Runs export `name` on both ISAs with private copies of `args`; results, traps and the
    list arguments at `lists_after` must agree."""
    a64, x86 = pair
    a_args, x_args = [_fresh(v) for v in args], [_fresh(v) for v in args]
    got, got_trap = _run(a64[name], a_args)
    want, want_trap = _run(x86[name], x_args)
    where = f"{name}{tuple(args)!r}"[:300]
    assert (got_trap is None) == (want_trap is None), \
        f"{where}: a64 {got_trap or got!r}, x86 {want_trap or want!r}"
    if got_trap is not None:
        assert (got_trap.message, got_trap.offset) == (want_trap.message, want_trap.offset), where
    else:
        types = a64.loaded.defn.signatures[a64._exports[name]].results
        g_list = [got] if len(types) == 1 else list(got or ())
        w_list = [want] if len(types) == 1 else list(want or ())
        for t, g, w in zip(types, g_list, w_list):
            if t == "ref":
                assert norm(g) == norm(w), f"{where}: {g!r} != {w!r}"
                if isinstance(w, TypedList):
                    assert isinstance(g, TypedList) and g.element_type == w.element_type, where
            else:
                assert same(normalise(g, t), normalise(w, t), t), f"{where}: {g!r} != {w!r}"
    for i in lists_after:
        assert norm(a_args[i]) == norm(x_args[i]), f"{where}: list argument {i} differs"


def _buffer(n: int):
    return np.random.default_rng(n).integers(0, 256, size=16, dtype=np.uint8)


@pytest.mark.parametrize("name", ["lists", "list_quirks"])
def test_exports_with_scalar_and_buffer_arguments_match_x86(modules, name):
    a64, _ = pair = modules[name]
    compared = 0
    for export in a64.loaded.defn.exports:
        if export.name in LIST_ARGS or export.name in GLOBAL_LIST or export.name.startswith("__"):
            continue
        sig = a64.loaded.defn.signatures[export.ordinal]
        scalar = [t if t != "ref" else "i32" for t in sig.args]
        for n, combo in enumerate(edge_inputs(scalar, limit=LIMIT)):
            compare(pair, export.name, [(_buffer(n) if t == "ref" else v) for t, v in zip(sig.args, combo)])
            compared += 1
    assert compared > 100


def _typed(modules, spec):
    module, maker, v = spec
    a64, x86 = modules[module]
    got, want = a64[maker](3, v), x86[maker](3, v)
    assert isinstance(got, TypedList) and norm(got) == norm(want)
    return got


def test_list_arguments_get_size_and_set_match_x86(modules):
    pair = modules["lists"]
    inputs = _variant_lists() + [_typed(modules, spec) for spec in TYPED]
    for lst in inputs:
        compare(pair, "size", [lst])
        for name in sorted(n for n in LIST_ARGS if n.startswith("get")):
            for i in INDICES[::2]:
                compare(pair, name, [lst, i])
    for name in sorted(n for n in LIST_ARGS if n.startswith("set")):
        t = {"i8": "i32", "i16": "i32"}.get(name[4:], name[4:])
        for k, v in enumerate(EDGE[t][::4]):
            for i in (0, -1, 3):
                for lst in _variant_lists()[:3] + [_typed(modules, TYPED[k % len(TYPED)])]:
                    compare(pair, name, [lst, i, v], lists_after=[0])


def test_list_kept_in_a_ref_global_across_calls_matches_x86(modules):
    buf = np.arange(16, dtype=np.uint8)
    steps = [("gpush", [5]), ("gpush_buf", [buf]), ("gpush", [-3]), ("gget", [0]),
             ("gbuf_sum", [1]), ("gget", [2]), ("gget", [1]), ("gbuf_sum", [0]), ("gget", [3]),
             ("gbuf_sum", [-1]), ("glist", [])]
    for name, args in steps:
        compare(modules["list_quirks"], name, args)


def test_python_list_round_trip_semantics(modules):
    """The same observable behaviour as tests/test_x64_lists.py's round-trip test."""
    m = modules["lists"][0]
    values = [1, 2**40, 3.5, np.int8(-1), np.float32(0.1), None]
    assert m["get_i32"](values, 1) == 0
    assert m["get_i8"](values, 3) == -1
    assert m["get_f64"](values, 4) == float(np.float32(0.1))
    assert m["get_f32"](values, 0) == 0.0
    with pytest.raises(TrapError, match="ref type mismatch"):
        m["get_i32"](values, 5)
    with pytest.raises(TrapError, match="out-of-bounds"):
        m["get_i32"](values, 6)
    with pytest.raises(TrapError, match="null reference"):
        m["size"](None)
    m["set_i8"](values, 0, 1000)
    assert values[0] == 1000 and len(values) == 6
    typed = TypedList("i8", [1, 2, 3])
    m["set_i8"](typed, 0, 1000)
    assert typed == [-24, 2, 3] and typed.element_type == "i8"
    made = m["make_list_i32"](2, 9)
    assert made == [9, 9] and made.element_type == "i32"
    m["set_f32"](made, 1, 2.5)
    assert made == [9, 0]
    b = np.zeros(4, np.uint8)
    assert m["get_ref"]([b, [1]], 0) is b and m["get_ref"]([b, [1]], 1) is None
    cyclic = [1]
    cyclic.append(cyclic)
    assert m["size"](cyclic) == 2 and m["get_i64"](cyclic, 0) == 1
    nested = modules["list_quirks"][0]["make_nested"](300, 0.5)
    assert nested == [300, [300, 0.5], None, [44, 44]]
    assert type(nested) is list and nested[3].element_type == "i8"
    assert math.isnan(m["get_f64"]([math.nan], 0))


def test_capacity_cap_traps_instead_of_allocating(modules):
    m = modules["lists"][0]
    with pytest.raises(TrapError, match="runtime helper failed"):
        m["iota_sum_i32"](MAX_LIST_CAPACITY + 1)
    with pytest.raises(TrapError, match="runtime helper failed"):
        m["reserve_resize"](0, -1, 0)
    assert m["reserve_resize"](0, 100, 3) == 3
