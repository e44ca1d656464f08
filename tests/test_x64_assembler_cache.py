"""The assembler's shortcuts against the table path: an instruction encoded once and reused
(label-free ones by operands, label-naming ones by shape with the label left open) must give
the bytes, listing and tags that matching and encoding each instruction afresh gives.

The reference here is the plain algorithm: `Instruction` + `encode` per instruction, the
rel8 -> rel32 fixed point over the whole stream, `Encoded.resolve` for every fixup.
"""
from __future__ import annotations

import keyword
import random

import pytest

from splatjit.emit_x64 import ALL_FEATURES, Assembler, Label, encode
from splatjit.emit_x64.encoding import fits_int8, nop_padding
from splatjit.emit_x64.instruction import Instruction
from splatjit.emit_x64.isa import TABLE
from splatjit.emit_x64.operands import Mem, RipRel, fmt_num
from test_x64_encoding import random_operand


class ReferenceAssembler:
    """Instructions, labels, alignment and raw bytes, laid out the simple way."""

    def __init__(self, features):
        self.features, self.items = features, []

    def insn(self, insn: Instruction, tag) -> None:
        forms = insn.forms_for(self.features)
        short = (forms[0], encode(forms[0], insn.operands))
        long = None
        if forms[0].rel_size == 1:
            f = next(f for f in forms if f.rel_size == 4)
            long = (f, encode(f, insn.operands))
        self.items.append(["insn", insn, tag, short, long, False])

    def finish(self):
        while True:
            addrs, starts, off = {}, {}, 0
            for k, it in enumerate(self.items):
                if it[0] == "insn":
                    starts[k] = off
                    off += len((it[4] if it[5] else it[3])[1].data)
                elif it[0] == "label":
                    addrs[it[1]] = off
                elif it[0] == "align":
                    off += -off % it[1]
                else:
                    off += len(it[1])
            grown = False
            for k, it in enumerate(self.items):
                if it[0] == "insn" and it[4] is not None and not it[5]:
                    enc = it[3][1]
                    if not fits_int8(addrs[enc.fixups[0].label] - (starts[k] + len(enc.data))):
                        it[5] = grown = True
            if not grown:
                break
        code, listing, tags = bytearray(), [], {}
        for it in self.items:
            if it[0] == "insn":
                form, enc = it[4] if it[5] else it[3]
                listing.append((len(code), form.format(it[1].operands)))
                if it[2] is not None:
                    tags[len(code)] = it[2]
                code += enc.resolve(len(code), addrs)
            elif it[0] == "align":
                code += nop_padding(-len(code) % it[1])
            elif it[0] == "data":
                listing.append((len(code), ".byte " + ", ".join(fmt_num(b) for b in it[1])))
                code += it[1]
        return bytes(code), listing, tags, addrs


FORMS = [f for f in TABLE.forms if f.features <= ALL_FEATURES]


def random_instruction(rng: random.Random, labels: list[Label]) -> tuple[str, tuple]:
    """A random form's mnemonic and operands; branch targets and some memory operands name
    one of `labels` (RIP-relative)."""
    while True:
        form = rng.choice(FORMS)
        ops = []
        for p in form.patterns:
            op = random_operand(rng, p, form)
            if isinstance(op, Label):
                op = rng.choice(labels)
            elif isinstance(op, (Mem, RipRel)) and rng.random() < 0.3:
                op = RipRel(rng.choice(labels), op.size, rng.choice((0, 4, -8, 1000)))
            ops.append(op)
        try:
            Instruction(form.mnemonic, *ops).forms_for(ALL_FEATURES)
        except Exception:  # noqa: BLE001 - e.g. an ambiguous size: draw again
            continue
        return form.mnemonic, tuple(ops)


def method(a: Assembler, mnemonic: str):
    return getattr(a, mnemonic + "_" if keyword.iskeyword(mnemonic) else mnemonic)


