"""Native Python entries (runtime/pyentry.py): scalar exports called as CPython builtins.

Every outcome - result bits, TypeError / OverflowError messages, traps, re-entrant calls
through Python imports - must equal the Python call path's (`ExportedFunction._python_call`,
which the differential tests tie to IREE's interpreter)."""
from __future__ import annotations

import math
import platform
import struct

import pytest

import corpus
from differential import EDGE, edge_inputs
from splatjit import SplatJitError, TrapError
from splatjit.module import ExportedFunction, JitModule
from splatjit.runtime import pyentry

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not pyentry.layout_ok(),
                                reason="native Python entries are x86-64 CPython code")

MODULES = ("vm/arith_i32", "vm/arith_i64", "vm/arith_f32", "vm/arith_f64", "vm/conversions",
           "vm/fail_check", "vm/loop_sum", "vm/compare_select")  # no fuel here: no unbounded recursion
#: Values of every argument type the native entry must hand to Python: bools, wrong
#: kinds, out-of-range ints, unsigned spellings, f32 overflow, NaN / inf.
ODD = [True, False, None, "1", 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -2 ** 31 - 1, 2 ** 63,
       2 ** 64 - 1, 2 ** 64, -2 ** 63 - 1, 7, 1e39, -1e39, 3.4028235e38, 3.4028236e38,
       math.inf, -math.inf, math.nan, -0.0, 1.5, 2.0 ** -149, 2.0 ** -150]


def _module(name: str) -> JitModule:
    return JitModule(corpus.compile_item(corpus.find_item(name)), fuel=None)


def _outcome(call, args):
    try:
        value = call(*args)
    except TrapError as e:
        return ("trap", str(e), e.offset)
    except (TypeError, OverflowError, ValueError) as e:
        return (type(e).__name__, str(e))
    return ("ok", _bits(value))


def _bits(value):
    """Results compared bit for bit (floats by their IEEE bits; NaNs keep their payload)."""
    if isinstance(value, tuple):
        return tuple(_bits(v) for v in value)
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    return value


def _first_call(f) -> None:
    """Calls export `f` once with zeros (what makes its native entry: `_make_entry`)."""
    try:
        f(*[0.0 if t in ("f32", "f64") else 0 for t in f.signature.args])
    except TrapError:
        pass


def _native_exports(m: JitModule):
    """The exports that have a native entry once called."""
    out = []
    for f in (m[e.name] for e in m.loaded.defn.exports if not e.name.startswith("__")):
        if f._entry_due:
            _first_call(f)
        if f._entry is not None:
            out.append(f)
    return out


def test_a_native_entry_is_made_at_the_exports_first_call():
    """Construction makes no native entry; an export's first call (on the Python path)
    makes its entry, which the next calls go to; an export of a closed module makes none."""
    m = _module("vm/arith_i32")
    exports = [m[e.name] for e in m.loaded.defn.exports if not e.name.startswith("__")]
    assert exports and all(f._entry is None and f._entry_due for f in exports)
    first, rest = exports[0], exports[1:]
    _first_call(first)
    assert first._entry is not None and first._call_target is first._entry.function
    assert all(f._entry is None for f in rest)
    m.close()
    with pytest.raises(SplatJitError, match="closed"):
        rest[0](*[0] * len(rest[0].signature.args))
    assert rest[0]._entry is None


@pytest.mark.parametrize("name", MODULES)
def test_native_entry_matches_the_python_path(name):
    m = _module(name)
    exports = _native_exports(m)
    assert exports, f"{name}: no export got a native entry"
    compared = 0
    for f in exports:
        assert f._call_target is f._entry.function
        assert type(f._call_target).__name__ == "builtin_function_or_method"
        types = list(f.signature.args)
        cases = [tuple(c) for c in edge_inputs(types, limit=30)]
        for k in range(len(types)):  # one odd value at a time in each position
            for odd in ODD:
                base = list(cases[0]) if cases else []
                base[k] = odd
                cases.append(tuple(base))
        cases += [tuple(cases[0]) + (1,), ()] if types else [(1,)]  # wrong arity
        for args in cases:
            got = _outcome(f, args)
            want = _outcome(lambda *a: ExportedFunction._python_call(f, *a), args)
            assert got == want, f"{name}.{f.name}{args}: native {got} != python {want}"
            compared += 1
    assert compared > 20


def test_f32_results_keep_every_bit_through_the_native_entry():
    m = _module("vm/arith_f32")
    exports = [f for f in _native_exports(m) if list(f.signature.results) == ["f32"]]
    assert exports
    for f in exports:
        for args in edge_inputs(list(f.signature.args), limit=60):
            got = _outcome(f, args)
            want = _outcome(lambda *a: ExportedFunction._python_call(f, *a), args)
            assert got == want, (f.name, args)


def test_python_import_re_entering_the_module_sees_the_call_depth():
    """A Python import called from native code (GIL released around it, re-taken by the
    callback) re-enters the same module; the outer call counts in `_depth` meanwhile."""
    data = corpus.compile_item(corpus.find_item("vm/call_imported_func"))
    seen = []
    holder = {}

    def add_1(x):
        m = holder["m"]
        seen.append(m._depth)
        return (x + 1) & 0xFFFFFFFF if x + 1 < 2 ** 31 else x + 1 - 2 ** 32

    m = JitModule(data, imports={"native_import_module": {"add_1": add_1}})
    holder["m"] = m
    exports = _native_exports(m)
    assert exports
    for f in exports:
        if len(f.signature.args) == 1:
            want = ExportedFunction._python_call(f, 5)
            seen.clear()
            assert f(5) == want
            assert seen and all(d == 1 for d in seen)
    assert m._depth == 0


def test_edge_value_pools_cover_every_scalar_type():
    assert {"i32", "i64", "f32", "f64"} <= set(EDGE)


def test_exports_of_a_closed_module_raise_instead_of_running():
    m = _module("vm/loop_sum")
    f = m.loop_sum
    f(1)  # (its first call makes the native entry)
    builtin = f._call_target  # held past close(): must not run unmapped code
    assert f._entry is not None and f(10) == ExportedFunction._python_call(f, 10) == builtin(10)
    m.close()
    with pytest.raises(SplatJitError, match="closed"):
        f(10)
    with pytest.raises(SplatJitError, match="closed"):
        builtin(10)
    assert "loop_sum" not in vars(m)
    del m, f
    import gc
    gc.collect()
    with pytest.raises(SplatJitError, match="closed"):
        builtin(10)
