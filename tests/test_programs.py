"""Whole programs end to end: `splatjit run` against `iree-run-module` on the same module
and the same random `.npy` inputs: identical printed output and identical `.npy` bytes."""
from __future__ import annotations

import numpy as np
import pytest

import corpus
from differential import TEST_TIERS, use_tier
from program_runs import (iree_run, iree_run_module_path, module_path, random_inputs,
                          result_count, save_inputs, splatjit_run)
from splatjit import tiers
from splatjit.module import JitModule

pytestmark = pytest.mark.skipif(iree_run_module_path() is None, reason="no iree-run-module")

#: variants whose results must be bit-identical (same accumulation order as the interpreter)
EXACT_VARIANTS = ("inline", "scalar")
ITEMS = [i for i in corpus.program_items() if i.variant in EXACT_VARIANTS]


def _compiled(item):
    try:
        return corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item.id}: {e.reason}")


TARGETS = ["native", "aarch64"]  # aarch64: under Unicorn on x86-64 hosts


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_printed_results_match_iree_run_module(item, target):
    data = _compiled(item)
    flags = [f.split("=", 1)[1] for f in item.inputs]
    want = iree_run(module_path(item), flags)
    assert want.returncode == 0, want.stderr
    code, got, err = splatjit_run(data, flags, target=target)
    assert code == 0, err
    assert got == want.stdout


def _run_both(item, data, inputs, target, tmp_path):
    """Runs iree-run-module (printing, then writing .npy files) and splatjit run (writing
    .npy files) on the same inputs: (printed result, want paths, got paths)."""
    printed = iree_run(module_path(item), inputs)
    assert printed.returncode == 0, printed.stderr
    n = result_count(printed.stdout)
    want = [f"@{tmp_path}/want{i}.npy" for i in range(n)]
    got = [f"@{tmp_path}/got{i}.npy" for i in range(n)]
    assert iree_run(module_path(item), inputs, want).returncode == 0
    code, out, err = splatjit_run(data, inputs, got, target=target)
    assert code == 0, err
    return printed, [w[1:] for w in want], [g[1:] for g in got]


@pytest.mark.parametrize("target, seed", [("native", 1), ("native", 2), ("aarch64", 3)])
@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_npy_outputs_match_on_random_inputs(item, target, seed, tmp_path):
    data = _compiled(item)
    inputs = save_inputs(random_inputs(item, seed), tmp_path)
    printed, want, got = _run_both(item, data, inputs, target, tmp_path)
    for w, g in zip(want, got):
        if target == "native":
            assert open(g, "rb").read() == open(w, "rb").read(), g
        else:  # AArch64 makes positive default NaNs where x86 makes negative ones
            _assert_same_up_to_nan_sign(np.load(g), np.load(w))
    if target == "native":
        code, out, err = splatjit_run(data, inputs, target=target)
        assert out == printed.stdout


def _assert_same_up_to_nan_sign(got: np.ndarray, want: np.ndarray):
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype.kind != "f":
        assert got.tobytes() == want.tobytes()
        return
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert got[~nan].tobytes() == want[~nan].tobytes()


HAL_ITEMS = [i for i in corpus.program_items() if i.variant != "inline"]


@pytest.mark.parametrize("tier", TEST_TIERS)
@pytest.mark.parametrize("item", HAL_ITEMS, ids=[i.id for i in HAL_ITEMS])
def test_main_matches_iree_runtime_local_sync(item, tier, monkeypatch):
    """`JitModule(program).main(*arrays)` == iree.runtime's `load_vm_flatbuffer(...).main`,
    bit for bit, microkernel and data-tiled forms included (splatjit's vmvx intrinsics
    reproduce IREE's C ukernels, fused multiply-adds and denormal flushing included); and
    again on new inputs, as the program replays the command buffers it recorded."""
    import iree.runtime as rt
    data = _compiled(item)
    oracle = rt.load_vm_flatbuffer(data, driver="local-sync").main
    m = JitModule(data, tier=use_tier(tier, monkeypatch))
    for seed in (7, 8, 9):
        inputs = random_inputs(item, seed)
        want = oracle(*[a.copy() for a in inputs])
        want = [np.asarray(w.to_host()) for w in (want if isinstance(want, tuple) else (want,))]
        got = m.main(*inputs)
        got = list(got) if isinstance(got, tuple) else [got]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            assert g.tobytes() == w.tobytes(), seed


