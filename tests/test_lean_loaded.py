"""A built JitModule holds no function IR (runtime/lean_loaded.py): what it loaded itself
drops its functions, and a program's kernel modules theirs, at the end of construction;
every later reader (vm.fail trap messages, the listing, tier-up, disasm) decodes them again
and gets the same IR."""
from __future__ import annotations

import gc
import platform

import pytest

import corpus
from program_runs import record_local_hals
from splatjit import TrapError, ir
from splatjit.frontend.loader import load_module
from splatjit.module import JitModule
from splatjit.runtime.lean_loaded import LeanLoaded

X86 = platform.machine() in ("x86_64", "AMD64")
pytestmark = pytest.mark.skipif(not X86, reason="native x86-64 modules")


def _data(item_id: str) -> bytes:
    try:
        return corpus.compile_item(corpus.find_item(item_id))
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item_id}: {e.reason}")


def _text(functions) -> list:
    """The IR as comparable text: each function's name, signature and instructions."""
    return [(fn.name, fn.ordinal, repr(fn.signature),
             [(b.index, [(i.offset, i.op.name, repr(i.args)) for i in b.instrs]) for b in fn.blocks])
            for fn in functions]


def _live_instrs() -> int:
    gc.collect()
    return sum(type(o) is ir.Instr for o in gc.get_objects())


@pytest.mark.parametrize("tier", ["baseline", "optimizing", "auto"])
def test_a_built_module_holds_no_ir_and_decodes_the_same_again(tier):
    data = _data("vm/loop_sum")
    before = _live_instrs()
    m = JitModule(data, tier=tier)
    assert isinstance(m.loaded, LeanLoaded) and not m.loaded.holds_ir
    assert _live_instrs() == before  # nothing else kept an instruction alive
    assert m.loop_sum(10) == 45
    assert _text(m.loaded.functions) == _text(load_module(data).functions)
    assert m.loaded.holds_ir  # decoded once, then kept
    m.close()


def test_a_given_loaded_module_is_used_as_it_is():
    loaded = load_module(_data("vm/loop_sum"))
    functions = loaded.functions
    m = JitModule(loaded)
    assert m.loaded is loaded and m.loaded.functions is functions
    m.close()


def test_vm_fail_messages_and_the_listing_come_from_decoded_ir():
    data = _data("vm/fail_check")
    m, fresh = JitModule(data, tier="baseline"), JitModule(load_module(data), tier="baseline")
    assert not m.loaded.holds_ir
    with pytest.raises(TrapError) as lean:
        m.fail_with(3)
    with pytest.raises(TrapError) as kept:
        fresh.fail_with(3)
    assert "fail_with called" in str(lean.value) and str(lean.value) == str(kept.value)
    assert lean.value.offset == kept.value.offset
    # a recompile of the decoded IR (which must give the very code: CompiledModule checks)
    assert m.compiled.tag_map == fresh.compiled.tag_map
    assert [at for at, _ in m.compiled.listing] == [at for at, _ in fresh.compiled.listing]
    m.close()
    fresh.close()


def test_tier_up_compiles_the_decoded_ir():
    m = JitModule(_data("vm/loop_sum"), tier="auto")
    assert not m.loaded.holds_ir
    tu = m.compiled.tier_up
    assert tu.tier_up() and tu.error is None
    assert m.loop_sum(1000) == 499500
    m.close()


def test_a_programs_kernel_modules_drop_their_ir_too(monkeypatch):
    item = corpus.find_item("programs/matmul[scalar]")
    data = _data(item.id)
    made, _ = record_local_hals(monkeypatch)
    before = _live_instrs()
    m = JitModule(data)
    (hal,) = made
    kernels = [exe.module for exe in hal._compiled.values()]
    assert kernels and all(isinstance(k.loaded, LeanLoaded) for k in kernels)
    assert not any(k.loaded.holds_ir for k in kernels + [m])
    assert _live_instrs() == before
    nested = load_module(data).executables
    assert [_text(k.loaded.functions) for k in kernels] == [
        _text(e.module.functions) for e in nested][:len(kernels)]
    m.close()
