"""Executable memory (runtime/memory.py): W^X mappings, the pool of released
mappings; a JitModule's mapping and the native entries' shared stubs (runtime/pyentry.py)."""
from __future__ import annotations

import ctypes
import gc
import platform
from pathlib import Path

import numpy as np
import pytest

import corpus
from splatjit import SplatJitError
from splatjit.module import JitModule
from splatjit.runtime import memory, pyentry
from splatjit.runtime.memory import PAGE, ExecutableMemory

X86 = platform.machine() in ("x86_64", "AMD64")


def _perms(address: int) -> str | None:
    """The protection of the mapping holding `address` ("r-xp", "---p", ...), None if none."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= address < hi:
            return line.split()[1]
    return None


def _stub_address(builtin) -> int:
    """Where a native entry's code starts: PyCFunctionObject.m_ml -> PyMethodDef.ml_meth."""
    method = ctypes.c_void_p.from_address(id(builtin) + 16).value
    return ctypes.c_void_p.from_address(method + 8).value


def _loop_sum() -> JitModule:
    return JitModule(corpus.compile_item(corpus.find_item("vm/loop_sum")))


def test_released_mappings_are_inaccessible_and_reused_without_stale_bytes():
    size = 3 * PAGE  # a size no other mapping of this test run is likely to share
    first = ExecutableMemory(b"\xab" * (size - 1))
    address = first.address
    first.close()
    assert first.closed
    assert _perms(address) == "rw-p"  # kept for reuse, but nothing there runs any more
    second = ExecutableMemory(b"\x90" * (2 * PAGE + 5))
    assert second.address == address  # the pooled mapping, not a fresh one
    assert _perms(address).startswith("r-x")
    tail = ctypes.string_at(address + 2 * PAGE + 5, PAGE - 5)
    assert tail == b"\xcc" * (PAGE - 5)  # the first code's bytes are gone
    second.close()


def test_the_pool_keeps_at_most_its_limit_and_unmaps_the_rest(monkeypatch):
    pool = memory._Pool(limit_pages=2)
    monkeypatch.setattr(memory, "POOL", pool)
    made = [ExecutableMemory(b"\xc3") for _ in range(4)]
    addresses = [m.address for m in made]
    for m in made:
        m.close()
    assert pool.held == 2 * PAGE and len(pool.free[PAGE]) == 2
    kept = set(pool.free[PAGE])
    for a in addresses:  # the kept ones are read-write (not executable), the others unmapped
        assert _perms(a) == ("rw-p" if a in kept else None)
    pool.drain()
    assert pool.held == 0 and all(_perms(a) is None for a in addresses)


NATIVE = pytest.mark.skipif(not X86 or not pyentry.layout_ok(),
                            reason="native entries: x86-64 CPython")


def _arith() -> JitModule:
    return JitModule(corpus.compile_item(corpus.find_item("vm/arith_i32")))


@NATIVE
def test_native_entries_of_one_shape_share_one_stub_and_keep_their_own_records():
    a, b = _arith(), _arith()
    for f in (a.add_i32, a.mul_i32, b.add_i32, b.sub_i32):
        f(0, 0)  # (an export's first call makes its native entry)
    add, sub = a.add_i32.__call__, b.sub_i32.__call__  # builtins of the shape (i32, i32) -> i32
    stub = _stub_address(add)
    assert _stub_address(sub) == stub and _stub_address(b.add_i32.__call__) == stub
    for m in (a, b):  # the stub lies in none of the modules' mappings, and runs
        assert not m._memory.address <= stub < m._memory.address + m._memory.size
    assert _perms(stub).startswith("r-x")
    assert (add(7, 5), sub(7, 5), a.mul_i32(7, 5)) == (12, 2, 35)  # each export its own code
    a.close()
    with pytest.raises(SplatJitError, match="closed"):
        add(7, 5)
    assert sub(7, 5) == 2  # b's records are untouched
    b.close()


@NATIVE
def test_a_builtin_held_past_close_runs_no_code_and_keeps_no_mapping():
    m = _loop_sum()
    mem = m._memory
    m.loop_sum(1)  # (its first call makes the native entry)
    builtin = m.loop_sum.__call__
    assert builtin(10) == 45
    gc.disable()  # released by close(), not by a collection
    try:
        m.close()
        assert mem.closed  # the stub is not in it: nothing needs the module's code now
    finally:
        gc.enable()
    with pytest.raises(SplatJitError, match="closed"):
        builtin(10)  # the off switch: the Python path, which raises
    assert _perms(_stub_address(builtin)).startswith("r-x")