def test_jit_module_main_takes_and_returns_numpy_arrays():
    item = corpus.find_item("programs/matmul[inline]")
    m = JitModule(_compiled(item))
    a = np.arange(32, dtype=np.float32).reshape(4, 8)
    b = np.linspace(-1, 1, 32, dtype=np.float32).reshape(8, 4)
    got = m.main(a, b)
    assert isinstance(got, np.ndarray) and got.shape == (4, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)


def test_bad_program_inputs_are_clear_errors():
    item = corpus.find_item("programs/matmul[inline]")
    data = _compiled(item)
    code, out, err = splatjit_run(data, ["4x8xi32=1", "8x4xf32=1"])
    assert code == 1 and "element type mismatch" in err
    code, out, err = splatjit_run(data, ["4x8xf32=1"])
    assert code == 1 and "expects 2 inputs" in err
    code, out, err = splatjit_run(data, ["4x8xf32=1 2", "8x4xf32=1"])
    assert code == 1 and "underflow" in err
    code, out, err = splatjit_run(data, ["@/nonexistent.npy", "8x4xf32=1"])
    assert code == 1 and "cannot read" in err
    code, out, err = splatjit_run(data, ["4294967296x4294967296xf32=1", "8x4xf32=1"])
    assert code == 1 and "bytes is more than" in err  # not wrapped to an empty tensor
    m = JitModule(data)
    with pytest.raises(Exception, match="shape dimension 1 mismatch; expected 8 but have 9"):
        m.main(np.zeros((4, 9), np.float32), np.zeros((8, 4), np.float32))


UKERNEL_ITEMS = [i for i in corpus.program_items() if i.variant in ("ukernel", "datatiled")]


@pytest.mark.parametrize("target, seed", [("native", 4), ("aarch64", 5)])
@pytest.mark.parametrize("item", UKERNEL_ITEMS, ids=[i.id for i in UKERNEL_ITEMS])
def test_microkernel_programs_match_within_float_tolerance(item, target, seed, tmp_path):
    """Microkernel and data-tiled programs: `vmvx.*` calls served by splatjit/intrinsics.
    Integers must match exactly; floats within tolerance (a microkernel may accumulate in
    another order than IREE's C build), and NaNs where IREE has NaNs."""
    data = _compiled(item)
    inputs = save_inputs(random_inputs(item, seed), tmp_path)
    _, want, got = _run_both(item, data, inputs, target, tmp_path)
    for w, g in zip(want, got):
        a, b = np.load(g), np.load(w)
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
        else:
            assert a.tobytes() == b.tobytes()


DENORMAL_ITEMS = [corpus.find_item(f"programs/{n}") for n in
                  ("elementwise_f32[scalar]", "elementwise_f32[inline]", "elementwise_f32[ukernel]",
                   "matmul[scalar]")]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("item", DENORMAL_ITEMS, ids=[i.id for i in DENORMAL_ITEMS])
def test_denormals_flush_inside_hal_dispatches_only(item, target, tmp_path):
    """IREE's local HAL runs dispatches with denormals flushed to zero (MXCSR FTZ|DAZ,
    FPCR.FZ); inline programs call their kernels as plain functions, without. Inputs full
    of denormals show both."""
    from splatjit.hal.text import parse_input
    arrays = []
    for flag in item.inputs:
        t = parse_input(flag.split("=", 1)[1])
        a = np.full(t.shape, 1e-40, t.dtype)
        a.flat[::3] = -3e-39
        a.flat[1::5] = 1.5
        arrays.append(a)
    inputs = save_inputs(arrays, tmp_path)
    n = result_count(iree_run(module_path(item), inputs).stdout)
    want = [f"@{tmp_path}/want{i}.npy" for i in range(n)]
    got = [f"@{tmp_path}/got{i}.npy" for i in range(n)]
    assert iree_run(module_path(item), inputs, want).returncode == 0
    code, out, err = splatjit_run(_compiled(item), inputs, got, target=target)
    assert code == 0, err
    for w, g in zip(want, got):
        _assert_same_up_to_nan_sign(np.load(g[1:]), np.load(w[1:]))
        if target == "native":
            assert open(g[1:], "rb").read() == open(w[1:], "rb").read()


