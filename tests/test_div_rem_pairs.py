"""Division / remainder pairs (splatjit/div_rem_pairs.py).

Results and traps of tests/corpus/vm/div_rem_pairs.mlir are compared with IREE's interpreter
by the corpus differential tests on both ISAs; here: which ops pair, and that a paired op
traps at the first op's offset, as the interpreter does."""
from __future__ import annotations

import pytest

import corpus
from splatjit import TrapError
from splatjit.div_rem_pairs import pair_divisions
from splatjit.frontend.loader import load_module
from splatjit.module import JitModule
from splatjit.regalloc.webs import rename_webs

PAIRED = {"divrem_i32_s": 1, "divrem_i32_u": 1, "remdiv_i64_s": 1, "divrem_i64_u": 1,
          "floordiv_i64": 1, "delinearize_sum": 1, "no_pair_operand_changes": 0,
          "no_pair_mixed_signs": 0}


def _data():
    return corpus.compile_item(corpus.find_item("vm/div_rem_pairs"))


@pytest.mark.parametrize("name", sorted(PAIRED))
def test_which_ops_pair(name):
    loaded = load_module(_data())
    fn = next(f for f in loaded.functions if f.name == name)
    paired = pair_divisions(rename_webs(fn), fn.i32_count)
    mnemonics = [ins.op.mnemonic for ins in paired.instrs()]
    divides = [m for m in mnemonics if m.startswith(("div.", "rem."))]
    assert sum(m.startswith("jit.divrem.") for m in mnemonics) == PAIRED[name]
    assert len(divides) == (0 if PAIRED[name] else 2)
    if PAIRED[name]:
        first = next(i for i in fn.instrs() if i.op.mnemonic.startswith(("div.", "rem.")))
        pair = next(i for i in paired.instrs() if i.op.mnemonic.startswith("jit.divrem."))
        assert pair.offset == first.offset


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_a_paired_division_traps_at_the_first_op(target):
    import platform
    if target == "x86_64" and platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 code")
    data = _data()
    loaded = load_module(data)
    m = JitModule(data, target=target)
    for name, args in (("divrem_i32_s", (7, 0)), ("remdiv_i64_s", (7, 0)),
                       ("divrem_i32_s", (-2**31, -1)), ("floordiv_i64", (-2**63, -1))):
        fn = next(f for f in loaded.functions if f.name == name)
        first = next(i for i in fn.instrs() if i.op.mnemonic.startswith(("div.", "rem.")))
        with pytest.raises(TrapError) as e:
            m[name](*args)
        assert e.value.offset == first.offset, (name, args)
    assert m.delinearize_sum(1000, 7) == sum((k // 7) * (k % 7) for k in range(1000))
    assert m.remdiv_i64_s(-7, 2) == (-3, -1, -14)


def _with_op_between(fn, make):
    """`fn` (div then rem, then return) with `make(div, rem)` inserted between the two."""
    from dataclasses import replace
    block = fn.blocks[0]
    div, rem, *rest = block.instrs
    middle = make(div, rem)
    return replace(fn, blocks=[replace(block, instrs=[div, middle, rem, *rest])])


@pytest.mark.parametrize("case", ["reads remainder slot", "writes remainder slot",
                                  "writes dividend", "writes divisor"])
def test_nothing_pairs_when_an_op_between_would_see_the_difference(case):
    """Defining the remainder at the division is wrong if an op between reads or writes
    its slot (a value of the same web from elsewhere, e.g. around a loop), and pairing is
    wrong if an op between changes an operand. (After web renaming these arise only from
    loop-carried slots, so the IR is built by hand here.)"""
    from splatjit.frontend import opcodes as oc
    from splatjit.ir import Instr
    loaded = load_module(_data())
    fn = next(f for f in loaded.functions if f.name == "divrem_i32_s")
    add = oc.BY_NAME["vm.add.i32"]

    def make(div, rem):
        x, y, r = div.args["left"], div.args["right"], rem.args["result"]
        operands = {"reads remainder slot": (r, r, div.args["result"]),
                    "writes remainder slot": (x, y, r),
                    "writes dividend": (x, y, x),
                    "writes divisor": (x, y, y)}[case]
        return Instr(div.offset + 1, add, dict(zip(("left", "right", "result"), operands)), 0)

    ir = _with_op_between(fn, make)
    assert [i.op.mnemonic for i in ir.blocks[0].instrs][:3] == ["div.i32.s", "add.i32", "rem.i32.s"]
    assert pair_divisions(ir, 0) is ir
    # an op between that reads the dividend and writes an unrelated slot does not prevent
    # pairing (it must not read the divisor: IREE gave the remainder the divisor's slot)
    assert fn.blocks[0].instrs[1].args["result"] == fn.blocks[0].instrs[0].args["right"]
    bystander = _with_op_between(fn, lambda div, rem: Instr(div.offset + 1, add, {
        "left": div.args["left"], "right": div.args["left"],
        "result": type(div.args["left"])("i32", 99)}, 0))
    assert pair_divisions(bystander, 0) is not bystander
