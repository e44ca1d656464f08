"""The AArch64 backend (emit_a64 lowering + runtime/a64_backend under Unicorn), differentially:
every exported function of every corpus `vm` module, on edge-value inputs, against the
x86-64 JitModule (always) and IREE's interpreter (under the harness rules below).

Harness rules (as tests/test_x64_differential.py): splatjit runs first, with a fuel budget;
when it traps for exhausted fuel, integer division by zero / INT_MIN / -1, a failed
allocation, an out-of-bounds access with an offset argument that is negative or >= 2**61,
or a `vm.fail` with status 0 as a function's last op, the interpreter is not asked (it has
undefined behaviour there). The two ISAs must agree on everything: values bit for bit (NaNs
equal to NaNs), buffer contents, and traps (message and bytecode offset).
"""
from __future__ import annotations

import math
import struct

import numpy as np
import pytest

import corpus
from differential import (WORKGROUPS, Oracle, dispatch_kernels, edge_inputs, normalise,
                          random_bindings, same)
from splatjit import TrapError, UnsupportedError, load_module
from splatjit.module import JitModule
from splatjit.runtime.a64_backend import A64Module, code_sizes, profile_ops

FUEL = 200_000
SKIP_TRAPS = ("fuel exhausted", "division", "runtime helper failed", "run off the end")
LIMIT = 12  # edge_inputs sample size per export: Unicorn is slow
COMPILE_TIMEOUT_S = 60

pytestmark = pytest.mark.usefixtures("memory_cap")


def _compile(item) -> bytes:
    """corpus.compile_item with a 60 s limit (recursive modules can hang the compiler)."""
    saved, corpus.COMPILE_TIMEOUT_S = corpus.COMPILE_TIMEOUT_S, COMPILE_TIMEOUT_S
    try:
        return corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item.id}: {e.reason}")
    finally:
        corpus.COMPILE_TIMEOUT_S = saved


def _wraps_in_iree(args) -> bool:
    return any(isinstance(x, int) and (x < 0 or x >= 1 << 61) for x in args)


def _buffer_for(i: int):
    return np.random.default_rng(i).integers(0, 256, size=64, dtype=np.uint8)


def _inputs(sig):
    """Distinct edge-value argument tuples; refs get a fresh 64-byte random buffer each."""
    scalar = [t if t != "ref" else "i32" for t in sig.args]
    seen = set()
    for n, combo in enumerate(edge_inputs(scalar, limit=LIMIT)):
        key = tuple(struct.pack("<d", v) if isinstance(v, float) else v for v in combo)
        if key in seen:
            continue
        seen.add(key)
        yield [(_buffer_for(n) if t == "ref" else v) for t, v in zip(sig.args, combo)]


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _as_list(value, n: int) -> list:
    return [] if n == 0 else [value] if n == 1 else list(value)


def _ref_bytes(v):
    if isinstance(v, np.ndarray):
        return v.tobytes()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return v  # None, or a list


def _run(fn, args):
    try:
        return fn(*args), None
    except TrapError as e:
        return None, e


def _modules(item, fuel=FUEL):
    """(a64 module, x86 module, module bytes chain) with providers for `item`'s needs."""
    chain = [(_compile(corpus.find_item(f"vm/{n}")), n) for n in item.needs] + [(_compile(item), None)]
    a_prov = {n: A64Module(b) for b, n in chain[:-1]}
    x_prov = {n: JitModule(b) for b, n in chain[:-1]}
    data = chain[-1][0]
    return A64Module(data, fuel=fuel, imports=a_prov), JitModule(data, fuel=fuel, imports=x_prov), \
        [b for b, _ in chain]


