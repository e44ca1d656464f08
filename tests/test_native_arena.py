"""runtime/native_arena.py + native_alloc.py: `vm.buffer.alloc` / `clone` served by the
module's native arena on x86-64. Results agree with IREE's interpreter (where it has no
undefined behaviour) and the arena's lifetimes hold: allocations across chunk boundaries,
alignment, zero-filled reuse after a reset, returned buffers that later calls do not touch,
buffers kept by ref globals, over-limit requests that trap, Python imports that get (and
keep) arena buffers."""
from __future__ import annotations

import platform

import numpy as np
import pytest

import corpus
from differential import Oracle
from splatjit import TrapError
from splatjit.module import JitModule
from splatjit.runtime import native_arena
from splatjit.runtime.objects import array_address

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="the native arena is x86-64 code")

SUM = """
  // the sum of every byte of %b (unsigned)
  vm.func private @sum(%b : !vm.buffer) -> i64 attributes {inlining_policy = #util.inline.never} {
    %i0 = vm.const.i64 0
    %i1 = vm.const.i64 1
    %n = vm.buffer.length %b : !vm.buffer -> i64
    vm.br ^loop(%i0, %i0 : i64, i64)
  ^loop(%i : i64, %acc : i64):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %x = vm.buffer.load.i8.u %b[%i] : !vm.buffer -> i32
    %x64 = vm.ext.i32.i64.u %x : i32 -> i64
    %acc1 = vm.add.i64 %acc, %x64 : i64
    %i2 = vm.add.i64 %i, %i1 : i64
    vm.br ^loop(%i2, %acc1 : i64, i64)
  ^done:
    vm.return %acc : i64
  }
"""

COMMON = SUM + """
  // n buffers of `size` bytes; buffer k filled with (k & 127) + 1 and kept in a list until
  // all are made; then the sum of every byte of every buffer
  vm.export @many
  vm.func @many(%n : i32, %size : i64) -> i64 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c127 = vm.const.i32 127
    %i0 = vm.const.i64 0
    %align = vm.const.i32 16
    %list = vm.list.alloc %n : (i32) -> !vm.list<?>
    vm.list.resize %list, %n : (!vm.list<?>, i32)
    vm.br ^fill(%c0 : i32)
  ^fill(%k : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^fill_body, ^sums(%c0, %i0 : i32, i64)
  ^fill_body:
    %b = vm.buffer.alloc %size, %align : !vm.buffer
    %low = vm.and.i32 %k, %c127 : i32
    %v = vm.add.i32 %low, %c1 : i32
    vm.buffer.fill.i8 %b, %i0, %size, %v : i32 -> !vm.buffer
    vm.list.set.ref %list, %k, %b : (!vm.list<?>, i32, !vm.buffer)
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^fill(%k1 : i32)
  ^sums(%j : i32, %acc : i64):
    %more2 = vm.cmp.lt.i32.s %j, %n : i32
    vm.cond_br %more2, ^sums_body, ^done
  ^sums_body:
    %buf = vm.list.get.ref %list, %j : (!vm.list<?>, i32) -> !vm.buffer
    %s = vm.call @sum(%buf) : (!vm.buffer) -> i64
    %acc1 = vm.add.i64 %acc, %s : i64
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sums(%j1, %acc1 : i32, i64)
  ^done:
    vm.return %acc : i64
  }

  // the byte sum of a fresh n-byte buffer (0), which is then filled with 0xFF
  vm.export @fresh_sum
  vm.func @fresh_sum(%n : i64) -> i64 {
    %i0 = vm.const.i64 0
    %ff = vm.const.i32 255
    %align = vm.const.i32 16
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    %s = vm.call @sum(%b) : (!vm.buffer) -> i64
    vm.buffer.fill.i8 %b, %i0, %n, %ff : i32 -> !vm.buffer
    vm.return %s : i64
  }

  // a fresh n-byte buffer filled with v
  vm.export @make
  vm.func @make(%n : i64, %v : i32) -> !vm.buffer {
    %i0 = vm.const.i64 0
    %align = vm.const.i32 16
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    vm.buffer.fill.i8 %b, %i0, %n, %v : i32 -> !vm.buffer
    vm.return %b : !vm.buffer
  }

  // an n-byte buffer holding i & 255 at byte i, cloned over [off, off + len) (alignment
  // 64): the clone's length * 2**32 + its byte sum; a range outside the buffer traps
  vm.export @clone_sum
  vm.func @clone_sum(%n : i64, %off : i64, %len : i64) -> i64 {
    %i0 = vm.const.i64 0
    %i1 = vm.const.i64 1
    %c16 = vm.const.i32 16
    %c64 = vm.const.i32 64
    %shift = vm.const.i32 32
    %b = vm.buffer.alloc %n, %c16 : !vm.buffer
    vm.br ^loop(%i0 : i64)
  ^loop(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^clone
  ^body:
    %v = vm.trunc.i64.i32 %i : i64 -> i32
    vm.buffer.store.i8 %v, %b[%i] : i32 -> !vm.buffer
    %i2 = vm.add.i64 %i, %i1 : i64
    vm.br ^loop(%i2 : i64)
  ^clone:
    %c = vm.buffer.clone %b, %off, %len, %c64 : !vm.buffer -> !vm.buffer
    %s = vm.call @sum(%c) : (!vm.buffer) -> i64
    %l = vm.buffer.length %c : !vm.buffer -> i64
    %hi = vm.shl.i64 %l, %shift : i64
    %r = vm.add.i64 %hi, %s : i64
    vm.return %r : i64
  }

  // the length of a fresh n-byte buffer with this alignment
  vm.export @alloc_len
  vm.func @alloc_len(%n : i64, %align : i32) -> i64 {
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    %l = vm.buffer.length %b : !vm.buffer -> i64
    vm.return %l : i64
  }
"""

