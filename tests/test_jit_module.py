"""JitModule behaviour on the bundled example modules: calls, argument checks, traps, W^X,
resource hygiene, and the `disasm` command."""
from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest

from splatjit import TrapError
from splatjit.cli import main as cli_main
from splatjit.module import JitModule

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOOP_SUM = (EXAMPLES / "loop_sum.vmfb").read_bytes()


def _loop_sum_reference(n: int) -> int:
    """The bytecode's do-while: sum of 0..max(n, 1)-1 in i32 wrap-around."""
    total, i = 0, 0
    while True:
        total = (total + i) & 0xFFFFFFFF
        i += 1
        if not i < n:
            break
    return total - (1 << 32) if total >= 1 << 31 else total


@pytest.mark.parametrize("n", [-5, 0, 1, 2, 100, 65536, 100_000])
def test_loop_sum_runs_natively(n):
    m = JitModule(LOOP_SUM)
    assert m.loop_sum(n) == _loop_sum_reference(n)
    assert m["loop_sum"](n) == m.loop_sum(n)


def test_exports_are_made_at_their_first_lookup():
    """A construction makes no ExportedFunction (`ExportTable`); a lookup by attribute,
    item or `get` makes one, the same object each time, and an attribute lookup leaves it
    in the instance dict; `close` closes the ones made and drops the attributes."""
    from splatjit.module import ExportTable, ExportedFunction
    m = JitModule(LOOP_SUM)
    table = m._exports
    assert type(table) is ExportTable and not table.made
    assert list(table) == ["loop_sum"] and "loop_sum" in table and len(table) == 1
    assert "loop_sum" not in vars(m) and table.get("nope") is None and not table.made
    fn = m.loop_sum
    assert type(fn) is ExportedFunction and table.made == {"loop_sum": fn}
    assert vars(m)["loop_sum"] is fn is m["loop_sum"] is table.get("loop_sum")
    assert fn(10) == _loop_sum_reference(10)
    m.close()
    assert "loop_sum" not in vars(m) and fn._closed


@pytest.mark.usefixtures("optimizing_tier")
def test_an_already_loaded_module_compiles_like_its_bytes():
    from splatjit.frontend.loader import load_module
    loaded = load_module(LOOP_SUM)
    m = JitModule(loaded)
    assert m.loaded is loaded
    assert m.compiled.code == JitModule(LOOP_SUM).compiled.code
    assert m.loop_sum(100) == _loop_sum_reference(100)


def test_a_closed_module_is_freed_without_the_cycle_collector():
    import weakref
    m = JitModule(LOOP_SUM)
    assert m.loop_sum(3) == 3
    m.close()
    assert m.exports == {} and not hasattr(m, "loop_sum")
    ref = weakref.ref(m)
    gc.disable()
    try:
        del m
        assert ref() is None
    finally:
        gc.enable()


def test_exports_and_unknown_names():
    m = JitModule(LOOP_SUM)
    assert m.exports == {"loop_sum": "(i32) -> (i32)"}
    with pytest.raises(KeyError, match="no export 'nope'"):
        m["nope"]
    with pytest.raises(AttributeError):
        m.nope


@pytest.mark.parametrize("args, message", [
    ((), "takes 1 arguments, got 0"),
    ((1, 2), "takes 1 arguments, got 2"),
    (("1",), "expected an int for i32"),
    ((1.5,), "expected an int for i32"),
    ((2**32,), "does not fit i32"),
])
def test_bad_arguments_raise_type_error_naming_the_signature(args, message):
    m = JitModule(LOOP_SUM)
    with pytest.raises(TypeError, match=re.escape(message)):
        m.loop_sum(*args)


def test_trap_names_function_and_bytecode_offset():
    m = JitModule(LOOP_SUM, fuel=10)
    assert m.loop_sum(5) == 10
    loop_header = m.loaded.functions[0].blocks[1].instrs[0].offset
    with pytest.raises(TrapError, match=rf"module\.loop_sum\+0x{loop_header:x}: fuel exhausted") as e:
        m.loop_sum(1000)
    assert e.value.function == "module.loop_sum" and e.value.offset == loop_header
    assert m.loop_sum(5) == 10  # a trap leaves the module usable


def _code_mappings(address: int) -> list[str]:
    out = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= address < hi:
            out.append(line.split()[1])
    return out


