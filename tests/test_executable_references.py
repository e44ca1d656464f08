"""How `load_module` finds a program's nested executables (`loader.executable_references`):
the rodata dataflow to `hal.executable.create`'s format and data arguments. Oracle: every
rodata segment of a corpus program that is itself a module archive is found, and nothing
else; and analysing only the functions that call the creation import finds exactly what
analysing every function finds."""
from __future__ import annotations

import corpus
from splatjit.frontend import loader
from splatjit.frontend.archive import is_archive


def _programs():
    """(id, loaded module) of every corpus module that holds nested module archives."""
    out = []
    for item in corpus.all_items():
        try:
            data = corpus.compile_item(item)
        except corpus.CompileFailure:
            continue
        try:
            mod = loader.load_module(data)
        except Exception:  # noqa: BLE001 - modules IREE mis-encodes are tested elsewhere
            continue
        if any(is_archive(seg.data) for seg in mod.defn.rodata):
            out.append((item.id, mod))
    return out


def test_every_module_archive_in_a_programs_rodata_is_found_as_a_nested_executable():
    programs = _programs()
    assert len(programs) >= 20
    for name, mod in programs:
        archives = [i for i, seg in enumerate(mod.defn.rodata) if is_archive(seg.data)]
        assert sorted(e.rodata_ordinal for e in mod.executables) == archives, name
        assert all(e.format == "vmvx-bytecode-fb" and e.module.functions
                   for e in mod.executables), name


def test_analysing_only_the_callers_of_the_creation_import_finds_the_same_pairs(monkeypatch):
    programs = _programs()
    skipped = 0
    for name, mod in programs:
        wanted = {i | 0x80000000 for i, imp in enumerate(mod.defn.imports)
                  if imp.name in loader.EXECUTABLE_CREATE_ARGS}
        skipped += sum(not loader._calls_any(fn, wanted) for fn in mod.functions)
        found = loader.executable_references(mod.defn, mod.functions)
        with monkeypatch.context() as m:
            m.setattr(loader, "_calls_any", lambda fn, callees: True)
            assert loader.executable_references(mod.defn, mod.functions) == found, name
        assert found, name
    assert skipped > len(programs)  # most of a program's functions are not analysed