IMPORTS = """
  vm.import private @host.see(%b : !vm.buffer, %align : i32) -> i32

  // a fresh n-byte buffer (this alignment) filled with 5, passed to host.see (which writes
  // byte 0): byte 0 afterwards * 65536 + what host.see returned
  vm.export @show
  vm.func @show(%n : i64, %align : i32) -> i32 {
    %i0 = vm.const.i64 0
    %c5 = vm.const.i32 5
    %c65536 = vm.const.i32 65536
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    vm.buffer.fill.i8 %b, %i0, %n, %c5 : i32 -> !vm.buffer
    %r = vm.call @host.see(%b, %align) : (!vm.buffer, i32) -> i32
    %x = vm.buffer.load.i8.u %b[%i0] : !vm.buffer -> i32
    %hi = vm.mul.i32 %x, %c65536 : i32
    %out = vm.add.i32 %hi, %r : i32
    vm.return %out : i32
  }
"""

GLOBALS = """
  vm.global.ref private mutable @kept : !vm.buffer

  // a fresh n-byte buffer filled with v, kept in a ref global
  vm.export @stash
  vm.func @stash(%n : i64, %v : i32) {
    %i0 = vm.const.i64 0
    %align = vm.const.i32 16
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    vm.buffer.fill.i8 %b, %i0, %n, %v : i32 -> !vm.buffer
    vm.global.store.ref %b, @kept : !vm.buffer
    vm.return
  }

  // the byte sum of the kept buffer
  vm.export @kept_sum
  vm.func @kept_sum() -> i64 {
    %b = vm.global.load.ref @kept : !vm.buffer
    %s = vm.call @sum(%b) : (!vm.buffer) -> i64
    vm.return %s : i64
  }
"""


def _compile(tmp_path_factory, name: str, body: str) -> bytes:
    return corpus.compile_vm_text(tmp_path_factory.mktemp(name), name,
                                  f"vm.module @{name} {{\n{body}\n}}\n")


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """No ref globals, no imports: results come back as copies."""
    return _compile(tmp_path_factory, "arena_plain", COMMON)


@pytest.fixture(scope="module")
def with_imports(tmp_path_factory):
    return _compile(tmp_path_factory, "arena_imports", COMMON + IMPORTS)


@pytest.fixture(scope="module")
def with_globals(tmp_path_factory):
    """A ref global and an import: results come back as zero-copy views."""
    return _compile(tmp_path_factory, "arena_globals", COMMON + IMPORTS + GLOBALS)


class Host:
    """host.see: records (the view it got, its address, the alignment asked), writes 9 to
    byte 0, returns 1 when the data is aligned as asked (normalised) else 0; `keep` also
    keeps the view past the call."""

    def __init__(self):
        self.seen = []

    def see(self, buf, align):
        self.seen.append((buf, array_address(buf), align))
        buf[0] = 9
        return int(array_address(buf) % native_arena.normalized_alignment(align) == 0)

    def providers(self):
        return {"host": {"see": self.see}}


def _arena(m: JitModule) -> native_arena.NativeArena:
    return m._heap.arena


def _oracle(data: bytes):
    return Oracle([data])