def test_code_is_never_writable_and_executable():
    m = JitModule(LOOP_SUM)
    perms = _code_mappings(m._memory.address)
    assert perms and all(p.startswith("r-x") for p in perms), perms


def _maps_count() -> int:
    return len(Path("/proc/self/maps").read_text().splitlines())


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cycles(n: int) -> tuple[int, int]:
    for _ in range(50):  # warm caches, allocator pools
        JitModule(LOOP_SUM).loop_sum(3)
    gc.collect()
    maps, rss = _maps_count(), _rss_kib()
    for _ in range(n):
        JitModule(LOOP_SUM).loop_sum(3)
    gc.collect()
    return _maps_count() - maps, _rss_kib() - rss


# A leak would add one code mapping per cycle; the allocator's own arenas may add a few.
def test_create_drop_cycles_leave_mappings_and_rss_flat():
    grown_maps, grown_rss = _cycles(300)
    assert grown_maps <= 8 and grown_rss < 8 * 1024, (grown_maps, grown_rss)


@pytest.mark.slow
def test_10k_create_drop_cycles():
    grown_maps, grown_rss = _cycles(10_000)
    assert grown_maps <= 16 and grown_rss < 16 * 1024, (grown_maps, grown_rss)


@pytest.mark.usefixtures("optimizing_tier")
def test_disasm_interleaves_bytecode_and_machine_code(capsys):
    assert cli_main(["disasm", str(EXAMPLES / "loop_sum.vmfb")]) == 0
    text = capsys.readouterr().out
    assert "vm.add.i32 %i3, %i2" in text
    assert re.search(r"^\s+[0-9a-f]+:\s+[0-9a-f]+\s+add [re]\w+, [re]\w+$", text, re.M)
    assert "// registers: i32@0=" in text


@pytest.mark.usefixtures("optimizing_tier")
def test_disasm_json(capsys):
    assert cli_main(["disasm", "--json", "--function", "loop_sum",
                     str(EXAMPLES / "loop_sum.vmfb")]) == 0
    records = json.loads(capsys.readouterr().out)
    ops = [op["op"] for op in records[0]["ops"]]
    assert any(op.startswith("vm.cond_br") for op in ops)
    # every op produced machine code, but constants that every reader takes as an immediate
    assert all(op["code"] or " = vm.const." in op["op"] for op in records[0]["ops"])


def _ukernel_kernel_bytes() -> bytes:
    """The nested VMVX executable of matmul[ukernel]: a kernel module importing vmvx.*."""
    import corpus
    from splatjit.frontend.loader import load_module
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "ukernel")
    host = load_module(corpus.compile_item(item))
    return bytes(host.defn.rodata[host.executables[0].rodata_ordinal].data)


def test_disasm_of_a_kernel_module_provides_the_vmvx_microkernels(tmp_path, capsys):
    path = tmp_path / "kernel.vmfb"
    path.write_bytes(_ukernel_kernel_bytes())
    assert cli_main(["disasm", str(path)]) == 0
    text = capsys.readouterr().out
    assert "vm.call @vmvx." in text


def test_disasm_nested_shows_a_programs_dispatch_functions(capsys):
    import corpus
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "ukernel")
    path = corpus.compiled_path(item)
    corpus.compile_item(item)
    assert cli_main(["disasm", str(path)]) == 0
    plain = capsys.readouterr().out
    assert cli_main(["disasm", "--nested", str(path)]) == 0
    text = capsys.readouterr().out
    assert "// nested executable rodata[" in text and "nested executable" not in plain
    assert "vm.func @main_dispatch_0" in text and "vm.func @main_dispatch_0" not in plain
    assert cli_main(["disasm", "--nested", "--json", str(path)]) == 0
    records = json.loads(capsys.readouterr().out)
    kernels = [r for r in records if r.get("executable")]
    assert kernels and all(r["ops"] for r in kernels)


