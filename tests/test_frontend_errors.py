"""Targeted bad-input cases: each names what is wrong and where, as a SplatJitError subclass."""
from __future__ import annotations

from pathlib import Path

import pytest

from splatjit import DecodeError, FormatError, SplatJitError, VerifyError, load_module
from vmfb_edit import instr_position, patch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOOP_SUM = (EXAMPLES / "loop_sum.vmfb").read_bytes()
MATMUL = (EXAMPLES / "matmul.vmfb").read_bytes()


def test_bundled_examples_load():
    mod = load_module(LOOP_SUM)
    assert [f.name for f in mod.functions] == ["loop_sum"]
    assert [i.op.mnemonic for i in mod.functions[0].instrs()] == [
        "const.i32", "const.i32.zero", "br", "add.i32", "add.i32", "cmp.lt.i32.s", "cond_br",
        "return"]
    mm = load_module(MATMUL)
    assert [e.format for e in mm.executables] == ["vmvx-bytecode-fb"]
    kernel = mm.executables[0].module
    assert kernel.functions[0].name.startswith("main_dispatch_0_matmul")


def test_unknown_opcode_is_a_decode_error_with_offset():
    pos, ins = instr_position(LOOP_SUM, "loop_sum", "add.i32")
    bad = patch(LOOP_SUM, pos - 1, "<B", 0xC7)
    with pytest.raises(DecodeError, match=rf"module\.loop_sum\+0x{ins.offset:x}: unknown opcode 0xC7"):
        load_module(bad)


def test_register_out_of_range():
    pos, ins = instr_position(LOOP_SUM, "loop_sum", "add.i32")
    bad = patch(LOOP_SUM, pos + 4, "<H", 200)  # result register
    with pytest.raises(VerifyError, match=rf"\+0x{ins.offset:x}: result: register %i200 out of range"):
        load_module(bad)


def test_ref_register_where_i32_expected():
    pos, _ = instr_position(LOOP_SUM, "loop_sum", "add.i32")
    with pytest.raises(DecodeError, match="i32 register expected, got ref register"):
        load_module(patch(LOOP_SUM, pos, "<H", 0x8000))


def test_branch_target_must_be_a_block_start():
    pos, ins = instr_position(LOOP_SUM, "loop_sum", "br")
    with pytest.raises(VerifyError, match=r"branch target 0x5 is not a block start"):
        load_module(patch(LOOP_SUM, pos, "<I", 5))


def test_wide_register_must_be_even_aligned():
    kernel_bytes = load_module(MATMUL).defn.rodata[4].data
    pos, _ = instr_position(kernel_bytes, load_module(kernel_bytes).functions[0].name, "add.i64")
    with pytest.raises(VerifyError, match="not even-aligned"):
        load_module(patch(kernel_bytes, pos, "<H", 3))


def test_call_signature_mismatch():
    # hal.buffer_view.buffer(r) -> r retargeted at hal.fence.create(r, I) -> r: one operand short.
    pos, ins = instr_position(MATMUL, "main", "call")
    assert load_module(MATMUL).defn.imports[ins.args["callee_ordinal"] & 0xFFFF].name == \
        "hal.buffer_view.buffer"
    with pytest.raises(VerifyError, match=r"call operands: 1 registers for 2 values"):
        load_module(patch(MATMUL, pos, "<I", 0x80000000 | 16))


def test_import_ordinal_out_of_range():
    pos, _ = instr_position(MATMUL, "main", "call")
    with pytest.raises(VerifyError, match="import ordinal 99 out of range"):
        load_module(patch(MATMUL, pos, "<I", 0x80000000 | 99))


def test_rodata_ordinal_out_of_range():
    pos, _ = instr_position(MATMUL, "main", "const.ref.rodata")
    with pytest.raises(VerifyError, match="rodata ordinal 77 out of range"):
        load_module(patch(MATMUL, pos, "<I", 77))


def test_bad_file_identifier():
    data = bytearray(LOOP_SUM)
    i = data.index(b"IREE")
    data[i:i + 4] = b"XXXX"
    with pytest.raises(FormatError, match="identifier"):
        load_module(bytes(data))


@pytest.mark.parametrize("data", [b"", b"PK", b"\0" * 15, b"\xff" * 64])
def test_garbage_is_a_format_error(data):
    with pytest.raises(FormatError):
        load_module(data)


def test_every_truncation_is_rejected_cleanly():
    for n in range(0, len(LOOP_SUM), 7):
        try:
            load_module(LOOP_SUM[:n])
        except SplatJitError:
            continue
        # A prefix may still hold the whole FlatBuffer (the ZIP trailer is optional to us).
        assert n > 600, f"truncation at {n} bytes was accepted"


def test_not_bytes_is_a_format_error():
    with pytest.raises(FormatError, match="must be bytes"):
        load_module("not bytes")


@pytest.mark.parametrize("slot,value", [(1, 917_962_755), (1, (1 << 20) + 1), (0, (1 << 30) + 1)])
def test_huge_module_state_is_refused_at_load(slot, value):
    """A module asking for absurd global storage (a fuzzer found 917M ref globals) is
    refused by the loader instead of exhausting memory after the first call."""
    from splatjit import UnsupportedError
    from splatjit.module import JitModule
    from vmfb_edit import module_state_field
    import corpus
    data = corpus.compile_item(corpus.find_item("vm/globals"))
    pos = module_state_field(data, slot)
    assert load_module(patch(data, pos, "<i", (1 << 20) if slot else (1 << 30))) is not None
    bad = patch(data, pos, "<i", value)
    with pytest.raises(UnsupportedError, match="splatjit allows at most"):
        load_module(bad)
    with pytest.raises(UnsupportedError, match="splatjit allows at most"):
        JitModule(bad)