def test_many_allocations_over_chunk_boundaries(plain):
    """Hundreds of buffers (several chunks' worth in one call) stay distinct and filled as
    the interpreter fills them; the arena grows to serve the workload from one chunk."""
    m, oracle = JitModule(plain), _oracle(plain)
    for n, size in ((3, 7), (64, 1000), (200, 1000), (40, 5000), (300, 1)):
        assert m.many(n, size) == oracle.call("many", [n, size], ["i32", "i64"])[0]
    assert m.many(200, 1000) == sum(1000 * ((k & 127) + 1) for k in range(200))
    arena = _arena(m)
    (chunk,) = arena.chunks
    assert chunk.size >= 2 * native_arena.MIN_CHUNK  # it grew past the first chunk
    m.many(200, 1000)
    assert arena.chunks == [chunk] and not arena.used()  # served from it, then reset


def test_alignment(with_imports):
    """Data is aligned to the alignment argument when it is a power of two >= 16, else to
    16 (also above what the arena serves: 8192 goes to the Python helper)."""
    host = Host()
    m = JitModule(with_imports, imports=host.providers())
    aligns = (0, 1, 3, 8, 16, 32, 48, 64, 256, 4096, 8192, -64, -(2 ** 31))
    for align in aligns:
        for n in (1, 17, 300):
            assert m.show(n, align) == 9 * 65536 + 1, (n, align)
    assert [s[2] for s in host.seen] == [a for a in aligns for _ in range(3)]
    assert any(s[1] % 4096 == 0 and s[2] == 4096 for s in host.seen)


def test_zero_filled_after_a_reset(plain):
    """A buffer is zero however dirty the memory was that the arena reuses for it; the
    scalar export's native entry rewinds the arena after each call (same chunk, cursor
    back at its start)."""
    m, oracle = JitModule(plain), _oracle(plain)
    arena = _arena(m)
    for n in (4096, 100, 8191, 4096):
        assert m.fresh_sum(n) == 0 == oracle.call("fresh_sum", [n], ["i64"])[0]
        assert not arena.used()
    chunk = arena.chunks[0]
    dirty = m._heap.words[native_arena._CLEAN] - chunk.base
    assert dirty >= 8191  # the memory was handed out, written and reused
    m.fresh_sum(4096)
    assert arena.chunks == [chunk]


def test_python_call_path_rewinds(plain):
    """Calls on the Python path (a module with fuel) leave the arena rewound too."""
    m = JitModule(plain, fuel=10 ** 9)
    arena = _arena(m)
    for n in (4096, 100, 4096):
        assert m.fresh_sum(n) == 0
        assert not arena.used() and len(arena.chunks) == 1


def test_clone(plain):
    """vm.buffer.clone from the arena: the range copied, zero-length clones, out-of-range
    ranges trap as in the interpreter's checks."""
    m, oracle = JitModule(plain), _oracle(plain)
    for n, off, length in ((300, 0, 300), (300, 17, 200), (5000, 4096, 904), (10, 10, 0),
                           (0, 0, 0), (70000, 1, 69999)):
        args = [n, off, length]
        assert m.clone_sum(*args) == oracle.call("clone_sum", args, ["i64"] * 3)[0]
    for n, off, length in ((10, 11, 0), (10, 5, 6), (10, -1, 2), (10, 0, -1)):
        with pytest.raises(TrapError, match="runtime helper failed"):
            m.clone_sum(n, off, length)
    assert m.clone_sum(300, 17, 200) == 200 * 2 ** 32 + sum(range(17, 217))


@pytest.mark.parametrize("fixture", ["plain", "with_globals"])
def test_returned_buffers_stay_intact(fixture, request):
    """A returned buffer is not overwritten by later calls (a copy without ref globals; a
    view whose chunk is retired with them) and keeps its contents after its chunk left."""
    data = request.getfixturevalue(fixture)
    m = JitModule(data, imports=Host().providers()) if fixture == "with_globals" else JitModule(data)
    a = m.make(300, 1)
    b = m.make(300, 2)
    for _ in range(3):
        m.fresh_sum(4096)
        m.many(100, 1000)
    assert a.tolist() == [1] * 300 and b.tolist() == [2] * 300
    c = m.make(70000, 3)
    assert int(c.sum()) == 3 * 70000
    if fixture == "with_globals":  # zero-copy: the views' memory was the arena's
        assert a.base is not None and a.base.size >= native_arena.MIN_CHUNK
    else:  # copies: they pin no chunk
        assert a.base is None and b.base is None


