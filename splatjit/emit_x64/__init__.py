"""x86-64 code emission: a PeachPy-style assembler (operands, one ISA table, labels, fixups).

Public surface::

    from splatjit.emit_x64 import Assembler, Label, rax, eax, xmm0, qword, dword, rip
    a = Assembler(features=None)      # None: host CPU; or an iterable such as {"avx2", "fma"}
    a.mov(rax, qword[rdi + 8]); a.ret(); code = a.finish()

Modules: `operands` (registers, memory, immediates, labels), `encoding` (REX/ModRM/SIB/VEX/
EVEX bytes), `forms` (row syntax and operand matching), `isa` (the table), `instruction`
(`Instruction` and the generic encoder), `assembler` (layout, branch relaxation, constant
pool, listing and tags), `cpu` (feature detection).
"""
from splatjit.emit_x64.assembler import Assembler
from splatjit.emit_x64.cpu import ALL_FEATURES, host_features
from splatjit.emit_x64.errors import AsmError
from splatjit.emit_x64.instruction import Instruction, encode
from splatjit.emit_x64.operands import *  # noqa: F401,F403  (registers, Mem, Label, sizes)
from splatjit.emit_x64.operands import __all__ as _operand_names

__all__ = ["Assembler", "AsmError", "Instruction", "encode", "host_features", "ALL_FEATURES",
           *_operand_names]
