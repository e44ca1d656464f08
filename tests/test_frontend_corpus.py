"""Every corpus module decodes, verifies, and lists exactly as `iree-dump-module` does."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import corpus
from iree_dump import complete_function_bodies, op_name
from splatjit import VerifyError, load_module
from splatjit.frontend import opcodes as oc
from splatjit.frontend.listing import function_lines

#: (corpus id, function) pairs that IREE 3.13's compiler mis-encodes (see docs/ARCHITECTURE.md).
KNOWN_BAD_ENCODINGS = {"vm/globals_f32_indirect"}


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
    if item.id in KNOWN_BAD_ENCODINGS:
        with pytest.raises(VerifyError, match="not even-aligned"):
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
        for fn, (name, lines) in zip(m.functions, reference):  # both in ordinal order
            assert fn.name == name
            mine = [line.strip() for line in function_lines(fn, m.defn)[1:-1]]
            assert [op_name(x) for x in mine] == [op_name(x) for x in lines], f"{label} {name}"
            assert mine == lines, f"{label} {name}"
            compared += 1
    assert compared


def test_corpus_covers_the_opcode_table():
    """Reports (and bounds from below) how many opcode rows the corpus exercises."""
    seen = set()
    for item in ITEMS:
        try:
            data = corpus.compile_item(item)
        except corpus.CompileFailure:
            continue
        if item.id in KNOWN_BAD_ENCODINGS:
            continue
        mod = load_module(data)
        for _, m in _modules(mod):
            for fn in m.functions:
                seen.update(ins.op for ins in fn.instrs())
    rows = [op for op in oc.OPCODES if op.layout != "block_marker"]
    missing = sorted(op.name for op in rows if op not in seen)
    print(f"\nopcode rows decoded from the corpus: {len(seen)}/{len(rows)}; missing: {missing}")
    assert len(seen) >= 200, missing