@NATIVE
def test_close_without_a_held_builtin_releases_the_mapping_at_once():
    m = _loop_sum()
    mem = m._memory
    assert m.loop_sum(4) == 6
    gc.disable()  # released by close(), not by a collection
    try:
        m.close()
        assert mem.closed
    finally:
        gc.enable()


@NATIVE
def test_shapes_past_the_stub_limit_get_no_native_entry(monkeypatch):
    m = _loop_sum()
    f = m.loop_sum
    third = {}
    options = dict(context=m._context_address, entry=f.address,
                   fallback=lambda *a: ("fallback", f._python_call(*a)),
                   finish=lambda status, at: ("finish", f._finish_native(status, at)),
                   depth_cell=m._depth_cell,
                   dicts=(m._heap.by_address, m._heap.lists.by_address, third))
    shape = pyentry._shape(f.signature, 3)  # a third dict: a shape no module makes
    assert shape not in pyentry._STUBS
    monkeypatch.setattr(pyentry, "_STUB_LIMIT", len(pyentry._STUBS))
    assert pyentry.build_many([("x.loop_sum", f.signature, options)]) == [None]
    assert shape not in pyentry._STUBS
    monkeypatch.setattr(pyentry, "_STUB_LIMIT", len(pyentry._STUBS) + 1)
    (entry,) = pyentry.build_many([("x.loop_sum", f.signature, options)])
    assert _stub_address(entry.function) == pyentry._STUBS[shape]
    assert entry.function(10) == 45  # native all the way
    assert entry.function(np.int32(10)) == ("fallback", 45)  # not an exact int: Python path
    third[1] = 1  # the stub reads the record's third dict: non-empty sends it to finish
    assert entry.function(10) == ("finish", 45)
    entry.close()
    assert entry.function(10) == ("fallback", 45)
    m.close()


def test_shared_helper_callbacks_serve_the_heap_of_the_calling_context():
    """BufferHeap's Python helpers are process-wide callbacks: each finds its heap through
    the Context it is given (runtime/helpers.py `_HEAPS`), and a dead heap leaves no entry."""
    from splatjit.runtime import abi, helpers
    from splatjit.runtime.lists import ALLOC_FN as LIST_ALLOC_FN
    heaps = [helpers.BufferHeap(native=False) for _ in range(2)]
    contexts = [abi.Context(helpers=ctypes.addressof(h.table)) for h in heaps]
    for i in (1, 0, 1):
        h, ctx = heaps[i], ctypes.addressof(contexts[i])
        alloc = helpers.ALLOC_FN(h.table[abi.HELPERS.index("buffer_alloc")])
        address = alloc(ctx, 24, 16)
        assert address in h.by_address and address not in heaps[1 - i].by_address
        clone = helpers.CLONE_FN(h.table[abi.HELPERS.index("buffer_clone")])
        copy = clone(ctx, address, 8, 16, 16)
        assert copy in h.by_address and copy not in heaps[1 - i].by_address
        new_list = LIST_ALLOC_FN(h.table[abi.HELPERS.index("list_alloc")])
        lst = new_list(ctx, abi.ELEM_I32, 0, 4)
        assert lst in h.lists.by_address and lst not in heaps[1 - i].lists.by_address
    keys = [ctypes.addressof(h.table) for h in heaps]
    assert all(k in helpers._HEAPS for k in keys)
    del h, heaps
    assert not any(k in helpers._HEAPS for k in keys)


def test_rodata_descriptors_point_at_the_segments_own_immutable_bytes():
    """A module's rodata is not copied: each read-only descriptor points into its segment's
    `bytes` (the LoadedModule keeps them alive); stores through it still trap."""
    from splatjit import TrapError
    m = JitModule(corpus.compile_item(corpus.find_item("vm/rodata")))
    segments = m.loaded.defn.rodata
    assert segments
    for i, seg in enumerate(segments):
        desc = m._rodata[i]
        assert type(seg.data) is bytes
        assert desc.data == ctypes.cast(seg.data, ctypes.c_void_p).value  # no copy
        assert desc.length == len(seg.data) and desc.access == 0
    words = next(seg.data for seg in segments if len(seg.data) == 24)
    before = bytes(words)
    with pytest.raises(TrapError):
        m.store_to_rodata(7)
    assert words == before and m.word(2) == 2147483647
    m.close()


def test_a_module_makes_no_holder_set_until_linked():
    m = _loop_sum()
    assert m._holders is None  # made by link() only
    m.close()
    assert m._memory.closed


def test_memory_dropped_without_close_is_released():
    m = ExecutableMemory(b"\xc3" * 100)
    address = m.address
    assert _perms(address).startswith("r-x")
    del m  # no cycle: released by reference counting, no executable page left behind
    assert _perms(address) in ("rw-p", None)
