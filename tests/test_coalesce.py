"""Remap coalescing (regalloc/coalesce.py): what it rewrites. Its semantics are held by the
differential tests of every corpus module (vm/remaps.mlir has the loops where coalescing
must *not* happen: the old value still read after the new one, swaps, wide values)."""
from __future__ import annotations

import corpus
from splatjit import load_module
from splatjit.frontend.verifier import verify_function
from splatjit.regalloc.coalesce import coalesce_remaps
from splatjit.regalloc.webs import rename_webs
from test_webs import _functions as _all_functions


def _functions(name: str):
    loaded = load_module(corpus.compile_item(corpus.find_item(name)))
    return loaded, {fn.name: rename_webs(fn) for fn in loaded.functions}


def _br_pairs(fn) -> int:
    return sum(len(ins.args["dest_pc"].remap) for ins in fn.instrs() if ins.op.mnemonic == "br")


def test_accumulator_is_computed_into_its_block_argument():
    _, fns = _functions("vm/buffer_reduce")
    fn = fns["buffer_reduce"]
    out = coalesce_remaps(fn)
    assert _br_pairs(out) < _br_pairs(fn)
    back = [ins for ins in out.instrs() if ins.op.mnemonic == "br"][-1]
    add = [ins for ins in out.instrs() if ins.op.mnemonic == "add.i32"][-1]
    assert back.args["dest_pc"].remap == ()
    assert add.args["result"] == add.args["left"]  # acc = acc + v, in place


def test_pairs_whose_destination_is_still_read_stay():
    loaded, fns = _functions("vm/remaps")
    for name, fn in fns.items():
        out = coalesce_remaps(fn)
        verify_function(out, loaded.defn)
        body = out.blocks[2]  # ^body: its back edge
        # the pair carrying the value whose old version is read later stays
        old_read_later = {"read_after_def": 1, "swap": 1, "wide": 2}[name]
        assert len(body.instrs[-1].args["dest_pc"].remap) >= old_read_later, name


def test_coalesced_functions_verify_and_shrink_remaps():
    changed = 0
    for fn, defn in _all_functions():  # every corpus function, VMVX kernels included
        fn = rename_webs(fn)
        out = coalesce_remaps(fn)
        if out is fn:
            continue
        changed += 1
        verify_function(out, defn)
        assert _br_pairs(out) < _br_pairs(fn)
        assert [i.offset for i in out.instrs()] == [i.offset for i in fn.instrs()]
    assert changed >= 5
