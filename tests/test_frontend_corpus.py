"""Every corpus module decodes, verifies, and lists exactly as `iree-dump-module` does."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import corpus
from iree_dump import complete_function_bodies, op_name
from splatjit import DecodeError, VerifyError, load_module
from splatjit.frontend import opcodes as oc
from splatjit.frontend.listing import function_lines

#: Ops IREE 3.13's disassembler prints wrongly (it misdecodes vm.switch.ref's operands);
#: functions using them are compared by our own round trip only.
DISASSEMBLER_BUGS = {"vm.switch.ref"}
EXPECTED_ERRORS = {"load-fails": DecodeError, "verify-fails": VerifyError}


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.skip(f"{name} not installed")
    return found


def _compiled(item):
    try:
        return corpus.compile_item(item)
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile 3.13 rejects {item.id}: {e.reason}")


def _modules(mod):
    """(label, loaded module, bytes) for a module and its nested executables."""
    yield "host", mod
    for exe in mod.executables:
        yield f"rodata[{exe.rodata_ordinal}]", exe.module


ITEMS = corpus.all_items()


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_corpus_module_listing_matches_iree_dump_module(item):
    data = _compiled(item)
    if item.expect in EXPECTED_ERRORS:  # a module IREE 3.13 itself mis-encodes: rejected
        with pytest.raises(EXPECTED_ERRORS[item.expect]):
            load_module(data)
        return
    mod = load_module(data)
    tool = _tool("iree-dump-module")
    blobs = {"host": data}
    blobs.update({f"rodata[{e.rodata_ordinal}]": mod.defn.rodata[e.rodata_ordinal].data
                  for e in mod.executables})
    compared = 0
    for label, m in _modules(mod):
        reference = complete_function_bodies(blobs[label], tool)
        assert reference, f"{label}: iree-dump-module printed no function"
        # iree-dump-module's order is not always ordinal order: pair by name, then by order
        # among functions sharing a name (a host module can have two `__init`s).
        pending = {}
        for fn in m.functions:
            pending.setdefault(fn.name, []).append(fn)
        for name, lines in reference:
            assert pending.get(name), f"{label}: iree-dump-module lists unknown function {name}"
            fn = pending[name].pop(0)
            if any(ins.op.name in DISASSEMBLER_BUGS for ins in fn.instrs()):
                continue
            mine = [line.strip() for line in function_lines(fn, m.defn)[1:-1]]
            assert [op_name(x) for x in mine] == [op_name(x) for x in lines], f"{label} {name}"
            assert mine == lines, f"{label} {name}"
            compared += 1
    assert compared


def test_corpus_covers_the_opcode_table():
    """Reports (and bounds from below) how many opcode rows the corpus exercises."""
    seen = set()
    for item, data in corpus.compiled(ITEMS):
        if item.expect in EXPECTED_ERRORS:
            continue
        mod = load_module(data)
        for _, m in _modules(mod):
            for fn in m.functions:
                seen.update(ins.op for ins in fn.instrs())
    rows = [op for op in oc.OPCODES if op.layout != "block_marker"]
    missing = sorted(op.name for op in rows if op not in seen)
    print(f"\nopcode rows decoded from the corpus: {len(seen)}/{len(rows)}; missing: {missing}")
    assert len(seen) >= 200, missing
