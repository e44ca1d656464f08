"""Modules whose refs reach each other's memory (runtime/ref_group.py): a buffer that
buffer_maker allocates and hands natively to buffer_keeper, which keeps it in a ref global.
Every result is checked against iree.runtime with the same two modules in one context.
Before ref groups, the kept buffer was overwritten by buffer_maker's next call from Python
(its arena rewound) and could not be returned to Python at all."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus
from splatjit.module import JitModule

SOURCES = Path(__file__).resolve().parent / "sources"


def _compiled(stem: str) -> bytes:
    return corpus.compile_vm_source(SOURCES / f"{stem}.mlir")


@pytest.fixture(scope="module")
def blobs():
    return _compiled("buffer_maker"), _compiled("buffer_keeper")


def _oracle_host(instance):
    """keeper_host for iree.runtime: tick(v) = v (what the splatjit side's tick returns)."""
    import iree.runtime as rt

    class Host:
        def __init__(self, iface):
            pass

        def tick(self, v):
            return v

    iface = rt.PyModuleInterface("keeper_host", Host)
    iface.export("tick", "0i_i", Host.tick)
    return iface.create()  # (a module of the default instance's kind)


class Pair:
    """splatjit and iree.runtime side by side: maker (B) imported by keeper (A)."""

    def __init__(self, maker: bytes, keeper: bytes, tick=lambda v: v):
        self.B = JitModule(maker)
        self.A = JitModule(keeper, imports={"buffer_maker": self.B, "keeper_host": {"tick": tick}})
        import iree.runtime as rt
        self.rt = rt
        instance = rt.VmInstance()
        self.modules = [rt.VmModule.copy_buffer(instance, maker), _oracle_host(instance),
                        rt.VmModule.copy_buffer(instance, keeper)]
        self.context = rt.VmContext(instance, modules=self.modules)

    def iree(self, module: int, name: str, *args):
        rt = self.rt
        fn = self.modules[module].lookup_function(name)
        arglist = rt.VmVariantList(len(args))
        for a in args:
            arglist.push_int(a)
        results = rt.VmVariantList(2)
        self.context.invoke(fn, arglist, results)
        out = [results.get_variant(i) for i in range(results.size)]
        return [v.deref(rt.VmBuffer) if isinstance(v, rt.VmRef) else v for v in out]

    def keep(self, n, v):
        self.A.keep(n, v)
        self.iree(2, "keep", n, v)

    def make(self, n, v):
        got = np.asarray(self.B.make(n, v))
        want = np.frombuffer(self.iree(0, "make", n, v)[0], dtype=np.uint8)
        assert got.tobytes() == want.tobytes()

    def churn(self, n):
        self.A.churn(n)
        self.iree(2, "churn", n)

    def check(self):
        (want,) = self.iree(2, "first_byte")
        assert self.A.first_byte() == want
        got = np.asarray(self.A.get())
        (buf,) = self.iree(2, "get")
        assert got.tobytes() == bytes(np.frombuffer(buf, dtype=np.uint8))


def test_a_kept_buffer_survives_its_allocators_later_calls(blobs):
    p = Pair(*blobs)
    p.keep(64, 7)
    p.check()
    for v in range(3):
        p.make(64, 100 + v)  # the maker's own calls from Python
    p.check()
    for n in (64, 4096, 1 << 20):  # its builtin scalar export, which allocates too
        assert p.B.scratch(n) == p.iree(0, "scratch", n)[0] == 0xEE
    p.check()


def test_a_kept_buffer_survives_its_allocators_arena_refills(blobs):
    """churn: 20,000 buffers of 4 KiB through the maker's arena inside the keeper's calls
    (several chunk refills); the kept one stays and stays readable."""
    p = Pair(*blobs)
    p.keep(4096, 9)
    p.churn(20_000)
    p.check()
    p.keep(100, 11)  # the global moves on: the old buffer may go
    p.churn(5_000)
    p.make(100, 1)
    p.check()


def test_a_buffer_in_a_register_survives_its_allocators_calls_from_an_import(blobs):
    """keep_across_tick holds the maker's buffer in a register while its Python import
    calls the maker from Python (make; scratch, a builtin that would rewind the arena)
    before storing it."""
    box = {}

    def tick(v):
        for i in range(50):  # scratch first: the maker's dicts are still empty
            assert box["pair"].B.scratch(64) == 0xEE  # its builtin scalar export
            box["pair"].B.make(4096, (v + 1 + i) & 0xFF)
        return v

    p = box["pair"] = Pair(*blobs, tick=tick)
    # the maker's arena gets its chunk, which nothing holds: the next allocation needs no
    # refill (a refill leaves a mark in its dicts, which would send scratch to Python)
    assert p.B.scratch(64) == 0xEE
    assert p.A.keep_across_tick(64, 5) == p.iree(2, "keep_across_tick", 64, 5)[0] == 5
    p.check()


def test_the_group_and_the_diverted_fast_paths(blobs):
    p = Pair(*blobs)
    assert p.A._group is not None and p.A._group is p.B._group
    assert p.B._exports["make"]._fastpath is None
    # a module linked by scalar imports only (no refs) keeps its fast paths
    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")))
    caller = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")),
                       imports={"native_import_module": callee})
    assert caller._group is None and callee._group is None
    assert caller.call_imported_func(5) == 26


def test_memory_stays_flat_over_many_keeps(blobs):
    """Buffers the keeper no longer reaches are freed: 2,000 keeps of 64 KiB (125 MiB in
    all) leave the maker's arena at a few chunks, though the maker itself is never called
    from Python (the keeper's calls collect every member)."""
    p = Pair(*blobs)
    for i in range(2_000):
        p.A.keep(1 << 16, i & 0xFF)
    heap = p.B._heap
    held = sum(c.array.nbytes for c in heap.arena.chunks) + sum(
        e[1].nbytes for e in heap.by_address.values() if e[1] is not None)
    assert held < 64 << 20, held
    assert p.A.first_byte() == 1999 & 0xFF