def test_ref_global_buffers_survive_later_calls(with_globals):
    """A buffer a ref global keeps stays intact while later calls allocate and fill a lot;
    replacing it lets the arena reuse a chunk again."""
    m = JitModule(with_globals, imports=Host().providers())
    m.stash(500, 7)
    for _ in range(3):
        assert m.many(100, 1000) == sum(1000 * ((k & 127) + 1) for k in range(100))
        assert m.fresh_sum(5000) == 0
        assert m.kept_sum() == 3500
    m.stash(40, 2)
    assert m.kept_sum() == 80
    arena = _arena(m)
    m.fresh_sum(100)
    chunk = arena.chunks[0]
    m.fresh_sum(100)
    assert arena.chunks == [chunk] and not arena.used()


def test_over_limit_allocations_trap(plain):
    """Lengths outside [0, MAX_ALLOCATION] trap (as the Python helpers did); requests the
    arena does not serve (huge alignment, more than a chunk) still allocate."""
    m = JitModule(plain)
    assert m.fresh_sum(64) == 0  # the arena has a chunk: the machine code's checks decide
    for n in (2 ** 31 + 1, -1, -(2 ** 63), 2 ** 62):
        with pytest.raises(TrapError, match="runtime helper failed"):
            m.alloc_len(n, 16)
    assert m.alloc_len(100, 1 << 20) == 100
    big = native_arena.MAX_ARENA_REQUEST + 1
    assert m.alloc_len(big, 16) == big
    assert m.alloc_len(0, 16) == 0
    assert m.fresh_sum(64) == 0


@pytest.mark.parametrize("fixture", ["with_imports", "with_globals"])
def test_python_import_gets_the_arena_buffer(fixture, request):
    """A Python import gets a zero-copy view of an arena buffer (its write is what the VM
    reads back); a view it keeps stays valid and unchanged while later calls allocate."""
    data = request.getfixturevalue(fixture)
    host = Host()
    m = JitModule(data, imports=host.providers())
    assert m.show(4000, 64) == 9 * 65536 + 1
    kept, _, _ = host.seen[-1]
    assert kept.tolist() == [9] + [5] * 3999
    for _ in range(3):
        m.many(100, 1000)
        assert m.fresh_sum(4000) == 0
        assert m.show(4000, 64) == 9 * 65536 + 1
    assert kept.tolist() == [9] + [5] * 3999
    assert len({s[1] for s in host.seen}) == len(host.seen)  # each kept view pinned its memory


@pytest.mark.parametrize("name", ["elementwise_f32", "softmax", "math_i64_f64"])
def test_program_kernels_allocate_natively(name, monkeypatch):
    """Whole programs whose VMVX kernels allocate scratch: the nested executable modules
    take it from their own native arenas (no Python allocation callback, nothing left in
    any heap after `main`, the arenas rewound) and give exactly the bytes the Python
    helpers give."""
    from program_runs import random_inputs
    from splatjit.runtime import helpers
    item = next(i for i in corpus.program_items() if i.name == name and i.variant == "ukernel")
    data = corpus.compile_item(item)
    inputs = random_inputs(item, 3)
    heaps, python_allocations = [], []

    def heap(native=False, python_only=False):
        h = helpers.BufferHeap(native=native and not python_only)
        heaps.append(h)
        return h

    def results(python_only: bool):
        monkeypatch.setattr("splatjit.module.BufferHeap",
                            lambda native=False: heap(native, python_only))
        m = JitModule(data)
        runs = []
        for _ in range(2):  # the first execution in Python, the second by the native plan
            out = m.main(*inputs)
            out = out if isinstance(out, tuple) else (out,)
            runs.append([np.asarray(o).tobytes() for o in out])
        return runs

    expected = results(python_only=True)
    heaps.clear()
    new = helpers._new
    monkeypatch.setattr(helpers, "_new", lambda *a: python_allocations.append(a[1:]) or new(*a))
    m_results = results(python_only=False)
    assert m_results == expected and expected[0] == expected[1]
    used = [h for h in heaps if h.arena is not None and h.arena.chunks]
    assert used and len(heaps) >= 2  # the host module and its kernels
    assert not python_allocations
    assert all(not h.by_address and not h.arena.used() for h in used)


def test_a_closed_module_frees_its_chunks(plain):
    """A closed module's chunks die with it by reference counting alone (no cycle through
    its ctypes callbacks or the process-wide registry) and leave the registry."""
    import gc
    import weakref
    m = JitModule(plain)
    assert m.many(100, 1000) > 0
    chunk = _arena(m).chunks[0]
    array, base = weakref.ref(chunk.array), chunk.base
    assert base in native_arena._RANGES
    gc.disable()
    try:
        m.close()
        del m, chunk
        assert array() is None and base not in native_arena._RANGES
    finally:
        gc.enable()
