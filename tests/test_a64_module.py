"""`JitModule(..., target="aarch64")`: the public API over the Unicorn-run AArch64 backend."""
from __future__ import annotations

from pathlib import Path

import pytest

import corpus
from splatjit import TrapError
from splatjit.cli import main as cli_main
from splatjit.module import JitModule

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOOP_SUM = (EXAMPLES / "loop_sum.vmfb").read_bytes()


@pytest.mark.parametrize("n", [-3, 0, 1, 100, 5000])
def test_loop_sum_matches_x86(n):
    assert JitModule(LOOP_SUM, target="aarch64").loop_sum(n) == JitModule(LOOP_SUM).loop_sum(n)


def test_imports_between_aarch64_modules():
    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")), target="aarch64")
    caller = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")), target="aarch64",
                       imports={"native_import_module": callee})
    assert caller.call_imported_func(1) == 22
    python = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")), target="aarch64",
                       imports={"native_import_module": {"add_1": lambda x: x + 2}})
    assert python.call_imported_func(1) == 43


def test_traps_name_function_and_offset():
    m = JitModule(LOOP_SUM, target="aarch64", fuel=10)
    header = m.loaded.functions[0].blocks[1].instrs[0].offset
    with pytest.raises(TrapError, match=rf"module\.loop_sum\+0x{header:x}: fuel exhausted"):
        m.loop_sum(1000)
    with pytest.raises(TypeError, match="takes 1 arguments"):
        m.loop_sum()


def test_disasm_aarch64(capsys):
    assert cli_main(["disasm", "--target", "aarch64", str(EXAMPLES / "loop_sum.vmfb")]) == 0
    text = capsys.readouterr().out
    assert "vm.add.i32 %i3, %i2" in text and "add w" in text and "b.lt" in text


def test_native_arm64_path_resolves_host_libm():
    """On an arm64 host the code calls libm directly: the resolver hands out real addresses
    (checked here; the mapping and call are the x86 path's, shared)."""
    from splatjit import load_module
    from splatjit.emit_a64.lower import compile_module
    from splatjit.module import NATIVE_ISA, host_symbol
    asked = []

    def resolve(name):
        asked.append(name)
        return host_symbol(name)

    loaded = load_module(corpus.compile_item(corpus.find_item("vm/math_f32")))
    compiled = compile_module(loaded, resolve=resolve)
    assert {"expf", "logf", "tanhf"} <= set(asked) and compiled.code
    assert all(host_symbol(n) for n in set(asked))
    assert NATIVE_ISA["aarch64"] == NATIVE_ISA["arm64"] == "aarch64"