def test_perf_map_names_each_function_when_asked(monkeypatch):
    import os
    path = Path(f"/tmp/perf-{os.getpid()}.map")
    before = path.read_text() if path.exists() else ""
    monkeypatch.setenv("SPLATJIT_PERF_MAP", "1")
    m = JitModule((EXAMPLES / "loop_sum.vmfb").read_bytes())
    new = path.read_text()[len(before):].splitlines()
    rows = {name: (int(start, 16), int(size, 16))
            for start, size, name in (line.split(" ", 2) for line in new)}
    start, size = rows[f"splatjit:{m.loaded.defn.name}.loop_sum"]
    assert start == m._memory.address + m.compiled.entries[0] and 0 < size <= m._memory.length
    monkeypatch.delenv("SPLATJIT_PERF_MAP")
    JitModule((EXAMPLES / "loop_sum.vmfb").read_bytes())
    assert len(path.read_text()) == len(before) + len("\n".join(new)) + 1


def test_buffers_a_call_allocates_are_released_after_it():
    """Scalar-signature calls take a fast path; what their code allocates (and no ref global
    keeps) must still be released when they return, or repeated calls leak."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus
    m = JitModule(corpus.compile_item(corpus.find_item("vm/buffer_reduce")))
    for n in (10, 1000, 5):
        assert m.buffer_reduce(n) == n
        assert not m._heap.by_address and not m._heap.lists.by_address


@pytest.mark.usefixtures("optimizing_tier")
def test_plain_arithmetic_leaves_keep_their_frame_in_the_red_zone():
    """No `sub rsp` (and no Context store) for functions of only register arithmetic; a
    function that calls, allocates or may trap moves rsp as before."""
    import corpus
    from splatjit import disasm as dis

    def prologue(m, name):
        text = dis.as_text(dis.function_records(m, function=name))
        return [line.split(None, 2)[2] for line in text.splitlines()[3:8]]

    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")))
    assert not any(p.startswith("sub rsp") for p in prologue(callee, "add_1"))
    assert callee.add_1(41) == 42 and callee.add_1(2**31 - 1) == -2**31
    caller = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")),
                       imports={"native_import_module": callee})
    name = next(e.name for e in caller.loaded.defn.exports if not e.name.startswith("__"))
    assert any(p.startswith("sub rsp") for p in prologue(caller, name))


@pytest.mark.usefixtures("optimizing_tier")
def test_leaves_with_every_value_in_a_register_have_no_frame():
    """A red-zone leaf whose values all sit in registers runs without `push rbp` (the
    results pointer waits below rsp); one with a value in memory (swap_loop's remap cycle
    spills) keeps its red-zone frame. Both still compute the interpreter's results."""
    import corpus
    from splatjit import disasm as dis

    def record(m, name):
        return dis.function_records(m, function=name)[0]

    def first_instructions(r):
        return [c["text"] for c in r["ops"][0]["code"][:2]]

    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")))
    leaf = record(callee, "add_1")
    assert leaf["frame_kind"] == "none"
    assert not any(t.startswith(("push", "pop")) for op in leaf["ops"] for t in
                   (c["text"] for c in op["code"]))
    assert "no frame" in dis.as_text([leaf])
    assert callee.add_1(41) == 42 and callee.add_1(-1) == 0
    flow = JitModule(corpus.compile_item(corpus.find_item("vm/control_flow")))
    spilled = record(flow, "swap_loop")
    assert spilled["frame_kind"] == "red zone" and "memory" in spilled["allocation"].values()
    assert first_instructions(spilled) == ["push rbp", "mov rbp, rsp"]


def test_linked_import_calls_embed_the_entry_and_its_context():
    """An import linked when the module is built is called at its entry with its Context as
    constants (no loads from the import table); results and traps stay those of the table
    path (the callee's TrapError names the callee)."""
    import corpus
    from splatjit import disasm as dis

    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")))
    caller = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")),
                       imports={"native_import_module": callee})
    name = next(e.name for e in caller.loaded.defn.exports if not e.name.startswith("__"))
    ops = dis.function_records(caller, function=name)[0]["ops"]
    calls = [op["code"] for op in ops if "vm.call @native_import_module" in op["op"]]
    assert calls
    entry = callee._exports["add_1"].address
    for code in calls:
        texts = [c["text"] for c in code]
        assert f"movabs rax, {entry:#x}" in texts and "call rax" in texts
        assert f"movabs rdi, {callee._context_address:#x}" in texts
    assert getattr(caller, name)(5) == 5 + len(calls)


