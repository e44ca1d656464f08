"""hal/dispatch.py on hand-written kernels: a packed dispatch runs every workgroup with its
bindings resolved against each run's binding table, starts every run from the recorded
arguments (a kernel that empties its bindings list does not change the next run), passes
the constants read-only, and shares its packed frame with dispatches recorded alike."""
from __future__ import annotations

import platform

import numpy as np
import pytest

import corpus
from splatjit import TrapError
from splatjit.hal.buffers import Buffer, HalError
from splatjit.hal.dispatch import DispatchRunner
from splatjit.module import JitModule

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="packed dispatches run x86-64 code in process")

KERNELS = """
vm.module @kernels {
  // out[x + y*cx] = constants[0] + x + 10*y (i32 elements of binding 0); the last
  // workgroup then empties the bindings list (workgroups of one run share it)
  vm.export @write_ids
  vm.func @write_ids(%local : !vm.buffer, %consts : !vm.buffer, %bindings : !vm.list<!vm.buffer>,
                     %x : i32, %y : i32, %z : i32, %sx : i32, %sy : i32, %sz : i32,
                     %cx : i32, %cy : i32, %cz : i32) {
    %c0 = vm.const.i32.zero
    %c10 = vm.const.i32 10
    %i0 = vm.const.i64.zero
    %out = vm.list.get.ref %bindings, %c0 : (!vm.list<!vm.buffer>, i32) -> !vm.buffer
    %k = vm.buffer.load.i32 %consts[%i0] : !vm.buffer -> i32
    %ty = vm.mul.i32 %y, %c10 : i32
    %v0 = vm.add.i32 %k, %x : i32
    %v = vm.add.i32 %v0, %ty : i32
    %row = vm.mul.i32 %y, %cx : i32
    %e = vm.add.i32 %row, %x : i32
    %e64 = vm.ext.i32.i64.s %e : i32 -> i64
    vm.buffer.store.i32 %v, %out[%e64] : i32 -> !vm.buffer
    %n = vm.mul.i32 %cx, %cy : i32
    %c1 = vm.const.i32 1
    %last = vm.sub.i32 %n, %c1 : i32
    %is_last = vm.cmp.eq.i32 %e, %last : i32
    vm.cond_br %is_last, ^empty, ^done
  ^empty:
    vm.list.resize %bindings, %c0 : (!vm.list<!vm.buffer>, i32)
    vm.br ^done
  ^done:
    vm.return
  }

  // constants[0] = 1: the constants are read-only, so this traps
  vm.export @write_constants
  vm.func @write_constants(%local : !vm.buffer, %consts : !vm.buffer, %bindings : !vm.list<!vm.buffer>,
                           %x : i32, %y : i32, %z : i32, %sx : i32, %sy : i32, %sz : i32,
                           %cx : i32, %cy : i32, %cz : i32) {
    %c1 = vm.const.i32 1
    %i0 = vm.const.i64.zero
    vm.buffer.store.i32 %c1, %consts[%i0] : i32 -> !vm.buffer
    vm.return
  }
}
"""


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    return JitModule(corpus.compile_vm_text(tmp_path_factory.mktemp("kernels"),
                                            "hal_dispatch_kernels", KERNELS))


def test_runs_resolve_bindings_per_table_from_the_recorded_arguments(kernels):
    runner = DispatchRunner(kernels, "write_ids")
    assert runner.native
    dispatch = runner.prepare((3, 2, 1), np.array([100], np.uint32), [(0, None, 4, 24)])
    want = [100, 101, 102, 110, 111, 112]
    first, second = Buffer.allocate(64), Buffer.allocate(64)
    dispatch.run([(first, 0, 64)])
    assert first.array[4:28].view(np.int32).tolist() == want
    assert not first.array[:4].any() and not first.array[28:].any()
    dispatch.run([(second, 0, 64)])  # the first run emptied its bindings list
    assert second.array[4:28].view(np.int32).tolist() == want
    with pytest.raises(HalError, match="outside a 16-byte buffer"):
        dispatch.run([(Buffer.allocate(16), 0, 16)])


def test_dispatches_recorded_alike_share_a_frame(kernels):
    runner = DispatchRunner(kernels, "write_ids")
    a = runner.prepare((1, 1, 1), np.array([5], np.uint32), [(0, None, 0, 4)])
    buffer = Buffer.allocate(4)
    b = runner.prepare((1, 1, 1), np.array([5], np.uint32), [(1, None, 0, -1)])
    c = runner.prepare((1, 1, 1), np.array([6], np.uint32), [(0, None, 0, 4)])
    assert a.frame is b.frame and a.frame is not c.frame
    b.run([None, (buffer, 0, 4)])
    assert buffer.array.view(np.int32).tolist() == [5]


def test_constants_are_read_only(kernels):
    runner = DispatchRunner(kernels, "write_constants")
    dispatch = runner.prepare((1, 1, 1), np.array([7], np.uint32), [])
    with pytest.raises(TrapError, match="read-only"):
        dispatch.run([])
    dispatch = runner.prepare((0, 1, 1), np.array([7], np.uint32), [])
    dispatch.run([])  # an empty grid runs nothing