def test_readme_main_command_runs_the_bundled_program(capsys):
    """The README's first command (after `pip install -e .`) prints what iree-run-module
    prints for the bundled example program."""
    import re
    import shlex
    from pathlib import Path

    from splatjit.cli import main
    root = Path(__file__).resolve().parent.parent
    first = re.search(r"```sh\n(.*?)\n", (root / "README.md").read_text()).group(1)
    command = shlex.split(first.split("&&", 1)[1].split("#", 1)[0])
    assert command[:2] == ["splatjit", "run"]
    import os
    old = os.getcwd()
    os.chdir(root)
    try:
        assert main(command[1:]) == 0
        printed = capsys.readouterr().out
        want = iree_run(root / command[2], [a.split("=", 1)[1] for a in command[3:]])
    finally:
        os.chdir(old)
    assert want.returncode == 0 and printed == want.stdout


def test_datatiled_matmul128_reproduces_the_interpreters_wrong_answer():
    """IREE 3.13's data-tiled VMVX build of a 128^3 f32 matmul sums only half of K in
    IREE's own interpreter (all-ones inputs give 64, not 128). splatjit is a drop-in for the
    interpreter: it gives the same bits, wrong answer included."""
    from pathlib import Path
    import iree.runtime as rt
    source = Path(__file__).resolve().parent.parent / "bench" / "programs" / "matmul_f32.mlir"
    item = corpus.CorpusItem(source.stem, source, "program", "datatiled",
                             corpus.PROGRAM_VARIANTS["datatiled"])
    data = _compiled(item)
    ones = np.ones((128, 128), np.float32)
    iree_main = rt.load_vm_flatbuffer(data, driver="local-sync").main
    jit = JitModule(data)
    want = np.asarray(iree_main(ones, ones).to_host())
    got = jit.main(ones, ones)
    assert got.tobytes() == want.tobytes()
    assert np.all(want == 64.0)  # the interpreter's answer; the right one is 128
    # random operands: the same bits, so the same fused multiply-adds in the same k order
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((128, 128)).astype(np.float32) for _ in range(2))
    assert jit.main(a, b).tobytes() == np.asarray(iree_main(a, b).to_host()).tobytes()


@pytest.mark.parametrize("module, function, inputs", [
    ("vm/arith_f64", "add_f64", ["1e300", "1e300"]),
    ("vm/arith_f64", "div_f64", ["0", "0"]),
    ("vm/arith_f64", "div_f64", ["1", "3"]),
    ("vm/arith_f32", "mul_f32", ["0.1", "3"]),
    ("vm/arith_i64", "add_i64", ["5", "-9"]),
    ("vm/loop_sum", "loop_sum", ["100"]),
])
def test_scalar_results_print_like_iree_run_module(module, function, inputs):
    import io
    import subprocess

    from splatjit.runner import run
    item = corpus.find_item(module)
    data = corpus.compile_item(item)
    want = subprocess.run([iree_run_module_path(), f"--module={corpus.compiled_path(item)}",
                           f"--function={function}", *[f"--input={i}" for i in inputs]],
                          capture_output=True, text=True, timeout=60)
    assert want.returncode == 0, want.stderr
    out, err = io.StringIO(), io.StringIO()
    assert run(data, function, inputs, [], stdout=out, stderr=err) == 0, err.getvalue()
    assert out.getvalue() == want.stdout


def test_fuel_bounds_the_kernels_of_a_program():
    """`JitModule(program, fuel=N)` compiles the program's executables with the same budget,
    given afresh to every workgroup: enough fuel changes nothing, too little traps inside
    the kernel, named through the host call that dispatched it."""
    from splatjit import TrapError
    item = corpus.find_item("programs/matmul[scalar]")
    data = _compiled(item)
    inputs = random_inputs(item, 1)
    want = JitModule(data).main(*inputs)
    assert JitModule(data, fuel=10**6).main(*inputs).tobytes() == want.tobytes()
    with pytest.raises(TrapError, match=r"main_dispatch_0.*fuel exhausted"):
        JitModule(data, fuel=50).main(*inputs)


def test_a_view_bigger_than_its_buffer_is_a_hal_error():
    """Dims whose product wraps 64 bits (a fuzzer find) still count as huge."""
    from splatjit.hal.buffers import Buffer, BufferView, HalError
    view = BufferView(Buffer(np.zeros(64, np.uint8)), (1 << 32, 1 << 32), BufferView.from_array(
        np.zeros(1, np.float32)).element_type)
    with pytest.raises(HalError, match="needs 73786976294838206464 bytes"):
        view.to_array()
    # two negative dims have a positive product (another fuzzer find: a mutated program)
    view = BufferView(Buffer(np.zeros(64, np.uint8)), (-2, -2), BufferView.from_array(
        np.zeros(1, np.float32)).element_type)
    with pytest.raises(HalError, match="negative dimension"):
        view.to_array()
