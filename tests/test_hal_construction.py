"""What constructing a program leaves behind (hal/local.py, hal/pools.py, runtime/imports.py):
a program's nested kernel modules go with its HAL, without the cycle collector; the
per-process caches that construction uses give what building afresh gives."""
from __future__ import annotations

import ctypes
import gc
import weakref

import numpy as np
import pytest

import corpus
from program_runs import random_inputs
from splatjit.hal import local
from splatjit.module import JitModule


def _compiled(item):
    try:
        return corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item.id}: {e.reason}")


class _Collector:
    """The cycle collector off for a block (and everything it left collected first)."""

    def __enter__(self):
        gc.collect()
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()


@pytest.mark.parametrize("given", [False, True], ids=["default_hal", "given_hal"])
def test_a_dropped_programs_kernel_modules_are_freed_without_the_cycle_collector(
        given, monkeypatch):
    item = corpus.find_item("programs/matmul[scalar]")
    data = _compiled(item)
    made = []

    class Recorded(local.LocalHal):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(local, "LocalHal", Recorded)
    inputs = random_inputs(item, 0)
    with _Collector():
        imports = {"hal": Recorded().provider()} if given else None
        m = JitModule(data, imports=imports)
        want = m.main(*inputs)
        (hal,) = made
        kernels = [weakref.ref(exe.module) for exe in hal._compiled.values()]
        assert kernels
        m.close()
        del m, hal, imports, made[:]
        assert [k() for k in kernels] == [None] * len(kernels)
    # the same program again: nothing of the first one is needed
    got = JitModule(data).main(*inputs)
    assert got.tobytes() == want.tobytes()
