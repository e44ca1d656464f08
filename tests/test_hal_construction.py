"""What constructing a program leaves behind (hal/local.py, hal/pools.py, runtime/imports.py):
a program's nested kernel modules go with its HAL, without the cycle collector; the
per-process caches that construction uses give what building afresh gives."""
from __future__ import annotations

import ctypes
import gc
import weakref

import pytest

import corpus
from program_runs import random_inputs, record_local_hals
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
    made, Recorded = record_local_hals(monkeypatch)
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


def test_import_trampolines_are_lent_to_a_table_and_given_back_when_it_goes():
    from splatjit.runtime import abi
    from splatjit.runtime import imports as I
    item = corpus.find_item("programs/matmul[scalar]")
    data = _compiled(item)
    inputs = random_inputs(item, 0)
    with _Collector():
        m = JitModule(data)
        want = m.main(*inputs)
        lent = {slot.address for slot in m._imports._slots}
        assert len(lent) == len(m._imports._slots) > 0
        m.close()
        del m
        free = {slot.address: slot for slot in I._FREE_SLOTS}
        assert lent <= set(free)  # the table went with its module: its slots are free
        # a free slot serves no one: a call reports a trap and reaches no Python function
        slot = free[min(lent)]
        assert slot.target is None
        args, results = (ctypes.c_uint64 * 32)(), (ctypes.c_uint64 * 4)()
        status = I.NATIVE_FN(slot.address)(None, ctypes.addressof(args),
                                            ctypes.addressof(results))
        assert status == abi.TRAP_IMPORT
        m = JitModule(data)  # the next table borrows them again, no new callbacks
        assert {slot.address for slot in m._imports._slots} <= set(free)
        assert m.main(*inputs).tobytes() == want.tobytes()
        m.close()


def test_mmt4d_entries_after_the_first_are_patched_copies(monkeypatch):
    """Every kernel of a data-tiled program imports vmvx.mmt4d: its native entry is assembled
    once per copy of the tile loops it calls, later ones are the template with their own
    fallback (the same bytes assembling gives)."""
    import random
    from splatjit.emit_x64.cpu import host_features
    from splatjit.intrinsics import native_x64
    if not native_x64.NEEDS.get("mmt4d", set()) <= host_features():
        pytest.skip("no native mmt4d entry on this CPU")
    rng = random.Random(7)
    op = native_x64.NativeIntrinsic("mmt4d", lambda *args: None)
    fallbacks = [rng.randrange(1 << 40, 1 << 47) for _ in range(3)]
    op.native_code(fallbacks[0])
    assemble = native_x64.ASSEMBLERS["mmt4d"]
    calls = []

    def counted(name, fallback):
        calls.append(fallback)
        return assemble(name, fallback)

    monkeypatch.setitem(native_x64.ASSEMBLERS, "mmt4d", counted)
    got = [op.native_code(f) for f in fallbacks[1:]]
    assert calls == []
    assert got == [assemble("mmt4d", f) for f in fallbacks[1:]]


def test_kernel_modules_share_one_vmvx_provider(monkeypatch):
    """intrinsics/vmvx.provider (which reads /proc/cpuinfo for its target) runs once per
    process, not once per kernel; the shared provider serves every vmvx import."""
    from splatjit.intrinsics import vmvx
    item = corpus.find_item("programs/matmul[datatiled]")
    data = _compiled(item)
    made = []
    real = vmvx.provider
    monkeypatch.setattr(vmvx, "provider", lambda *a, **k: made.append(1) or real(*a, **k))
    monkeypatch.setattr(local, "_VMVX", [])
    inputs = random_inputs(item, 0)
    first = JitModule(data).main(*inputs)
    second = JitModule(data).main(*inputs)
    assert made == [1]
    assert first.tobytes() == second.tobytes()
    exe_imports = [imp.name for e in JitModule(data).loaded.executables
                   for imp in e.module.defn.imports]
    assert any(name.startswith("vmvx.") for name in exe_imports)


def test_a_programs_kernels_are_compiled_as_it_is_built_and_handed_to_its_init(monkeypatch):
    """The default local HAL compiles the executables the program's load found while the
    program's JitModule is being built, before its __init runs; __init's
    `executable.create` hands out those Executables. A kernel that cannot be compiled fails
    the construction with its own error, before any of the program's code has run."""
    from splatjit import UnsupportedError, hal, tiers
    data = _compiled(corpus.find_item("programs/matmul[scalar]"))
    created = []  # per executable.create: whether its Executable existed before the call
    original_create = local.LocalHal.executable_create

    def create(self, *args):
        before = list(self._compiled.values())
        exe = original_create(self, *args)
        created.append(any(exe is b for b in before))
        return exe

    monkeypatch.setattr(local.LocalHal, "executable_create", create)
    m = JitModule(data)
    inputs = random_inputs(corpus.find_item("programs/matmul[scalar]"), 0)
    assert m.main(*inputs) is not None
    assert created and all(created)
    m.close()

    original_compile = tiers.compile_x64

    def refusing(tier, loaded, *args, **kwargs):
        if not hal.is_program(loaded.defn):
            raise UnsupportedError("kernel refused (test)")
        return original_compile(tier, loaded, *args, **kwargs)

    monkeypatch.setattr(tiers, "compile_x64", refusing)
    created.clear()
    with pytest.raises(UnsupportedError, match=r"kernel refused \(test\)"):
        JitModule(data)
    assert created == []  # __init never ran