def test_closing_an_imported_module_keeps_its_code_while_importers_live():
    """`close()` on a module another module links natively (its import calls the export's
    code directly) leaves the code mapped: the importer keeps running; the closed module's
    own exports raise; the code is unmapped once the importer is gone too."""
    import weakref

    import corpus
    from splatjit import SplatJitError
    callee = JitModule(corpus.compile_item(corpus.find_item("vm/native_import_module")))
    caller = JitModule(corpus.compile_item(corpus.find_item("vm/call_imported_func")),
                       imports={"native_import_module": callee})
    expected = caller.call_imported_func(5)
    add_1 = callee.add_1
    memory = weakref.ref(callee._memory)
    callee.close()
    with pytest.raises(SplatJitError, match="closed"):
        add_1(1)
    del callee, add_1
    gc.collect()
    assert memory() is not None and not memory().closed
    assert caller.call_imported_func(5) == expected
    caller.close()
    del caller
    gc.collect()
    assert memory() is None or memory().closed


def test_closing_a_program_executable_module_keeps_the_program_running():
    """A nested executable's module is linked by the HAL that dispatches it: closing it
    must not unmap code the program's recorded dispatches call."""
    import numpy as np

    import corpus
    from program_runs import random_inputs
    from splatjit.hal.local import LocalHal
    item = next(i for i in corpus.program_items() if i.name == "matmul" and i.variant == "scalar")
    def hals():
        return [o for o in gc.get_objects() if isinstance(o, LocalHal)]

    before = set(map(id, hals()))
    m = JitModule(corpus.compile_item(item))
    (hal,) = [h for h in hals() if id(h) not in before]  # the program's own HAL
    inputs = random_inputs(item, 3)
    expected = m.main(*inputs)
    modules = [exe.module for exe in hal._compiled.values()]
    assert modules and all(hal in mod._holders for mod in modules)
    for mod in modules:
        mod.close()
        assert not mod._memory.closed
    np.testing.assert_array_equal(m.main(*inputs), expected)


def test_perf_map_names_microkernel_entries_and_shared_stubs(monkeypatch):
    """Mappings outside a module's own code (the vmvx native entries of its kernels, the
    process's stubs) are named too, so `perf report` attributes kernel time."""
    import os
    import corpus
    from program_runs import random_inputs
    from splatjit.runtime.memory import ExecutableMemory
    path = Path(f"/tmp/perf-{os.getpid()}.map")
    item = next(i for i in corpus.program_items()
                if i.variant == "ukernel" and i.source.stem == "elementwise_f32")
    data = corpus.compile_item(item)
    before = path.read_text() if path.exists() else ""
    monkeypatch.setenv("SPLATJIT_PERF_MAP", "1")
    stub = ExecutableMemory(b"\x90" * 5 + b"\xc3", "splatjit:test.stub")
    JitModule(data).main(*random_inputs(item, 0))  # maps the kernels' entries
    rows = [line.split(" ", 2) for line in path.read_text()[len(before):].splitlines()]
    assert [stub.address, 6, "splatjit:test.stub"] in [[int(a, 16), int(s, 16), n] for a, s, n in rows]
    assert any(n.startswith("splatjit:vmvx.") for _, _, n in rows)


def test_disasm_shows_the_chosen_tier(capsys):
    """`--tier baseline` shows the one-pass compiler's code (VM registers in frame slots,
    none allocated), `--tier optimizing` the register-allocated code."""
    shown = {}
    for tier in ("optimizing", "baseline"):
        assert cli_main(["disasm", "--tier", tier, "--function", "loop_sum",
                         str(EXAMPLES / "loop_sum.vmfb")]) == 0
        shown[tier] = capsys.readouterr().out
    assert "// registers: none" in shown["baseline"]  # every register in its frame slot
    assert "// registers: none" not in shown["optimizing"]
    assert shown["baseline"] != shown["optimizing"]


def test_run_takes_a_tier(capsys, monkeypatch):
    from splatjit import tiers
    asked, resolve = [], tiers.resolve
    monkeypatch.setattr(tiers, "resolve", lambda tier: asked.append(tier) or resolve(tier))
    for tier in ("optimizing", "baseline", "auto"):
        assert cli_main(["run", str(EXAMPLES / "loop_sum.vmfb"), "--function=loop_sum",
                         "--input=100", f"--tier={tier}"]) == 0
        assert capsys.readouterr().out.endswith("result[0]: i32=4950\n")
    assert asked == ["optimizing", "baseline", "auto"]
