"""hal/program_call.py and JitModule's program call path: argument views and buffers are
reused across calls only when nothing can observe it, results stay valid and unchanged
after later calls, and repeated calls of every corpus program give the results fresh
modules give.

tests/sources/stored_argument.mlir keeps its argument view (or its buffer) in a global
when asked, or returns it: a reused object would then show a later call's array.
"""
from __future__ import annotations

import gc
import platform
import weakref
from pathlib import Path

import numpy as np
import pytest

import corpus
from program_runs import random_inputs
from splatjit import TrapError
from splatjit.module import JitModule

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="the program fast path runs native x86-64 code")

SOURCE = Path(__file__).resolve().parent / "sources" / "stored_argument.mlir"


@pytest.fixture(scope="module")
def stored():
    item = corpus.CorpusItem(SOURCE.stem, SOURCE, "program", "scalar",
                             corpus.PROGRAM_VARIANTS["scalar"])
    return corpus.compile_item(item)


def _arrays():
    return np.arange(4, dtype=np.float32), np.full(4, 9, np.float32)


def test_argument_views_are_reused_when_nothing_holds_them(stored):
    m = JitModule(stored)
    x, y = _arrays()
    free = m["echo"]._program_args.free
    first = m.echo(x)
    view = weakref.ref(free[0])      # the call's view, free again after it
    second = m.echo(y)
    assert free[0] is view()         # filled in for y, then free again
    np.testing.assert_array_equal(first, np.arange(4))   # call 1's result is unchanged
    np.testing.assert_array_equal(second, np.full(4, 9))
    assert np.shares_memory(first, x) and np.shares_memory(second, y)
    assert free[0].buffer.array.nbytes == 0   # a free view holds no caller array


@pytest.mark.parametrize("kept", ["view", "buffer"])
def test_what_a_global_keeps_is_never_refilled(stored, kept):
    """The second call passes y without keeping it: the kept view must not become y's
    (for a kept buffer: its view is free, its buffer is not)."""
    m = JitModule(stored)
    keep, saved = m[f"keep_{kept}"], m[f"saved_{kept}"]
    x, y = _arrays()
    keep(x, 1)
    keep(y, 0)
    np.testing.assert_array_equal(saved(), np.arange(4))
    keep(y, 1)
    np.testing.assert_array_equal(saved(), np.full(4, 9))


def test_a_view_the_caller_holds_stays_as_it_was(stored):
    m = JitModule(stored)
    x, y = _arrays()
    [held] = m["echo"].call_raw(x)   # echo returns its argument view itself
    m.echo(y)
    assert held.shape == (4,)
    np.testing.assert_array_equal(held.to_array(), np.arange(4))
    assert m["echo"]._program_args.free[0] is not held


def test_the_callers_array_is_not_kept_alive_between_calls(stored):
    m = JitModule(stored)
    x = np.arange(4, dtype=np.float32)
    alive = weakref.ref(x)
    m.keep_view(x, 0)
    assert m["keep_view"]._program_args.free   # reused next time...
    del x
    gc.collect()
    assert alive() is None                       # ...without holding x meanwhile


def _program_cases():
    out = []
    for item in corpus.program_items():
        if item.name == "matmul" or item.variant in ("scalar", "inline"):
            out.append(pytest.param(item, id=f"{item.name}[{item.variant}]"))
    return out


@pytest.mark.parametrize("item", _program_cases())
def test_repeated_calls_match_fresh_modules(item):
    """Calls 1..3 of one module (argument views reused, pools recycled) give what a fresh
    module gives for each input, and earlier results stay unchanged."""
    try:
        data = corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects it: {e}")
    inputs = [random_inputs(item, seed) for seed in (3, 4, 5)]
    want = [_as_list(JitModule(data).main(*args)) for args in inputs]
    m = JitModule(data)
    got = []
    for args in inputs:
        got.append(_as_list(m.main(*[a.copy() for a in args])))
        for g, w in zip(got, want):          # every result so far, as first returned
            for gv, wv in zip(g, w):
                assert np.asarray(gv).tobytes() == np.asarray(wv).tobytes()
    assert m["main"]._program_args.free or not any(
        isinstance(a, np.ndarray) for a in inputs[0])


def _as_list(out):
    return list(out) if isinstance(out, tuple) else [out]


def test_a_reused_view_describes_each_calls_shape_and_type():
    """The program's own asserts read the argument views' descriptors natively: a reused
    view must describe the new array's shape and element type, not the last call's."""
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "scalar")
    m = JitModule(corpus.compile_item(item))
    a, b = random_inputs(item, 3)
    want = m.main(a, b)
    for wrong, error in ((a.view(np.int32), "element type mismatch"),
                         (a.reshape(8, 4), "shape dimension 0 mismatch"),
                         (a.reshape(-1), "shape rank mismatch")):
        assert m["main"]._program_args.free   # the last call's views, to be reused now
        with pytest.raises(TrapError, match=error):
            m.main(wrong, b)
        np.testing.assert_array_equal(m.main(a, b), want)


