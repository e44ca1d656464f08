"""Web renaming (regalloc/webs.py): structure and effect. Semantics are covered by every
differential test (corpus modules, dispatch kernels, whole programs), which all run the
renamed functions."""
from __future__ import annotations

import corpus
from splatjit import load_module
from splatjit.frontend.verifier import arg_registers, verify_function
from splatjit.regalloc.variables import classify
from splatjit.regalloc.webs import rename_webs


def _functions():
    """(function, its ModuleDef) for every function of every loadable corpus module,
    nested VMVX kernels included."""
    out = []
    for _, data in corpus.compiled(i for i in corpus.all_items() if i.expect == "ok"):
        loaded = load_module(data)
        for m in [loaded] + [e.module for e in loaded.executables]:
            out += [(fn, m.defn) for fn in m.functions]
    return out


def _promoted_slots(fn) -> int:
    return len(classify(fn).var_at)


def test_renamed_functions_verify_and_keep_ops_offsets_and_arguments():
    renamed = 0
    for fn, defn in _functions():
        new = rename_webs(fn)
        if new is fn:
            continue
        renamed += 1
        verify_function(new, defn)
        assert [(i.offset, i.op) for i in new.instrs()] == [(i.offset, i.op) for i in fn.instrs()]
        assert new.i32_count > fn.i32_count
        assert arg_registers(new.signature) == arg_registers(fn.signature)
        assert _promoted_slots(new) >= _promoted_slots(fn)
    assert renamed > 10


def test_kernels_reusing_slots_get_their_values_promoted():
    """IREE's dispatch functions reuse slots across kinds; after renaming most values of
    the matmul kernel can live in machine registers."""
    item = corpus.find_item("programs/matmul[scalar]")
    kernel = load_module(corpus.compile_item(item)).executables[0].module
    fn = kernel.functions[0]
    before, after = classify(fn), classify(rename_webs(fn))
    used = {s for ins in fn.instrs() for f in ins.op.fields for s in _slots(ins.args.get(f.name))}
    assert len(before.var_at) < len(used)          # the original leaves some in memory
    assert len(after.var_at) > len(before.var_at)  # renaming promotes more


def _slots(value):
    regs = value if isinstance(value, list) else [value]
    return [s for r in regs if hasattr(r, "slots") for s in r.slots]


def test_range_check_facts_die_with_their_registers():
    """lowering.CheckedAccesses: a second access of the same element in a block is proven
    only while neither the buffer ref nor the index is written."""
    from splatjit.ir import Reg
    from splatjit.lowering import CheckedAccesses
    item = corpus.find_item("programs/matmul[scalar]")
    fn = load_module(corpus.compile_item(item)).executables[0].module.functions[0]
    loads = [i for i in fn.instrs() if i.op.mnemonic.startswith("buffer.load")]
    ins = loads[0]
    buf, index = ins.args["source_buffer"], ins.args["source_offset"]
    facts = CheckedAccesses()
    assert not facts.proven(buf, index, 4, False)
    facts.add(buf, index, 4, False)
    assert facts.proven(buf, index, 4, False)
    assert not facts.proven(buf, index, 4, True)      # a load proves nothing about writes
    assert not facts.proven(buf, index, 8, False)     # nor about wider elements
    facts.kill(ins)                                   # the load writes neither
    assert facts.proven(buf, index, 4, False)
    from splatjit.frontend import opcodes as oc
    writer = next(i for i in fn.instrs()
                  if any(isinstance(i.args.get(f.name), Reg) and f.kind is oc.DST
                         and set(i.args[f.name].slots) & set(index.slots) for f in i.op.fields))
    facts.kill(writer)
    assert not facts.proven(buf, index, 4, False)
    facts.add(buf, index, 4, True)
    facts.reset()
    assert not facts.proven(buf, index, 4, False)
