"""Operands (construction, address arithmetic, errors naming the form), form selection
(shortest encoding, VEX before EVEX), immediate ranges and REX rules.
"""
from __future__ import annotations

import capstone
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splatjit.emit_x64 import ALL_FEATURES, AsmError, Instruction, Label
from splatjit.emit_x64.instruction import encode_instruction
from splatjit.emit_x64.operands import (GPR, GPR64, XMM, Imm, Mem, RipRel, al, byte, dil, dword,
                                        eax, ebx, ecx, ptr, qword, r8, r8b, r12, r13, rax,
                                        rbp, rbx, rcx, rdi, rip, rsp, sil, spl, xmm0, xmm1, xmm2,
                                        xmm3, xmm8, xmm16, xmm17, ymm3, zmm17)
from splatjit.errors import SplatJitError

CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def hexcode(mnemonic: str, *ops) -> str:
    return encode_instruction(Instruction(mnemonic, *ops), ALL_FEATURES).data.hex()


# --------------------------------------------------------------------------- registers

def test_register_views_and_rex_needs() -> None:
    assert rax.d is eax and eax.q is rax and rax.b is al and r8.b is r8b and ebx.w.name == "bx"
    assert xmm3.y == ymm3 and zmm17.x == xmm17 and XMM(17) == xmm17
    assert spl.needs_rex and sil.needs_rex and r8b.needs_rex and not al.needs_rex
    assert {rax: 1}[GPR(0, 64)] == 1
    with pytest.raises(AttributeError):
        rax.num = 3
    for bad in (lambda: GPR(16, 64), lambda: GPR(0, 12), lambda: XMM(32)):
        with pytest.raises(AsmError):
            bad()


def test_asm_error_is_a_splatjit_error() -> None:
    assert issubclass(AsmError, SplatJitError)


# --------------------------------------------------------------------------- memory operands

def test_address_expressions_build_memory_operands() -> None:
    assert qword[rsp + 8] == Mem(rsp, disp=8, size=64)
    assert dword[rax + rcx * 4 + 16] == Mem(rax, rcx, 4, 16, 32)
    assert dword[16 + 4 * rcx + rax] == Mem(rax, rcx, 4, 16, 32)
    assert byte[rcx * 2 - 1] == Mem(None, rcx, 2, -1, 8)
    assert ptr[rax + rsp] == Mem(rsp, rax)                  # rsp can only be the base
    assert qword[rbx] == Mem(rbx, size=64) and dword[0x1000] == Mem(disp=0x1000, size=32)
    label = Label("k")
    assert qword[label] == RipRel(label, 64) and dword[rip + label + 8] == RipRel(label, 32, 8)
    assert dword[rip - 16] == RipRel(-16, 32)


def test_memory_operand_text_matches_capstone_style() -> None:
    assert str(qword[rax + rcx * 4 + 16]) == "qword ptr [rax + rcx*4 + 0x10]"
    assert str(dword[rbp - 9]) == "dword ptr [rbp - 9]"
    assert str(ptr[rcx * 8]) == "[rcx*8]"
    assert str(dword[-10]) == "dword ptr [0xfffffffffffffff6]"
    assert str(Instruction("lea", rax, rip + 8)) == "lea rax, [rip + 8]"
    assert str(Instruction("movss", xmm0, ptr[rdi])) == "movss xmm0, dword ptr [rdi]"


@pytest.mark.parametrize("build, message", [
    (lambda: rax + rsp * 2, "rsp cannot be the index"),
    (lambda: rax + rcx * 3, "scale 3"),
    (lambda: eax + 4, "64-bit GPR"),
    (lambda: rax + 2**31, "int32"),
    (lambda: rax + rbx + rcx, "too many registers"),
    (lambda: Mem(scale=2), "without an index"),
    (lambda: qword[xmm0], "cannot address"),
    (lambda: Mem(rax, size=24), "size 24"),
])
def test_illegal_memory_operands_name_the_form(build, message) -> None:
    with pytest.raises(AsmError, match=message) as info:
        build()
    assert "[base + index*scale + disp]" in str(info.value) or "size" in message