def build(seed: int):
    """One random program through both assemblers; the programs repeat instructions (within
    and across seeds) so that the shortcuts' caches are hit."""
    rng = random.Random(seed)
    labels = [Label(f"L{seed}.{i}") for i in range(6)]
    pool = [random_instruction(rng, labels) for _ in range(25)]
    a, ref = Assembler(ALL_FEATURES), ReferenceAssembler(ALL_FEATURES)
    unbound = list(labels)
    rng.shuffle(unbound)
    for step in range(160):
        tag = rng.choice((None, step, (1, step)))
        a.set_tag(tag)
        r = rng.random()
        if r < 0.04 and unbound:
            label = unbound.pop()
            a.label(label)
            ref.items.append(["label", label])
        elif r < 0.06:
            n = rng.choice((4, 16, 32))
            a.align(n)
            ref.items.append(["align", n])
        elif r < 0.08:
            data = bytes(rng.randrange(256) for _ in range(rng.choice((1, 3, 40, 130))))
            a.db(data)
            ref.items.append(["data", data])
        else:
            mnemonic, ops = rng.choice(pool)
            method(a, mnemonic)(*ops)
            ref.insn(Instruction(mnemonic, *ops), tag)
    for label in unbound:
        a.label(label)
        ref.items.append(["label", label])
    return a, ref, labels


@pytest.mark.parametrize("seed", range(40))
def test_shortcuts_give_the_table_path_bytes_listing_and_tags(seed: int) -> None:
    a, ref, labels = build(seed)
    code, listing, tags, addrs = ref.finish()
    assert a.finish() == code
    assert a.listing == listing
    assert a.tag_map == tags
    assert [a.label_offset(lbl) for lbl in labels] == [addrs[lbl] for lbl in labels]


def test_an_instruction_hand_built_or_named_twice_encodes_alike() -> None:
    """`emit(Instruction)` (its validated operands key a cache entry of their own), the
    method (cache filled) and again (cache hit)."""
    rng = random.Random(7)
    target = Label("target")
    for _ in range(300):
        mnemonic, ops = random_instruction(rng, [target])
        outs = []
        for how in ("emit", "method", "method"):
            a = Assembler(ALL_FEATURES)
            if how == "emit":
                a.emit(Instruction(mnemonic, *ops))
            else:
                method(a, mnemonic)(*ops)
            a.label(target)
            outs.append((a.finish(), a.listing))
        assert outs[0] == outs[1] == outs[2], (mnemonic, ops)


#: Immediates around every power-of-two boundary the forms' fields have: inside and outside
#: the wide range the assembler patches (`assembler._emit_wide`), so a reused encoding must
#: never stand in for a value that selects another form.
EDGE_IMMS = sorted({s * (1 << k) + d for k in (7, 8, 15, 16, 31, 32, 62, 63) for s in (1, -1)
                    for d in (-129, -128, -1, 0, 1, 127)} | {(1 << 64) - 1, (1 << 64) - 128})


def test_a_reused_wide_immediate_encoding_equals_the_table_path() -> None:
    """Every form with an immediate, each edge value in turn through one shape (so the shape's
    wide encoding is reused for the later values): bytes, listing and the returned
    instruction's operands are those of matching and encoding each afresh, and a value no
    form takes still raises."""
    rng = random.Random(11)
    for form in FORMS:
        if not any(p.kind == "imm" for p in form.patterns):
            continue
        base = [random_operand(rng, p, form) for p in form.patterns]
        k = next(i for i, p in enumerate(form.patterns) if p.kind == "imm")
        for value in EDGE_IMMS:
            ops = tuple(value if i == k else op for i, op in enumerate(base))
            try:
                ref = Instruction(form.mnemonic, *ops)
                forms = ref.forms_for(ALL_FEATURES)
            except Exception:  # noqa: BLE001 - no form takes the value (or size ambiguous)
                with pytest.raises(Exception):
                    method(Assembler(ALL_FEATURES), form.mnemonic)(*ops)
                continue
            a = Assembler(ALL_FEATURES)
            got = method(a, form.mnemonic)(*ops)
            assert a.finish() == encode(forms[0], ref.operands).data, (form, value)
            assert a.listing == [(0, forms[0].format(ref.operands))]
            assert got.operands == ref.operands and got.forms == ref.forms
