"""Element promotion (splatjit/element_promotion.py): which loops it rewrites, and that the
rewritten code computes, writes and traps exactly like the unrewritten code and like IREE's
interpreter, on both targets (AArch64 under Unicorn)."""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from differential import Oracle, run_or_trap
from splatjit import load_module
from splatjit.element_promotion import promote_elements
from splatjit.emit_a64 import lower as a64_lower
from splatjit.emit_x64 import lower as x64_lower
from splatjit.module import JitModule
from splatjit.regalloc.webs import rename_webs


@pytest.fixture(scope="module")
def buffer_loops() -> bytes:
    return corpus.compile_item(corpus.find_item("vm/buffer_loops"))


def _jit_ops(fn) -> list[str]:
    return [ins.op.mnemonic for ins in promote_elements(rename_webs(fn)).instrs()
            if ins.op.mnemonic.startswith("jit.")]


def test_loops_with_one_invariant_stored_element_are_promoted(buffer_loops):
    functions = {fn.name: fn for fn in load_module(buffer_loops).functions}
    for name, t in (("nested", "i32"), ("accumulate_self", "i32"), ("accumulate_f64", "f64"),
                    ("accumulate_rodata", "i32")):
        ops = _jit_ops(functions[name])
        # one peek on the one entering edge, one check + copy per load, one copy per store
        assert sorted(ops) == sorted([f"jit.buffer.peek.{t}", f"jit.buffer.check.{t}",
                                      f"jit.copy.{t}", f"jit.copy.{t}"]), (name, ops)
    # the stored index changes every iteration / no store / the ref changes: untouched
    # two stored elements (the same one when i == j)
    for name in ("scale_prefix", "sum_prefix", "alternate", "scale_rodata", "accumulate_two"):
        assert _jit_ops(functions[name]) == [], name


def test_promoted_slot_is_fresh_and_aligned(buffer_loops):
    fn = next(f for f in load_module(buffer_loops).functions if f.name == "accumulate_f64")
    renamed = rename_webs(fn)
    promoted = promote_elements(renamed)
    peek = next(i for i in promoted.instrs() if i.op.mnemonic == "jit.buffer.peek.f64")
    slot = peek.args["result"].ordinal
    assert slot >= renamed.i32_count and slot % 2 == 0
    assert promoted.i32_count == slot + 2


def _buf(seed: int, dtype=np.int32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == np.float64:
        return rng.uniform(-2.0, 2.0, size=8)
    return rng.integers(-1000, 1000, size=16).astype(dtype)


#: (function, argument factory) cases: in range, aliasing (k == i), zero-trip with an index
#: out of range (no trap), out of range with iterations (trap at the promoted load), the
#: loop's other load running out of range, read-only target.
CASES = [
    ("accumulate_self", lambda: [_buf(1), 16, 3]),
    ("accumulate_self", lambda: [_buf(2), 16, 15]),
    ("accumulate_self", lambda: [_buf(3), 0, 1000]),
    ("accumulate_self", lambda: [_buf(4), 5, 1000]),
    ("accumulate_self", lambda: [_buf(5), 5, -1]),
    ("accumulate_self", lambda: [_buf(6), 20, 3]),
    ("accumulate_f64", lambda: [_buf(7, np.float64), _buf(8, np.float64), 8, 2]),
    ("accumulate_f64", lambda: [_buf(9, np.float64), _buf(10, np.float64), 0, 99]),
    ("accumulate_f64", lambda: [_buf(11, np.float64), _buf(12, np.float64), 3, 8]),
    ("accumulate_f64", lambda: [_buf(13, np.float64), _buf(14, np.float64), 9, 0]),
    ("nested", lambda: [_buf(15), _buf(16), 16, 16]),
    ("nested", lambda: [_buf(17), _buf(18), 17, 3]),
    ("accumulate_two", lambda: [_buf(19), 10, 4, 4]),
    ("accumulate_two", lambda: [_buf(20), 10, 4, 5]),
    ("accumulate_rodata", lambda: [0]),
    ("accumulate_rodata", lambda: [3]),
]


_run = run_or_trap


def _sig(buffer_loops: bytes, name: str) -> list[str]:
    loaded = load_module(buffer_loops)
    fn = next(f for f in loaded.functions if f.name == name)
    return list(fn.signature.args)


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_promoted_code_matches_unpromoted_and_interpreter(buffer_loops, monkeypatch, target, case):
    name, make = CASES[case]
    args = make()
    promoted = _run(JitModule(buffer_loops, target=target), name, args)
    lower = x64_lower if target == "x86_64" else a64_lower
    with monkeypatch.context() as m:
        m.setattr(lower, "promote_elements", lambda fn: fn)
        plain = _run(JitModule(buffer_loops, target=target), name, args)
    (got, trap, got_args), (want, want_trap, want_args) = promoted, plain
    assert (trap is None) == (want_trap is None), (trap, want_trap)
    if trap is not None:  # same trap: reason, function and bytecode offset
        assert (str(trap), trap.offset) == (str(want_trap), want_trap.offset)
    else:
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
    for a, b in zip(got_args, want_args):
        if isinstance(a, np.ndarray):
            assert a.tobytes() == b.tobytes()
    # and IREE's interpreter agrees on trap / no trap, the result and the buffers
    oracle_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        oracle = Oracle([buffer_loops]).call(name, oracle_args, _sig(buffer_loops, name))
        oracle_trap = None
    except Exception as e:  # noqa: BLE001 - the interpreter reports a trap as any error
        oracle, oracle_trap = None, e
    assert (oracle_trap is None) == (trap is None), (oracle_trap, trap)
    if trap is None:
        assert np.asarray(oracle[0]).tobytes() == np.asarray(got).tobytes()
        for a, b in zip(got_args, oracle_args):
            if isinstance(a, np.ndarray):
                assert a.tobytes() == b.tobytes()
