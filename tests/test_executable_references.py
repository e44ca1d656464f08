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
    for item, data in corpus.compiled(corpus.all_items()):
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


def test_a_call_reached_only_through_a_back_edge_is_seen_on_a_later_pass():
    """Block 1 makes the call but is entered only from block 2 (a back edge), which loads
    the rodata: the first pass skips block 1 (no facts yet), a second pass finds the pair.
    And with a second way in that loads nothing, nothing is known at the call."""
    from splatjit.frontend.cconv import parse_cconv
    from splatjit.frontend.opcodes import BY_NAME
    from splatjit.frontend.schema import ImportDef
    from splatjit.ir import Block, Function, Instr, Reg, Successor

    def ref(i):
        return Reg("ref", i)

    def ins(name, **args):
        return Instr(0, BY_NAME["vm." + name], args, 1)

    create = 0x80000000
    operands = [ref(2), ref(2), ref(0), ref(1)]  # (format, data) at 2, 3
    blocks = [
        Block(0, 0, [ins("br", dest_pc=Successor(20, 2, ()))]),
        Block(1, 10, [ins("call", callee_ordinal=create, operands=operands, results=[]),
                      ins("return", operands=[])]),
        Block(2, 20, [ins("const.ref.rodata", rodata=5, value=ref(0)),
                      ins("const.ref.rodata", rodata=6, value=ref(1)),
                      ins("br", dest_pc=Successor(10, 1, ()))]),
    ]
    sig = parse_cconv("0v_v")
    fn = Function("m", "f", 0, sig, 0, 3, 0, blocks, 0)

    class Defn:  # what executable_references reads of a ModuleDef
        imports = [ImportDef("hal.executable.create", parse_cconv("0rrrr_r"), {}, False)]

    assert loader.executable_references(Defn, [fn]) == [(5, 6)]
    # a second way into block 1, straight from the entry, where nothing is loaded: only
    # facts that hold on both edges hold at the call
    blocks[0].instrs[0] = ins("cond_br", condition=Reg("i32", 0),
                              true_dest_pc=Successor(20, 2, ()), false_dest_pc=Successor(10, 1, ()))
    assert loader.executable_references(Defn, [fn]) == []


def test_unverified_functions_are_analysed_without_error():
    """tools/prof_frontend.py runs the analysis on the bare decoder's functions, whose
    successors name no block yet (`Successor.block` is None): no error, and no pair that
    the verified functions do not give."""
    from splatjit.frontend.decoder import decode_module_functions
    for name, mod in _programs():
        bare = decode_module_functions(mod.defn)
        assert any(s.block is None for fn in bare for b in fn.blocks for i in b.instrs
                   for s in loader._successors(i, loader._effects(i.op)))
        pairs = loader.executable_references(mod.defn, bare)
        assert set(pairs) <= set(loader.executable_references(mod.defn, mod.functions)), name


def test_a_ref_overwritten_before_the_call_no_longer_names_the_rodata():
    from splatjit.frontend.cconv import parse_cconv
    from splatjit.frontend.opcodes import BY_NAME
    from splatjit.frontend.schema import ImportDef
    from splatjit.ir import Block, Function, Instr, Reg

    def ins(name, **args):
        return Instr(0, BY_NAME["vm." + name], args, 1)

    class Defn:
        imports = [ImportDef("hal.executable.create", parse_cconv("0rrrr_r"), {}, False),
                   ImportDef("hal.other", parse_cconv("0v_r"), {}, False)]

    create, other = 0x80000000, 0x80000001
    operands = [Reg("ref", 2), Reg("ref", 2), Reg("ref", 0), Reg("ref", 1)]

    def pairs(overwrite):
        body = [ins("const.ref.rodata", rodata=5, value=Reg("ref", 0)),
                ins("const.ref.rodata", rodata=6, value=Reg("ref", 1)),
                overwrite,
                ins("call", callee_ordinal=create, operands=operands, results=[]),
                ins("return", operands=[])]
        fn = Function("m", "f", 0, parse_cconv("0v_v"), 0, 3, 0, [Block(0, 0, body)], 0)
        return loader.executable_references(Defn, [fn])

    assert pairs(ins("const.ref.zero", result=Reg("ref", 2))) == [(5, 6)]  # another register
    assert pairs(ins("const.ref.zero", result=Reg("ref", 1))) == []         # a ref destination
    assert pairs(ins("call", callee_ordinal=other, operands=[],              # a result list
                     results=[Reg("ref", 0)])) == []
    assert pairs(ins("const.ref.rodata", rodata=7, value=Reg("ref", 1))) == [(5, 7)]


def test_calls_of_every_kind_are_analysed():
    """`_calls_any` skips ops by kind: each op that names a callee (plain, variadic and
    yieldable calls) is looked into, and its pair found."""
    from splatjit.frontend.cconv import parse_cconv
    from splatjit.frontend.opcodes import OPCODES
    from splatjit.frontend.schema import ImportDef
    from splatjit.ir import Block, Function, Instr, Reg, Successor

    class Defn:
        imports = [ImportDef("hal.executable.create", parse_cconv("0rrrr_r"), {}, False)]

    calls = [op for op in OPCODES if any(f.name == "callee_ordinal" for f in op.fields)]
    assert {op.mnemonic for op in calls} >= {"call", "call.variadic"}
    operands = [Reg("ref", 2), Reg("ref", 2), Reg("ref", 0), Reg("ref", 1)]
    for op in calls:
        args = {f.name: [] for f in op.fields}
        args.update({name: [] if is_list else Successor(0, 0, ()) for name, is_list in op.edge_fields})
        args.update(callee_ordinal=0x80000000, operands=operands)
        body = [Instr(0, next(o for o in OPCODES if o.mnemonic == "const.ref.rodata"),
                      {"rodata": 5, "value": Reg("ref", 0)}, 1),
                Instr(0, next(o for o in OPCODES if o.mnemonic == "const.ref.rodata"),
                      {"rodata": 6, "value": Reg("ref", 1)}, 1),
                Instr(0, op, args, 1)]
        fn = Function("m", "f", 0, parse_cconv("0v_v"), 0, 3, 0, [Block(0, 0, body)], 0)
        assert loader.executable_references(Defn, [fn]) == [(5, 6)], op.mnemonic