ITEMS = [i for i in corpus.vm_items() if i.expect == "ok" and "invoke-hangs" not in i.hazards]


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_module_matches_x86_and_interpreter(item):
    a64, x86, chain = _modules(item)
    oracle = Oracle(chain)
    loaded = a64.loaded
    compared = unsupported = 0
    for export in loaded.defn.exports:
        if export.name.startswith("__"):
            continue
        sig = loaded.defn.signatures[export.ordinal]
        for args in _inputs(sig):
            a_args, x_args = _copy(args), _copy(args)
            try:
                got, got_trap = _run(a64[export.name], a_args)
            except UnsupportedError:
                with pytest.raises(UnsupportedError):
                    x86[export.name](*x_args)
                unsupported += 1
                break
            want, want_trap = _run(x86[export.name], x_args)
            where = f"{item.id}:{export.name}{tuple(args)}"
            assert (got_trap is None) == (want_trap is None), \
                f"{where}: a64 {got_trap or got!r}, x86 {want_trap or want!r}"
            if got_trap is not None:
                assert (got_trap.message, got_trap.offset) == (want_trap.message, want_trap.offset), where
            else:
                for t, g, w in zip(sig.results, _as_list(got, len(sig.results)),
                                   _as_list(want, len(sig.results))):
                    if t == "ref":
                        assert repr(_ref_bytes(g)) == repr(_ref_bytes(w)), f"{where}: {g!r} != {w!r}"
                    else:
                        assert same(normalise(g, t), normalise(w, t), t), f"{where}: {g!r} != {w!r}"
            for ga, wa in zip(a_args, x_args):
                if isinstance(ga, np.ndarray):
                    assert ga.tobytes() == wa.tobytes(), f"{where}: buffer contents differ from x86"
            compared += 1
            # The interpreter, where its behaviour is defined.
            if got_trap is not None and (any(s in got_trap.message for s in SKIP_TRAPS) or
                                         ("out-of-bounds" in got_trap.message and _wraps_in_iree(args))):
                continue
            o_args = _copy(args)
            try:
                ref, ref_trap = oracle.call(export.name, o_args, list(sig.args)), None
            except Exception as e:  # noqa: BLE001 - the interpreter reports any failure so
                ref, ref_trap = None, e
            assert (got_trap is None) == (ref_trap is None), \
                f"{where}: a64 {got_trap or got!r}, interpreter {ref_trap or ref!r}"
            if got_trap is None:
                for t, g, w in zip(sig.results, _as_list(got, len(sig.results)), ref):
                    if t != "ref":
                        assert same(normalise(g, t), normalise(w, t), t), f"{where}: {g!r} != {w!r}"
                for ga, oa in zip(a_args, o_args):
                    if isinstance(ga, np.ndarray):
                        assert ga.tobytes() == oa.tobytes(), f"{where}: buffer contents differ"
    assert compared or unsupported, f"{item.id}: nothing compared"


# ---------------------------------------------------------------- targeted behaviour
EXAMPLE = corpus.REPO_ROOT / "examples" / "loop_sum.vmfb"


@pytest.mark.parametrize("n, want", [(100, 4950), (0, 0), (-5, 0), (1, 0), (65536, 2147450880)])
def test_loop_sum_runs_under_unicorn(n, want):
    assert A64Module(EXAMPLE.read_bytes())["loop_sum"](n) == want


def test_loop_sum_costs_four_instructions_per_iteration():
    """The loop body (two adds, the fused compare + branch) is one instruction per op."""
    m = A64Module(EXAMPLE.read_bytes())
    ordinal = m._exports["loop_sum"]
    sig = m.loaded.defn.signatures[ordinal]
    per_op, total, status = profile_ops(m.backend, ordinal, [1000], sig)
    assert status == 0
    loop = {k: v for k, v in per_op.items() if v >= 1000}
    assert sorted(k[2] for k in loop) == ["vm.add.i32", "vm.add.i32", "vm.cmp.lt.i32.s", "vm.cond_br"]
    assert all(v == 1000 for v in loop.values())
    assert total - 4000 < 40  # prologue, constants, return, epilogue
    assert code_sizes(m.compiled)["loop_sum"] <= 256


def _conversion_module():
    item = corpus.find_item("vm/conversions")
    data = _compile(item)
    return A64Module(data), JitModule(data)


