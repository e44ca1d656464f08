"""Locating and patching the bytecode of a `.vmfb`, for targeted-mutation tests."""
from __future__ import annotations

import struct

from splatjit.frontend.archive import _strip_zip_header
from splatjit.frontend.flatbuffer import Buffer
from splatjit.frontend.loader import load_module


def bytecode_base(data: bytes) -> int:
    """Absolute offset in `data` of the module's bytecode section."""
    start = _strip_zip_header(data)
    length = struct.unpack_from("<I", data, start)[0]
    buf = Buffer(data[start + 4:start + 4 + length])
    span = buf.root(b"IREE").bytes_span(14, "bytecode_data")
    assert span is not None
    return start + 4 + span[0]


def instr_position(data: bytes, function: str, mnemonic: str, nth: int = 0):
    """(absolute byte offset of the op's first operand byte, Instr) of the nth `mnemonic` op."""
    mod = load_module(data, nested=False)
    fn = mod.function(function)
    base = bytecode_base(data) + fn.bytecode_offset
    hits = [i for i in fn.instrs() if i.op.mnemonic == mnemonic]
    ins = hits[nth]
    prefix = 1 if ins.op.opcode_set != "core" else 0
    return base + ins.offset + 1 + prefix, ins


def patch(data: bytes, pos: int, fmt: str, value) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, pos, value)
    return bytes(out)


def module_state_field(data: bytes, slot: int) -> int:
    """Absolute offset in `data` of the ModuleStateDef scalar `slot` (0: global_bytes_capacity,
    1: global_ref_count); the field must be present."""
    start = _strip_zip_header(data)
    length = struct.unpack_from("<I", data, start)[0]
    buf = Buffer(data[start + 4:start + 4 + length])
    state = buf.root(b"IREE").table(11, "module_state")
    pos = state._field_pos(slot) if state is not None else None
    assert pos is not None, "the module has no such module_state field"
    return start + 4 + pos
