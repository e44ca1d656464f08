"""The AArch64 assembler's encoding cache against the uncached path: a program emitted with
every lookup missing (each instruction selected, matched and encoded afresh) and the same
program emitted again (every instruction found in the cache, labels other than the cached
ones filled in) give the same words, listing and tags."""
from __future__ import annotations

import random

import pytest

from splatjit.emit_a64 import Assembler, isa
from splatjit.emit_a64 import assembler as asm_module
from splatjit.emit_a64.operands import GPR, Label
from splatjit.emit_a64.specs import LABEL_BITS
from test_a64_encoding import gen_operands


class _Forgetful(dict):
    """An encoding cache that never finds anything."""

    def get(self, key, default=None):
        return default


def program(seed: int):
    """(kind, ...) steps: table instructions (branches and literal loads to labels of the
    program), aliases with immediates, labels (each bound once), alignment."""
    rng = random.Random(seed)
    labels = [Label(f"L{seed}.{i}") for i in range(4)]
    unbound = list(labels)
    steps = []
    for _ in range(60):
        r = rng.random()
        if r < 0.06 and unbound:
            steps.append(("label", unbound.pop(rng.randrange(len(unbound)))))
        elif r < 0.08:
            steps.append(("align", rng.choice((8, 16))))
        elif r < 0.2:
            reg = GPR(rng.randrange(31), rng.choice((32, 64)))
            value = rng.choice((0, 1, 0xFFF, 0xFFFF, 0x12345678, rng.randrange(1 << reg.width)))
            steps.append(("alias", "cmp" if value < 4096 and rng.random() < 0.5 else "mov",
                          reg, value))
        else:
            form = rng.choice(isa.FORMS)
            ops = gen_operands(form, rng)
            ops = tuple(rng.choice(labels) if spec.reloc in LABEL_BITS else op
                        for spec, op in zip(form.specs, ops))
            steps.append(("insn", form.mnemonic, ops))
    return steps + [("label", lbl) for lbl in unbound]


def assemble(steps):
    a = Assembler()
    for k, step in enumerate(steps):
        a.tag = k if k % 3 else None
        if step[0] == "label":
            a.bind(step[1])
        elif step[0] == "align":
            a.align(step[1])
        elif step[0] == "alias":
            getattr(a, step[1])(step[2], step[3])
        else:
            a.emit(step[1], *step[2])
    return a.finish(), a.listing, a.tags


@pytest.mark.parametrize("seed", range(25))
def test_cached_encodings_match_fresh_ones(seed: int, monkeypatch) -> None:
    steps = program(seed)
    with monkeypatch.context() as m:
        m.setattr(asm_module, "_ENCODED", _Forgetful())
        fresh = assemble(steps)
    assemble(steps)                       # fills the cache
    assert assemble(steps) == fresh       # every instruction a cache hit