def _random_floats(t: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    if t == "f32":
        bits = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
        scaled = rng.uniform(-3e9, 3e9, size=n).astype(np.float32)
        halves = (rng.integers(-2**24, 2**24, size=n) + 0.5).astype(np.float32)
        out = np.concatenate([bits.view(np.float32), scaled, halves]).astype(np.float64)
    else:
        bits = rng.integers(0, 2**64, size=n, dtype=np.uint64)
        scaled = rng.uniform(-3e19, 3e19, size=n)
        halves = rng.integers(-2**52, 2**52, size=n) + 0.5
        out = np.concatenate([bits.view(np.float64), scaled, halves])
    specials = [0.0, -0.0, 0.5, -0.5, 1.5, -2.5, math.inf, -math.inf, math.nan, 2.0**31, -2.0**31,
                2.0**32, 2.0**63, -2.0**63, 2.0**64, 1e30, -1e30, 2.0**31 - 0.5, 4294967295.5]
    return [float(v) for v in out] + specials


@pytest.mark.parametrize("t", ["f32", "f64"])
def test_float_to_int_casts_match_x86_libm(t):
    """FCVTAS / FRINTA + the x86 'integer indefinite' fixup == glibc lround*/roundf on x86."""
    a64, x86 = _conversion_module()
    exports = [e for e in a64.loaded.defn.exports
               if list(a64.loaded.defn.signatures[e.ordinal].args) == [t]
               and list(a64.loaded.defn.signatures[e.ordinal].results) in (["i32"], ["i64"])]
    assert exports
    values = _random_floats(t, 150, seed=len(exports))
    for e in exports:
        rt = a64.loaded.defn.signatures[e.ordinal].results[0]
        for v in values:
            got, want = a64[e.name](v), x86[e.name](v)
            assert normalise(got, rt) == normalise(want, rt), f"{e.name}({v!r}): {got} != {want}"


@pytest.mark.parametrize("name", ["math_f32", "math_f64"])
def test_libm_host_calls_are_bit_identical(name):
    data = _compile(corpus.find_item(f"vm/{name}"))
    a64, x86 = A64Module(data), JitModule(data)
    for e in a64.loaded.defn.exports:
        sig = a64.loaded.defn.signatures[e.ordinal]
        if e.name.startswith("__") or not all(t in ("f32", "f64") for t in sig.args):
            continue
        rng = np.random.default_rng(7)
        for _ in range(15):
            args = [float(rng.choice([rng.uniform(-4, 4), rng.uniform(-100, 100), rng.normal() * 1e3]))
                    for _ in sig.args]
            got, want = a64[e.name](*args), x86[e.name](*args)
            for t, g, w in zip(sig.results, _as_list(got, len(sig.results)), _as_list(want, len(sig.results))):
                assert same(normalise(g, t), normalise(w, t), t), f"{e.name}{tuple(args)}"


def test_large_fill_doubles_with_memmove():
    """buffer_reduce(n) fills n i32s: past FILL_LOOP_BYTES the fill runs as log2(n) memmoves."""
    data = _compile(corpus.find_item("vm/buffer_reduce"))
    a64, x86 = A64Module(data, fuel=FUEL), JitModule(data, fuel=FUEL)
    for n in (255, 256, 257, 1000, 4097, 150_000):
        assert a64["buffer_reduce"](n) == x86["buffer_reduce"](n) == n
    assert a64.backend.host_calls < 200


def test_buffer_results_are_the_callers_objects_or_new_arrays():
    data = _compile(corpus.find_item("vm/calls"))
    m = A64Module(data)
    a, b = np.arange(8, dtype=np.uint8), np.arange(16, dtype=np.uint8)
    assert m["longer_of"](a, b) is b
    assert m["longer_of"](b, a) is b
    assert m["longer_length"](5, 9) == 9


def test_traps_name_function_and_offset_like_x86():
    data = _compile(corpus.find_item("vm/calls"))
    a64, x86 = A64Module(data), JitModule(data)
    with pytest.raises(TrapError) as got:
        a64["divmod2"](1, 0)
    with pytest.raises(TrapError) as want:
        x86["divmod2"](1, 0)
    assert (got.value.function, got.value.offset, got.value.message) == \
        (want.value.function, want.value.offset, want.value.message)
    assert "division by zero" in got.value.message


def test_every_x86_lowering_has_an_a64_twin():
    from splatjit.emit_a64.ops import HANDLERS as A64
    from splatjit.emit_x64.ops import HANDLERS as X64
    assert set(A64) == set(X64)


def test_heap_is_released_between_calls():
    data = _compile(corpus.find_item("vm/refs"))
    m = A64Module(data)
    m["churn"](50, 1000)
    top = m.backend._heap_top
    for _ in range(3):
        m["churn"](50, 1000)
    assert m.backend._heap_top == top


# ---------------------------------------------------------------- VMVX dispatch kernels
def _same_but_default_nan(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bytes, except 32-bit words that are NaN on both sides: the two ISAs' default
    NaNs differ in sign (x86 0xFFC00000, AArch64 0x7FC00000; f64 likewise in the high word)."""
    wa, wb = a.view(np.uint32), b.view(np.uint32)
    diff = wa != wb
    return bool(np.all(np.isnan(wa[diff].view(np.float32)) & np.isnan(wb[diff].view(np.float32))))


@pytest.mark.parametrize("item, ordinal", dispatch_kernels())
def test_dispatch_kernels_match_x86(item, ordinal):
    """Every corpus program's VMVX dispatch functions on random bindings, as
    tests/test_x64_dispatch.py runs them against the interpreter."""
    from splatjit import LinkError
    kernel = load_module(corpus.compile_item(item)).defn.rodata[ordinal].data
    try:
        x86 = JitModule(kernel, fuel=5_000_000)
    except LinkError as e:
        pytest.skip(f"kernel imports microkernels: {e.message[:80]}")
    a64 = A64Module(kernel, fuel=5_000_000)
    for e in a64.loaded.defn.exports:
        for n, (wid, count) in enumerate(WORKGROUPS):
            runs = []
            for m in (a64, x86):
                local = np.zeros(1 << 12, np.uint8)
                constants = np.full(64, 4, np.int32).view(np.uint8)
                bindings = random_bindings(n)
                result, trap = _run(m[e.name], [local, constants, bindings, *wid, 1, 1, 1, *count])
                runs.append((result, (trap.message, trap.offset) if trap else None, [local, *bindings]))
            (got, got_trap, got_mem), (want, want_trap, want_mem) = runs
            assert (got, got_trap) == (want, want_trap), f"{e.name} {wid}"
            for g, w in zip(got_mem, want_mem):
                assert _same_but_default_nan(g, w), f"{e.name} {wid}: memory differs"


# ---------------------------------------------------------------- frame and allocator stress
STRESS_MODULES = ["arith_i64", "arith_f64", "control_flow", "calls", "compare_select", "buffers",
                  "conversions"]


def _compare_with_x86(name: str, limit: int = 6) -> int:
    data = _compile(corpus.find_item(f"vm/{name}"))
    a64, x86 = A64Module(data, fuel=FUEL), JitModule(data, fuel=FUEL)
    compared = 0
    for export in a64.loaded.defn.exports:
        if export.name.startswith("__"):
            continue
        sig = a64.loaded.defn.signatures[export.ordinal]
        scalar = [t if t != "ref" else "i32" for t in sig.args]
        for n, combo in enumerate(edge_inputs(scalar, limit=limit)):
            args = [(_buffer_for(n) if t == "ref" else v) for t, v in zip(sig.args, combo)]
            a_args, x_args = _copy(args), _copy(args)
            try:
                got, got_trap = _run(a64[export.name], a_args)
            except UnsupportedError:
                with pytest.raises(UnsupportedError):
                    x86[export.name](*x_args)
                break
            want, want_trap = _run(x86[export.name], x_args)
            where = f"{name}.{export.name}{tuple(args)}"
            assert (got_trap and (got_trap.message, got_trap.offset)) == \
                (want_trap and (want_trap.message, want_trap.offset)), where
            if got_trap is None:
                for t, g, w in zip(sig.results, _as_list(got, len(sig.results)),
                                   _as_list(want, len(sig.results))):
                    if t != "ref":
                        assert same(normalise(g, t), normalise(w, t), t), where
            assert all(g.tobytes() == w.tobytes() for g, w in zip(a_args, x_args)
                       if isinstance(g, np.ndarray)), where
            compared += 1
    return compared


def _starve(monkeypatch):
    from splatjit.emit_a64 import lower
    from splatjit.regalloc.target import TargetDesc
    starved = TargetDesc("aarch64-starved", {"gpr": ("x19",), "fpr": ("d8",)},
                         frozenset({"x19", "d8"}), lower.A64_TARGET.scratch)
    monkeypatch.setattr(lower, "A64_TARGET", starved)


@pytest.mark.parametrize("name", STRESS_MODULES)
def test_frames_beyond_scaled_offsets_match_x86(name, monkeypatch):
    """Register banks 40 KB above sp, and one allocatable register per class: slot accesses
    go through x17 (sp_mem's fallback), the frame allocation through x16."""
    from splatjit.emit_a64 import frame as a64_frame
    _starve(monkeypatch)
    layout = a64_frame.Frame.layout.__func__

    def padded(cls, saved, i32_count, ref_count, out_size):
        f = layout(cls, saved, i32_count, ref_count, out_size + 40_000)
        f.out_size = out_size
        return f
    monkeypatch.setattr(a64_frame.Frame, "layout", classmethod(padded))
    assert _compare_with_x86(name)


@pytest.mark.parametrize("name", STRESS_MODULES)
def test_register_starved_allocation_matches_x86(name, monkeypatch):
    """One GPR and one FPR (callee-saved): nearly every value lives in its frame slot, and
    remaps mix registers and memory."""
    _starve(monkeypatch)
    assert _compare_with_x86(name)


@pytest.mark.parametrize("args, message", [
    ((), "takes 1 arguments, got 0"), (("1",), "expected an int for i32"),
    ((2**32,), "does not fit i32"),
])
def test_bad_arguments_raise_type_error_naming_the_signature(args, message):
    m = A64Module(EXAMPLE.read_bytes())
    with pytest.raises(TypeError, match=message):
        m["loop_sum"](*args)
    assert m["loop_sum"](10) == 45  # nothing leaked from the failed call