_THREADS_SCRIPT = r"""
import sys, threading
import numpy as np
import corpus
from program_runs import random_inputs
from splatjit.module import JitModule
name, variant, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
item = next(i for i in corpus.program_items() if i.name == name and i.variant == variant)
m = JitModule(corpus.compile_item(item))
cases = [random_inputs(item, seed) for seed in range(4)]
expected = [m.main(*c) for c in cases]
bad = []

def same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b, equal_nan=True)

def worker(k):
    try:
        for n in range(iters):
            if not same(m.main(*cases[k]), expected[k]):
                bad.append((k, n))
    except Exception as e:
        bad.append(repr(e)[:200])

threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(cases))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("bad", bad[:5])
"""


@pytest.mark.parametrize("name,variant", [("elementwise_f32", "ukernel"), ("softmax", "ukernel"),
                                          ("dynamic_shape", "datatiled")])
def test_threads_sharing_a_program_get_their_own_results(name, variant):
    """Four threads call one program module at once: every result is the one a lone call
    gives. Native code keeps the GIL and Python-path calls hold CALL_LOCK, so calls do not
    interleave even where native code calls back into Python (pool refills, fallbacks).
    With the GIL released, these calls returned other threads' values or crashed the
    process: the script runs in a subprocess so a crash fails the test."""
    import subprocess
    import sys
    tests = Path(__file__).resolve().parent
    corpus.compile_item(next(i for i in corpus.program_items()
                             if i.name == name and i.variant == variant))  # cached first
    env_path = [str(tests.parent), str(tests)]
    run = subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = {env_path!r}\n"
                          + _THREADS_SCRIPT, name, variant, "150"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "bad []", run.stdout


def test_a_program_called_again_and_again_reuses_the_same_few_buffers():
    """Each call's result array escapes (the caller gets it) and is let go before the next
    call: its buffer is free for the buffer pool at the end of that next call, which then
    keeps about one call's worth of buffers instead of watching ever more of them (and
    touching fresh memory)."""
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "datatiled")
    m = JitModule(corpus.compile_item(item))
    inputs = random_inputs(item, 5)
    for _ in range(60):
        m.main(*inputs)
    (alloca,) = [h for h in m._imports.hooks if type(h).__name__ == "NativeAlloca"]
    pool = alloca.pool
    assert len(pool.watch) <= 2, len(pool.watch)
    assert all(len(stack) <= 2 for stack in pool.stacks), [len(s) for s in pool.stacks]


def _datatiled_matmul():
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "datatiled")
    data = corpus.compile_item(item)
    return data, random_inputs(item, 5)


def _pool(m, hook: str):
    (hook,) = [h for h in m._imports.hooks if type(h).__name__ == hook]
    return hook.pool


def test_held_results_stay_intact_and_their_views_never_escape():
    """The results become arrays before the call's refs are released, so the pooled view
    of a result is never escaped (the view pool binds nothing); each array keeps its own
    bytes, which the buffer pool leaves alone while the caller holds them. Differential:
    every held result equals iree.runtime's, after all the later calls."""
    import iree.runtime as rt
    data, inputs = _datatiled_matmul()
    want = np.asarray(rt.load_vm_flatbuffer(data, driver="local-sync").main(*inputs))
    m = JitModule(data)
    views = _pool(m, "NativeViewCreate")
    held = []
    for i in range(12):  # (powers of two scale exactly)
        held.append((i, m.main(*[a * np.float32(2 ** i) for a in inputs])))
        assert views.bound == []
    for i, out in held:
        np.testing.assert_array_equal(out, want * np.float32(4 ** i))
    for (_, a), (_, b) in zip(held, held[1:]):
        assert not np.shares_memory(a, b)


def test_a_raw_result_view_escapes_and_keeps_its_buffer():
    """call_raw hands out the result view itself: the view pool binds it to its buffer,
    and it still shows its call's result after many more calls (lazy recycles included)."""
    import iree.runtime as rt
    data, inputs = _datatiled_matmul()
    want = np.asarray(rt.load_vm_flatbuffer(data, driver="local-sync").main(*inputs))
    m = JitModule(data)
    for _ in range(3):  # the pools fill up (a first call's views are ordinary ones)
        m.main(*inputs)
    [view] = m["main"].call_raw(*inputs)
    assert type(view).__name__ == "PooledView" and view in _pool(m, "NativeViewCreate").bound
    for _ in range(20):
        m.main(*[a * 2 for a in inputs])
    np.testing.assert_array_equal(view.to_array(), want)
