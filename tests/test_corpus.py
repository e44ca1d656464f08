"""The corpus itself: every item compiles with IREE 3.13, every vm module loads into (or, when
marked, is rejected by) `iree.runtime`, the VMVX RFC benchmarks compute the right values in
IREE's interpreter, and every compiled program runs under `iree-run-module`."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import corpus

rt = pytest.importorskip("iree.runtime")

ITEMS = corpus.all_items()
VM_ITEMS = corpus.vm_items()
PROGRAMS = corpus.program_items()


def _compiled(item: corpus.CorpusItem) -> bytes:
    try:
        return corpus.compile_item(item)
    except corpus.CompileFailure as e:
        if item.expect == "compile-fails":
            pytest.skip(f"iree-compile 3.13 rejects {item.id} (expected): {e.reason}")
        pytest.fail(f"iree-compile rejects {item.id}: {e.reason}")


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.skip(f"{name} not installed")
    return found


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_item_compiles(item):
    data = _compiled(item)
    if item.expect == "compile-fails":
        pytest.fail(f"{item.id} now compiles: drop its `corpus-expect: compile-fails` line")
    assert data[:4] == b"PK\x03\x04" or data[4:8] == b"IREE", f"{item.id}: not a .vmfb"


def test_compile_is_cached():
    item = corpus.find_item("vm/loop_sum")
    first = corpus.compile_item(item)
    assert corpus.compile_item(item) == first
    assert any(corpus.CACHE_DIR.glob("*.vmfb"))


@pytest.mark.parametrize("item", VM_ITEMS, ids=[i.id for i in VM_ITEMS])
def test_vm_module_loads_in_iree_runtime(item):
    chain = [_compiled(i) for i in [corpus.find_item(f"vm/{n}") for n in item.needs]]
    data = _compiled(item)
    if item.expect == "load-fails":
        with pytest.raises(Exception, match="verif|overrun|invalid|INVALID|OUT_OF_RANGE"):
            corpus.Oracle(chain + [data])
        return
    oracle = corpus.Oracle(chain + [data])
    module = oracle.modules[-1]
    assert module.name == item.name
    exports = re.findall(r"\[(.*)\]", repr(module))[0].split(", ")
    assert exports and all(oracle.lookup(n) is not None for n in exports)


def test_loop_sum():
    data = corpus.compile_item(corpus.find_item("vm/loop_sum"))
    oracle = corpus.Oracle([data])
    assert oracle.call("loop_sum", [100]) == [4950]
    assert oracle.call("loop_sum", [0]) == [0]
    assert oracle.call("loop_sum", [-5]) == [0]
    assert oracle.call("loop_sum", [100_000]) == [(100_000 * 99_999 // 2 + 2**31) % 2**32 - 2**31]


def test_buffer_reduce():
    data = corpus.compile_item(corpus.find_item("vm/buffer_reduce"))
    oracle = corpus.Oracle([data])
    assert oracle.call("buffer_reduce", [1000]) == [1000]
    assert oracle.call("buffer_reduce", [0]) == [0]


def test_call_imported_func():
    item = corpus.find_item("vm/call_imported_func")
    assert item.needs == ("native_import_module",)
    chain = corpus.module_chain(item)
    assert corpus.oracle_call(chain, "call_imported_func", [0]) == [21]
    assert corpus.oracle_call(chain, "call_imported_func", [2**31 - 1]) == [-(2**31) + 20]
    assert corpus.oracle_call(chain, "native_import_module.add_1", [41]) == [42]


def test_oracle_argument_and_result_conventions():
    oracle = corpus.Oracle([corpus.compile_item(corpus.find_item("vm/calls"))])
    assert oracle.call("mixed_banks", [-1, 2**40, 1.5, -0.25]) == [-1, 2**40, 1.5, -0.25]
    with pytest.raises(TypeError):
        oracle.call("mixed_banks", [1.0, 2, 3.0, 4.0])  # float for an i32 parameter
    with pytest.raises(TypeError):
        oracle.call("mixed_banks", [1, 2])
    buffers = corpus.Oracle([corpus.compile_item(corpus.find_item("vm/buffers"))])
    buf = buffers.call("alloc", [8])[0]
    assert isinstance(buf, rt.VmBuffer) and bytes(memoryview(buf)) == bytes(8)
    buffers.call("store_i16", [buf, 1, -2])
    assert bytes(memoryview(buf)) == bytes.fromhex("0000feff00000000")
    assert buffers.call("load_i8_s", [bytes([0x80, 0x7F]), 0]) == [-128]
    with pytest.raises(corpus.OracleTrap, match="out-of-bounds"):
        buffers.call("load_i32", [buf, 2])


def test_imports_resolve_against_the_python_host():
    data = corpus.compile_item(corpus.find_item("vm/imports_variadic"))
    assert corpus.oracle_call([data], "resolved_mask", []) == [0]
    oracle = corpus.Oracle([data], host_modules=[corpus.corpus_host_module()])
    assert oracle.call("resolved_mask", []) == [1]
    assert oracle.call("mix", [1, 2.5, 3, 4.25]) == [10.75]
    assert oracle.call("split", [0x30004]) == [3004]
    assert oracle.call("sum3", [1, 2, 3, 4]) == [-1]  # variadic: no provider


def _scalar_args(kinds: str) -> list:
    return [3 if k in "iI" else 1.5 if k in "fF" else bytes(range(64)) for k in kinds]


@pytest.mark.parametrize("item", [i for i in VM_ITEMS if i.expect == "ok"],
                         ids=[i.id for i in VM_ITEMS if i.expect == "ok"])
def test_every_export_is_callable_by_the_oracle(item):
    """Each export returns or fails with an IREE status (never a Python-side error)."""
    if "invoke-hangs" in item.hazards:
        pytest.skip(f"{item.id}: iree.runtime 3.13 never returns from its exports")
    oracle = corpus.Oracle(corpus.module_chain(item))
    module = oracle.modules[-1]
    returned = 0
    for name in re.findall(r"\[(.*)\]", repr(module))[0].split(", "):
        if name.startswith("__"):
            continue
        kinds = corpus._cconv_args(oracle.lookup(name))
        assert kinds is not None and not set(kinds) - set("iIfFr"), f"{name}: cconv {kinds}"
        try:
            oracle.call(name, _scalar_args(kinds))
            returned += 1
        except corpus.OracleTrap:
            pass  # a trap / vm.fail: a valid outcome for these arguments
    assert returned


@pytest.mark.parametrize("item", PROGRAMS, ids=[i.id for i in PROGRAMS])
def test_program_runs_in_iree_run_module(item):
    data = _compiled(item)
    assert item.inputs, f"{item.source.name}: no `// corpus-inputs:` line"
    tool = _tool("iree-run-module")
    path = corpus.compiled_path(item)
    run = subprocess.run([tool, "--device=local-sync", f"--module={path}", "--function=main",
                          *item.inputs], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{item.id}: {run.stderr.strip()[:500]}"
    assert "result[0]" in run.stdout


def _disassembly(tool: str, path: Path) -> str:
    """The module's disassembly; function by function when 3.13's disassembler gives up on
    one (e.g. `unhandled ext opcode` for cast.ui64.f32), skipping the failing functions."""
    run = subprocess.run([tool, "--output=disassembly", str(path)], capture_output=True, text=True)
    if run.returncode == 0:
        return run.stdout
    table = subprocess.run([tool, str(path)], capture_output=True, text=True).stdout
    count = len(re.findall(r"^\s*\d+ \| [0-9A-F]{8} \|", table, re.M))
    parts = [subprocess.run([tool, "--output=disassembly", f"--function={i}", str(path)],
                            capture_output=True, text=True) for i in range(count)]
    return "\n".join(p.stdout for p in parts if p.returncode == 0)


def test_vm_corpus_covers_the_isa():
    """iree-dump-module shows at least 255 distinct vm op mnemonics across the vm corpus
    (262 exist; see tests/corpus/vm/COVERAGE.md for the ones 3.13 cannot show)."""
    tool = _tool("iree-dump-module")
    op = re.compile(r"^[ \t]+(?:%\S+(?:, %\S+)* = )?vm\.([a-z0-9_.]+)", re.M)
    structural = {"module", "type", "export", "import", "func", "rodata"}
    seen: set[str] = set()
    for item in VM_ITEMS:
        if item.expect == "load-fails":
            continue
        text = _disassembly(tool, corpus.compiled_path(item))
        for body in text.split("vm.func @")[1:]:
            head, switch, _ = body.partition(" = vm.switch.ref")  # 3.13 misprints the rest
            seen.update(op.findall(head))
            if switch:
                seen.add("switch.ref")
    seen -= structural
    assert len(seen) >= 255, sorted(seen)
