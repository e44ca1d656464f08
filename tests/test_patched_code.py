"""Stubs assembled once per shape (runtime/patched_code.py): a patched template must be the
bytes that assembling the stub afresh gives, for stubs of many shapes and any addresses; shapes whose code does not embed its addresses plainly are never patched."""
from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import pytest

from splatjit.emit_x64 import operands as R
from splatjit.emit_x64.assembler import Assembler
from splatjit.runtime import patched_code, pyentry
from splatjit.runtime.patched_code import patched

TYPES = ("i32", "i64", "f32", "f64")
SIGNATURES = [SimpleNamespace(args=args, results=results)
              for n in range(3) for args in itertools.product(TYPES, repeat=n)
              for results in [(), ("i32",), ("f32",), ("i64", "f64")]]


def _wide(rng: random.Random) -> int:
    return rng.choice((rng.randrange(1 << 32, 1 << 47), rng.randrange(1 << 47, 1 << 63)))


def _stub(signature, ndicts, a):
    """A native entry's shared stub (runtime/pyentry.py, which embeds no per-export
    address) followed by code embedding each address: templates of many lengths and
    contents, as the per-instance stubs of hal/ have."""
    asm = Assembler()
    for i, address in enumerate(a):
        asm.mov(R.rcx if i % 2 else R.rax, address)
    asm.ret()
    return pyentry.assemble(signature, ndicts) + asm.finish()


@pytest.mark.parametrize("ndicts", (0, 2))
def test_patched_stubs_equal_the_assembled_ones(ndicts: int) -> None:
    rng = random.Random(ndicts)
    for sig in SIGNATURES:
        shape = ("test-stub", sig.args, sig.results, ndicts)
        for _ in range(3):
            addresses = tuple(_wide(rng) for _ in range(7 + ndicts))
            got = patched(shape, lambda a, sig=sig: _stub(sig, ndicts, a), addresses)
            assert got == _stub(sig, ndicts, addresses), (sig, addresses)
        assert patched_code._TEMPLATES[shape] is not None


def _derived(a):
    """Embeds address + 8, not the address itself: must not be patched."""
    asm = Assembler()
    asm.mov(R.rax, a[0] + 8)
    asm.mov(R.rcx, a[1])
    asm.ret()
    return asm.finish()


def _narrow_or_wide(a):
    asm = Assembler()
    asm.mov(R.rax, a[0])
    asm.ret()
    return asm.finish()


def test_a_shape_not_embedding_its_addresses_plainly_is_assembled_every_time() -> None:
    rng = random.Random(5)
    for _ in range(3):
        addresses = (_wide(rng), _wide(rng))
        assert patched(("test-derived",), _derived, addresses) == _derived(addresses)
    assert patched_code._TEMPLATES[("test-derived",)] is None


def test_addresses_that_are_not_wide_are_assembled_afresh() -> None:
    for value in (0x1000, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 32, (1 << 63) - 1):
        assert patched(("test-narrow",), _narrow_or_wide, (value,)) == _narrow_or_wide((value,))


def test_patched_vmvx_native_entries_equal_the_assembled_ones() -> None:
    from splatjit.emit_x64.cpu import host_features
    from splatjit.intrinsics.native_x64 import ASSEMBLERS, NEEDS
    rng = random.Random(3)
    for name, assemble in ASSEMBLERS.items():
        if not NEEDS.get(name, set()) <= host_features():
            continue
        shape = ("test-vmvx", name)
        for _ in range(2):
            fallback = _wide(rng)
            got = patched(shape, lambda a, name=name, f=assemble: f(name, a[0]), (fallback,))
            assert got == assemble(name, fallback), name
        assert patched_code._TEMPLATES[shape] is not None, name


def test_a_builder_rejecting_the_placeholders_is_assembled_every_time() -> None:
    def picky(a):
        if a[0] >> 40 != 0x7F:
            raise ValueError("not an address this builder takes")
        return _narrow_or_wide(a)

    for value in (0x7F00_0000_1000, 0x7F12_3456_7000):
        assert patched(("test-picky",), picky, (value,)) == _narrow_or_wide((value,))
    assert patched_code._TEMPLATES[("test-picky",)] is None


def test_mmt4d_entries_call_the_tile_loops_that_exist_now(monkeypatch) -> None:
    """The mmt4d entry calls tile loops that native_mmt4d's module-level cache owns; a
    template would keep the first loops' addresses after that cache is gone (a harness that
    loads splatjit again unmapped them: a call into an unmapped page). Entries are assembled
    afresh: after the cache is replaced, a new entry calls the new loops."""
    import ctypes
    from splatjit.emit_x64.cpu import host_features
    from splatjit.intrinsics import native_mmt4d
    from splatjit.intrinsics.native_x64 import NEEDS, NativeIntrinsic
    if not NEEDS.get("mmt4d", set()) <= host_features():
        pytest.skip("no native mmt4d entry on this CPU")
    op = NativeIntrinsic("mmt4d", lambda *args: None)
    first_address, first = op.native_entry(_wide(random.Random(1)))
    old_cache = dict(native_mmt4d._CACHE)  # kept alive: the first entry still points at it
    monkeypatch.setattr(native_mmt4d, "_CACHE", {})
    address, memory = op.native_entry(_wide(random.Random(2)))
    code = ctypes.string_at(address, memory.length)
    new_generic = native_mmt4d.generic_f32_address().to_bytes(8, "little")
    old_generic = old_cache["generic"][0].address.to_bytes(8, "little")
    assert new_generic in code and old_generic not in code
