"""hal/native_queue.py: the native fence.join and device.queue.dealloca answer ordinary
calls as the Python implementations do (a signalled pooled fence; the signal fence
signalled) and leave every other call to Python, which joins pending or failed fences or
raises IREE's errors."""
from __future__ import annotations

import ctypes
import platform

import pytest

import corpus
from program_runs import random_inputs
from splatjit.frontend.cconv import parse_cconv
from splatjit.hal import local, native_queue
from splatjit.hal.buffers import Buffer
from splatjit.hal.local import Fence, LocalHal
from splatjit.module import JitModule
from splatjit.runtime import abi
from splatjit.runtime.imports import NATIVE_FN, python_trampoline
from splatjit.runtime.memory import ExecutableMemory
from splatjit.runtime.objects import ObjectSpace, lookup
from test_hal_native import packed_args

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="native entries are x86-64 code")


class Calls:
    """The two calls of one LocalHal, native over counting Python fallbacks."""

    def __init__(self):
        self.hal = LocalHal()
        provider = self.hal.provider()
        self.python, self.errors, self.keep, self.fns = 0, [], [], {}
        for name in native_queue.ENTRIES:
            sig, fn = parse_cconv(native_queue.ENTRIES[name][0]), provider[name]

            def counted(*args, fn=fn):
                self.python += 1
                return fn(*args)
            fallback = python_trampoline(sig, counted, self.errors, self.keep, ObjectSpace())
            memory = ExecutableMemory(fn.native_code(fallback, sig))
            self.keep.append(memory)
            self.fns[name] = (NATIVE_FN(memory.address), sig)

    def __call__(self, name, *args):
        """(status, result object or None, Python ran?, the error or None)."""
        fn, sig = self.fns[name]
        raw = packed_args(sig.args, args)
        out = ctypes.c_uint64(0)
        before = self.python
        self.errors.clear()
        status = fn(None, ctypes.addressof(raw), ctypes.addressof(out))
        return (status, lookup(out.value) if out.value else None, self.python != before,
                self.errors[-1] if self.errors else None)

    def join(self, *fences):
        return self("fence.join", 0, [(f,) for f in fences])


def _fences():
    ready, pending, failed = Fence(signaled=True), Fence(), Fence(signaled=True)
    failed.failure = "status 3"
    return ready, pending, failed


def _state(fence):
    return fence.signaled, fence.failure


def test_join_of_ready_fences_is_a_signalled_pooled_fence():
    c = Calls()
    ready, _, _ = _fences()
    for fences in ((), (ready,), (ready, None, ready), (None,)):
        status, joined, python, _ = c.join(*fences)
        assert status == 0 and not python and _state(joined) == (True, None)
        assert joined in c.hal.fence_pool.stack                 # popped, not made
        want = LocalHal.fence_join(0, [(f,) for f in fences])
        assert _state(joined) == _state(want)


def test_join_of_pending_failed_or_foreign_objects_is_pythons():
    c = Calls()
    ready, pending, failed = _fences()
    for fences, state in (((ready, pending), (False, None)), ((failed, ready), (True, "status 3")),
                          ((pending, failed), (False, "status 3"))):
        status, joined, python, _ = c.join(*fences)
        assert status == 0 and python and _state(joined) == state
    status, _, python, error = c.join(ready, Buffer.allocate(4))
    assert status == abi.TRAP_IMPORT and python and "expected a Fence" in str(error)
    while c.hal.fence_pool.words[0]:                           # empty the pool
        assert not c.join(ready)[2]
    status, joined, python, _ = c.join(ready)
    assert status == 0 and python and _state(joined) == (True, None)


def test_dealloca():
    c = Calls()
    ready, pending, failed = _fences()
    device, buffer = c.hal.device, Buffer.allocate(16)
    for wait in (None, ready):
        signal = Fence()
        status, _, python, _ = c("device.queue.dealloca", device, -1, wait, signal, buffer, 0)
        assert status == 0 and not python
        assert _state(signal) == (True, None)
    assert c("device.queue.dealloca", device, -1, None, None, buffer, 0)[:3] == (0, None, False)
    for args, message in (((device, -1, pending, None, buffer, 0), "deadlock"),
                          ((device, -1, failed, None, buffer, 0), "status 3"),
                          ((device, -1, None, None, None, 0), "expected a Buffer, got null"),
                          ((device, -1, None, None, ready, 0), "expected a Buffer, got Fence"),
                          ((buffer, -1, None, None, buffer, 0), "expected a Device"),
                          ((device, -1, None, buffer, buffer, 0), "expected a Fence")):
        status, _, python, error = c("device.queue.dealloca", *args)
        assert status == abi.TRAP_IMPORT and python and message in str(error)


@pytest.mark.parametrize("name", ["matmul", "matmul_bias"])
def test_datatiled_programs_make_no_python_hal_call(name, monkeypatch):
    """The data-tiled matmuls join fences and deallocate scratch every call: natively,
    with the Python-only HAL's results."""
    calls = []
    for fn in ("fence_join", "queue_dealloca"):
        raw = LocalHal.__dict__[fn]
        if isinstance(raw, staticmethod):
            counted = staticmethod(lambda *a, _f=raw.__func__: calls.append(1) or _f(*a))
        else:
            counted = lambda self, *a, _f=raw: calls.append(1) or _f(self, *a)  # noqa: E731
        monkeypatch.setattr(LocalHal, fn, counted)
    item = next(i for i in corpus.program_items() if i.name == name and i.variant == "datatiled")
    data = corpus.compile_item(item)
    native = JitModule(data)
    saved = dict(local.NATIVE_MODES)
    local.NATIVE_MODES.update(queue=False)
    try:
        python = JitModule(data)
    finally:
        local.NATIVE_MODES.update(saved)
    for seed in range(3):
        inputs = random_inputs(item, seed)
        want = python.main(*inputs)
        calls.clear()
        assert native.main(*inputs).tobytes() == want.tobytes()
        assert calls == [] or seed == 0
