"""AArch64 assembler (PeachPy-style): typed operands, one form table, labels and fixups.

    from splatjit.emit_a64 import Assembler, mem, x0, x1, w0, w1, w2
    a = Assembler()
    a.madd(w0, w0, w1, w2)
    a.ldr(x0, mem(x1, 8))
    a.ret()
    code = a.finish()

Modules: `operands` (registers, memory, labels), `encoding` (bit fields, bitmask and FP
immediates, constant materialisation), `specs` (the operand-token vocabulary of the
table), `isa` (the form table), `aliases` (mov/cmp/lsl/cset...), `assembler` (emission,
layout, veneers, literal pool, listing, tags).
"""
from .assembler import Assembler
from .isa import FORMS, FORMS_BY_MNEMONIC, FORMS_BY_NAME, Form
from .operands import *  # noqa: F401,F403  x0-x30, w0-w30, sp, xzr, v0-v31, s0.., d0.., q0..
from .operands import __all__ as _operand_names

__all__ = ["Assembler", "Form", "FORMS", "FORMS_BY_MNEMONIC", "FORMS_BY_NAME",
           *_operand_names]