# --------------------------------------------------------------------------- instruction validation

@pytest.mark.parametrize("args, message", [
    (("add", rax, 0x80000000), r"immediate does not fit.*add r/m64, imm32"),
    (("mov", eax, rbx), "no such form"),
    (("add", ptr[rax], 1), "ambiguous"),
    (("cvtsi2ss", xmm0, ptr[rax]), "ambiguous"),
    (("frobnicate",), "unknown"),
    (("addps", xmm16, xmm0), "no such form"),
    (("shl", eax, 256), "immediate does not fit"),
    (("mov", rax, 1.5), "not an x86-64 operand"),
    (("jmp", 0x1000), "no such form"),
])
def test_invalid_instructions_raise_at_construction(args, message) -> None:
    with pytest.raises(AsmError, match=message):
        Instruction(*args)


# --------------------------------------------------------------------------- form selection

@pytest.mark.parametrize("args, expect", [
    (("add", eax, 1), "83c001"),
    (("add", eax, 1000), "05e8030000"),
    (("add", ecx, 1000), "81c1e8030000"),
    (("add", al, 5), "0405"),
    (("add", rax, 0xFFFFFFFFFFFFFFFF), "4883c0ff"),          # -1 as an unsigned 64-bit value
    (("add", eax, 0xFFFFFFFF), "83c0ff"),
    (("and", rax, -0x80000000), "482500000080"),
    (("mov", eax, 5), "b805000000"),
    (("mov", rax, -1), "48c7c0ffffffff"),
    (("mov", rax, 0xFFFFFFFF), "48b8ffffffff00000000"),     # not sign-extendable: movabs
    (("movabs", rax, 1), "48b80100000000000000"),
    (("mov", al, sil), "4088f0"),
    (("movzx", eax, dil), "400fb6c7"),
    (("mov", r12, qword[r13]), "4d8b6500"),
    (("push", r12), "4154"),
    (("push", -1), "6aff"),
    (("test", eax, dword[rcx]), "8501"),                    # r, r/m: same bytes as r/m, r
    (("shl", eax, 1), "d1e0"),
    (("vaddps", xmm0, xmm1, xmm2), "c5f058c2"),              # 2-byte VEX
    (("vaddps", xmm0, xmm1, xmm8), "c4c17058c0"),            # 3-byte VEX (B)
    (("vaddps", xmm16, xmm1, xmm2), "62e1740858c2"),         # EVEX only for xmm16+
])
def test_shortest_form_is_selected(args, expect) -> None:
    assert hexcode(*args) == expect
    insn = next(CS.disasm(bytes.fromhex(expect), 0))
    assert insn.size == len(expect) // 2


def test_immediate_is_typed() -> None:
    assert Imm(5) == Instruction("add", eax, 5).operands[1]
    with pytest.raises(AsmError):
        Imm(2**64)
    with pytest.raises(AsmError):
        Imm(True)


# --------------------------------------------------------------------------- property: addressing

regs = st.sampled_from(list(GPR64) + [None])
index_regs = st.sampled_from([r for r in GPR64 if r is not rsp] + [None])


@settings(max_examples=400, deadline=None)
@given(base=regs, index=index_regs, scale=st.sampled_from([1, 2, 4, 8]),
       disp=st.integers(-2**31, 2**31 - 1), dest=st.sampled_from(list(GPR64)))
def test_lea_of_any_address_decodes_to_the_same_text(base, index, scale, disp, dest) -> None:
    mem = Mem(base, index, scale if index is not None else 1, disp)
    built = (base if base is not None else 0) + (index * mem.scale if index is not None else 0)
    if isinstance(built, Mem):
        assert built + disp == mem
    data = bytes.fromhex(hexcode("lea", dest, mem))
    insn = next(CS.disasm(data, 0))
    assert insn.size == len(data)
    assert f"{insn.mnemonic} {insn.op_str}" == f"lea {dest}, {mem}"
