"""The VM opcode table: one row per opcode, as data.

Rows come from IREE's VM ISA definition (runtime `isa.json` / compiler `VMOpcodes*.td`,
bytecode version 17). The decoder, verifier, listing and lowering dispatch all read this
table; supporting an opcode is one row here (plus one lowering per ISA).

Encoding of a single op in the bytecode stream:
  [prefix byte 0xE0 (ExtF32) | 0xE1 (ExtF64)] opcode byte, then each field of its layout in order.

Field kinds and their byte encoding (little endian):
  SRC / DST   u16 register ordinal. i32/f32: slot in the i32 bank. i64/f64: even slot of a
              pair. ref: bit 15 set, bit 14 = move, bits 0-13 = ordinal in the ref bank.
  CONST       immediate of the field's type (4 bytes i32/f32, 8 bytes i64/f64)
  GLOBAL      u32: byte offset into rwdata for primitives, ordinal in the ref table for refs
  FUNC        u32 function ordinal; bit 31 set = import ordinal
  RODATA      u32 rodata segment ordinal
  TYPE        u32 index into the module's type table
  STRING      u16 byte length, then the bytes
  U16         u16 constant (branch table size)
  TARGET      u32 bytecode offset of a block marker (execution resumes one byte after it)
  REMAP       (aligned to 2) u16 count, then count (src, dst) u16 register pairs;
              64-bit values are remapped as two 32-bit halves
  SRCLIST / DSTLIST / SEGMENTS
              (aligned to 2) u16 count, then count u16 entries (register ordinals; for
              SEGMENTS plain u16 numbers where 0xFFFF marks a non-variadic argument)
  CASES       U16-many (TARGET, REMAP) pairs, the count taken from the preceding U16 field
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Opcode sets: the core set, and the extensions reached through a prefix byte.
CORE, EXT_F32, EXT_F64 = "core", "ext_f32", "ext_f64"
PREFIX_BYTES = {0xE0: EXT_F32, 0xE1: EXT_F64}
SET_PREFIX = {EXT_F32: 0xE0, EXT_F64: 0xE1}
#: FeatureBits a function must declare to use an opcode set.
SET_FEATURE = {CORE: 0, EXT_F32: 1 << 0, EXT_F64: 1 << 1}
BYTECODE_VERSION_MAJOR = 17

# Field kinds.
SRC, DST, CONST, GLOBAL, FUNC, RODATA, TYPE, STRING, U16, TARGET, REMAP, CASES = (
    "src", "dst", "const", "global", "func", "rodata", "type", "string", "u16", "target",
    "remap", "cases")
SRCLIST, DSTLIST, SEGMENTS = "srclist", "dstlist", "segments"

#: Banks a register field may name. "any" (lists only) allows either bank per entry.
BANKS = ("i32", "i64", "f32", "f64", "ref", "any")


@dataclass(frozen=True)
class Field:
    """One operand field of an encoding. `bank` is the register bank or the CONST type."""
    name: str
    kind: str
    bank: str | None = None
    move: bool = False  # a ref register field that may carry the move bit


def _src(name: str, bank: str, move: bool = False) -> Field:
    return Field(name, SRC, bank, move)


def _dst(name: str, bank: str, move: bool = False) -> Field:
    return Field(name, DST, bank, move)


def _srclist(name: str, bank: str) -> Field:
    return Field(name, SRCLIST, bank)


def _dstlist(name: str, bank: str) -> Field:
    return Field(name, DSTLIST, bank)




#: Operand layouts by encoding name: the order in which fields appear in the bytecode.
LAYOUTS: dict[str, tuple[Field, ...]] = {
    "i32_global_load": (Field("byte_offset", GLOBAL), _dst("result", "i32")),
    "i32_global_store": (Field("byte_offset", GLOBAL), _src("value", "i32")),
    "i32_global_load_indirect": (_src("byte_offset", "i32"), _dst("result", "i32")),
    "i32_global_store_indirect": (_src("byte_offset", "i32"), _src("value", "i32")),
    "i64_global_load": (Field("byte_offset", GLOBAL), _dst("result", "i64")),
    "i64_global_store": (Field("byte_offset", GLOBAL), _src("value", "i64")),
    "i64_global_load_indirect": (_src("byte_offset", "i32"), _dst("result", "i64")),
    "i64_global_store_indirect": (_src("byte_offset", "i32"), _src("value", "i64")),
    "i32_zero_constant": (_dst("result", "i32"),),
    "i32_constant": (Field("value", CONST, "i32"), _dst("result", "i32")),
    "i64_zero_constant": (_dst("result", "i64"),),
    "i64_constant": (Field("value", CONST, "i64"), _dst("result", "i64")),
    "i32_list_get": (_src("list", "ref"), _src("index", "i32"), _dst("result", "i32")),
    "i32_list_set": (_src("list", "ref"), _src("index", "i32"), _src("value", "i32")),
    "i64_list_get": (_src("list", "ref"), _src("index", "i32"), _dst("result", "i64")),
    "i64_list_set": (_src("list", "ref"), _src("index", "i32"), _src("value", "i64")),
    "i32_buffer_load": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _dst("result", "i32")),
    "i64_buffer_load": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _dst("result", "i64")),
    "i32_buffer_store": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("value", "i32")),
    "i64_buffer_store": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("value", "i64")),
    "i32_buffer_fill": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("length", "i64"), _src("value", "i32")),
    "i64_buffer_fill": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("length", "i64"), _src("value", "i64")),
    "i32_select": (_src("condition", "i32"), _src("true_value", "i32"), _src("false_value", "i32"), _dst("result", "i32")),
    "i32_unary": (_src("operand", "i32"), _dst("result", "i32")),
    "i32_binary": (_src("left", "i32"), _src("right", "i32"), _dst("result", "i32")),
    "i32_ternary": (_src("first", "i32"), _src("second", "i32"), _src("third", "i32"), _dst("result", "i32")),
    "i32_shift": (_src("operand", "i32"), _src("amount", "i32"), _dst("result", "i32")),
    "i32_unary_comparison": (_src("operand", "i32"), _dst("result", "i32")),
    "i32_binary_comparison": (_src("left", "i32"), _src("right", "i32"), _dst("result", "i32")),
    "i64_select": (_src("condition", "i32"), _src("true_value", "i64"), _src("false_value", "i64"), _dst("result", "i64")),
    "i64_unary": (_src("operand", "i64"), _dst("result", "i64")),
    "i64_binary": (_src("left", "i64"), _src("right", "i64"), _dst("result", "i64")),
    "i64_ternary": (_src("first", "i64"), _src("second", "i64"), _src("third", "i64"), _dst("result", "i64")),
    "i64_shift": (_src("operand", "i64"), _src("amount", "i32"), _dst("result", "i64")),
    "i64_unary_comparison": (_src("operand", "i64"), _dst("result", "i32")),
    "i64_binary_comparison": (_src("left", "i64"), _src("right", "i64"), _dst("result", "i32")),
    "i64_to_i32_conversion": (_src("operand", "i64"), _dst("result", "i32")),
    "i32_to_i64_conversion": (_src("operand", "i32"), _dst("result", "i64")),
    "ref_unary_comparison": (_src("operand", "ref"), _dst("result", "i32")),
    "ref_binary_comparison": (_src("left", "ref"), _src("right", "ref"), _dst("result", "i32")),
    "f32_global_load": (Field("byte_offset", GLOBAL), _dst("result", "f32")),
    "f32_global_store": (Field("byte_offset", GLOBAL), _src("value", "f32")),
    "f32_global_load_indirect": (_src("byte_offset", "i32"), _dst("result", "f32")),
    "f32_global_store_indirect": (_src("byte_offset", "i32"), _src("value", "f32")),
    "f32_zero_constant": (_dst("result", "f32"),),
    "f32_constant": (Field("value", CONST, "f32"), _dst("result", "f32")),
    "f32_list_get": (_src("list", "ref"), _src("index", "i32"), _dst("result", "f32")),
    "f32_list_set": (_src("list", "ref"), _src("index", "i32"), _src("value", "f32")),
    "f32_buffer_load": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _dst("result", "f32")),
    "f32_buffer_store": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("value", "f32")),
    "f32_buffer_fill": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("length", "i64"), _src("value", "f32")),
    "f32_select": (_src("condition", "i32"), _src("true_value", "f32"), _src("false_value", "f32"), _dst("result", "f32")),
    "f32_unary": (_src("operand", "f32"), _dst("result", "f32")),
    "f32_binary": (_src("left", "f32"), _src("right", "f32"), _dst("result", "f32")),
    "f32_ternary": (_src("first", "f32"), _src("second", "f32"), _src("third", "f32"), _dst("result", "f32")),
    "f32_unary_comparison": (_src("operand", "f32"), _dst("result", "i32")),
    "f32_binary_comparison": (_src("left", "f32"), _src("right", "f32"), _dst("result", "i32")),
    "i32_to_f32_conversion": (_src("operand", "i32"), _dst("result", "f32")),
    "i64_to_f32_conversion": (_src("operand", "i64"), _dst("result", "f32")),
    "f32_to_i32_conversion": (_src("operand", "f32"), _dst("result", "i32")),
    "f32_to_i64_conversion": (_src("operand", "f32"), _dst("result", "i64")),
    "f64_global_load": (Field("byte_offset", GLOBAL), _dst("result", "f64")),
    "f64_global_store": (Field("byte_offset", GLOBAL), _src("value", "f64")),
    "f64_global_load_indirect": (_src("byte_offset", "i32"), _dst("result", "f64")),
    "f64_global_store_indirect": (_src("byte_offset", "i32"), _src("value", "f64")),
    "f64_zero_constant": (_dst("result", "f64"),),
    "f64_constant": (Field("value", CONST, "f64"), _dst("result", "f64")),
    "f64_list_get": (_src("list", "ref"), _src("index", "i32"), _dst("result", "f64")),
    "f64_list_set": (_src("list", "ref"), _src("index", "i32"), _src("value", "f64")),
    "f64_buffer_load": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _dst("result", "f64")),
    "f64_buffer_store": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("value", "f64")),
    "f64_buffer_fill": (_src("target_buffer", "ref"), _src("target_offset", "i64"), _src("length", "i64"), _src("value", "f64")),
    "f64_select": (_src("condition", "i32"), _src("true_value", "f64"), _src("false_value", "f64"), _dst("result", "f64")),
    "f64_unary": (_src("operand", "f64"), _dst("result", "f64")),
    "f64_binary": (_src("left", "f64"), _src("right", "f64"), _dst("result", "f64")),
    "f64_ternary": (_src("first", "f64"), _src("second", "f64"), _src("third", "f64"), _dst("result", "f64")),
    "f64_unary_comparison": (_src("operand", "f64"), _dst("result", "i32")),
    "f64_binary_comparison": (_src("left", "f64"), _src("right", "f64"), _dst("result", "i32")),
    "f64_to_f32_conversion": (_src("operand", "f64"), _dst("result", "f32")),
    "f32_to_f64_conversion": (_src("operand", "f32"), _dst("result", "f64")),
    "i32_to_f64_conversion": (_src("operand", "i32"), _dst("result", "f64")),
    "i64_to_f64_conversion": (_src("operand", "i64"), _dst("result", "f64")),
    "f64_to_i32_conversion": (_src("operand", "f64"), _dst("result", "i32")),
    "f64_to_i64_conversion": (_src("operand", "f64"), _dst("result", "i64")),
    "global_load_ref": (Field("global", GLOBAL), Field("type_def", TYPE), _dst("value", "ref", move=True)),
    "global_store_ref": (Field("global", GLOBAL), Field("type_def", TYPE), _src("value", "ref", move=True)),
    "global_load_indirect_ref": (_src("global", "i32"), Field("type_def", TYPE), _dst("value", "ref", move=True)),
    "global_store_indirect_ref": (_src("global", "i32"), Field("type_def", TYPE), _src("value", "ref", move=True)),
    "const_ref_zero": (_dst("result", "ref", move=True),),
    "const_ref_rodata": (Field("rodata", RODATA), _dst("value", "ref", move=True)),
    "list_alloc": (Field("element_type", TYPE), _src("initial_capacity", "i32"), _dst("result", "ref", move=True)),
    "list_reserve": (_src("list", "ref"), _src("minimum_capacity", "i32")),
    "list_size": (_src("list", "ref"), _dst("result", "i32")),
    "list_resize": (_src("list", "ref"), _src("new_size", "i32")),
    "list_get_ref": (_src("list", "ref"), _src("index", "i32"), Field("type_def", TYPE), _dst("result", "ref", move=True)),
    "list_set_ref": (_src("list", "ref"), _src("index", "i32"), _src("value", "ref", move=True)),
    "select_ref": (_src("condition", "i32"), Field("true_value_type_def", TYPE), _src("true_value", "ref", move=True), _src("false_value", "ref", move=True), _dst("result", "ref", move=True)),
    "i32_switch": (_src("index", "i32"), _src("default_value", "i32"), _srclist("values", "i32"), _dst("result", "i32")),
    "i64_switch": (_src("index", "i32"), _src("default_value", "i64"), _srclist("values", "i64"), _dst("result", "i64")),
    "switch_ref": (_src("index", "i32"), Field("type_def", TYPE), _src("default_value", "ref", move=True), _srclist("values", "ref"), _dst("result", "ref", move=True)),
    "branch": (Field("dest_pc", TARGET), Field("operands", REMAP)),
    "conditional_branch": (_src("condition", "i32"), Field("true_dest_pc", TARGET), Field("true_operands", REMAP), Field("false_dest_pc", TARGET), Field("false_operands", REMAP)),
    "call": (Field("callee_ordinal", FUNC), _srclist("operands", "any"), _dstlist("results", "any")),
    "call_variadic": (Field("callee_ordinal", FUNC), Field("segment_sizes", SEGMENTS), _srclist("operands", "any"), _dstlist("results", "any")),
    "return": (_srclist("operands", "any"),),
    "fail": (_src("status", "i32"), Field("message", STRING)),
    "import_resolved": (Field("import_ordinal", FUNC), _dst("result", "i32")),
    "trace": (Field("event_name", STRING), _srclist("operands", "any")),
    "conditional_break": (_src("condition", "i32"), Field("dest_pc", TARGET), Field("operands", REMAP)),
    "buffer_alloc": (_src("length", "i64"), _src("alignment", "i32"), _dst("result", "ref", move=True)),
    "buffer_clone": (_src("source", "ref"), _src("offset", "i64"), _src("length", "i64"), _src("alignment", "i32"), _dst("result", "ref", move=True)),
    "buffer_length": (_src("buffer", "ref"), _dst("result", "i64")),
    "buffer_copy": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _src("target_buffer", "ref"), _src("target_offset", "i64"), _src("length", "i64")),
    "buffer_compare": (_src("lhs_buffer", "ref"), _src("lhs_offset", "i64"), _src("rhs_buffer", "ref"), _src("rhs_offset", "i64"), _src("length", "i64"), _dst("result", "i32")),
    "cast_any_ref": (_src("operand", "ref", move=True), Field("result_type", TYPE), _dst("result", "ref", move=True)),
    "branch_table": (_src("index", "i32"), Field("default_dest_pc", TARGET), Field("default_operands", REMAP), Field("table_size", U16), Field("cases", CASES)),
    "buffer_hash": (_src("source_buffer", "ref"), _src("source_offset", "i64"), _src("length", "i64"), _dst("result", "i64")),
    "discard_refs": (_srclist("refs", "any"),),
    "assign_ref": (_src("source", "ref", move=True), _dst("result", "ref", move=True)),
    "yieldable_call": (Field("callee_ordinal", FUNC), _srclist("operands", "any"), Field("dest_pc", TARGET), _dstlist("results", "any")),
    "call_variadic_yieldable": (Field("callee_ordinal", FUNC), Field("segment_sizes", SEGMENTS), _srclist("operands", "any"), Field("dest_pc", TARGET), _dstlist("results", "any")),
    "f32_switch": (_src("index", "i32"), _src("default_value", "f32"), _srclist("values", "f32"), _dst("result", "f32")),
    "f64_switch": (_src("index", "i32"), _src("default_value", "f64"), _srclist("values", "f64"), _dst("result", "f64")),
    "block_marker": (),
}


@dataclass(frozen=True, eq=False)  # identity equality: rows are unique and hash fast
class Opcode:
    """A row of the opcode table: `mnemonic` is the name without the `vm.` prefix."""
    opcode_set: str
    number: int
    mnemonic: str
    layout: str
    fields: tuple = ()  # LAYOUTS[layout], filled in at construction
    #: (name, kind) of the register fields (SRC, DST, SRCLIST, DSTLIST), in layout order
    reg_fields: tuple = field(default=(), init=False, repr=False)
    #: (name, is a CASES list) of the branch fields (TARGET, CASES), in layout order
    edge_fields: tuple = field(default=(), init=False, repr=False)

    def __post_init__(self):
        fields = LAYOUTS[self.layout]
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "reg_fields", tuple(
            (f.name, f.kind) for f in fields if f.kind in (SRC, DST, SRCLIST, DSTLIST)))
        object.__setattr__(self, "edge_fields", tuple(
            (f.name, f.kind == CASES) for f in fields if f.kind in (TARGET, CASES)))

    @property
    def name(self) -> str:
        return "vm." + self.mnemonic

    @property
    def result_banks(self) -> tuple[str, ...]:
        return tuple(f.bank for f in self.fields if f.kind == DST)

    @property
    def is_terminator(self) -> bool:
        return self.mnemonic in TERMINATORS


Op = Opcode

OPCODES: tuple[Opcode, ...] = (
    Op(CORE, 0x00, "global.load.i32", "i32_global_load"),
    Op(CORE, 0x01, "global.store.i32", "i32_global_store"),
    Op(CORE, 0x02, "global.load.indirect.i32", "i32_global_load_indirect"),
    Op(CORE, 0x03, "global.store.indirect.i32", "i32_global_store_indirect"),
    Op(CORE, 0x04, "global.load.i64", "i64_global_load"),
    Op(CORE, 0x05, "global.store.i64", "i64_global_store"),
    Op(CORE, 0x06, "global.load.indirect.i64", "i64_global_load_indirect"),
    Op(CORE, 0x07, "global.store.indirect.i64", "i64_global_store_indirect"),
    Op(CORE, 0x08, "global.load.ref", "global_load_ref"),
    Op(CORE, 0x09, "global.store.ref", "global_store_ref"),
    Op(CORE, 0x0A, "global.load.indirect.ref", "global_load_indirect_ref"),
    Op(CORE, 0x0B, "global.store.indirect.ref", "global_store_indirect_ref"),
    Op(CORE, 0x0C, "const.i32.zero", "i32_zero_constant"),
    Op(CORE, 0x0D, "const.i32", "i32_constant"),
    Op(CORE, 0x0E, "const.i64.zero", "i64_zero_constant"),
    Op(CORE, 0x0F, "const.i64", "i64_constant"),
    Op(CORE, 0x10, "const.ref.zero", "const_ref_zero"),
    Op(CORE, 0x11, "const.ref.rodata", "const_ref_rodata"),
    Op(CORE, 0x12, "list.alloc", "list_alloc"),
    Op(CORE, 0x13, "list.reserve", "list_reserve"),
    Op(CORE, 0x14, "list.size", "list_size"),
    Op(CORE, 0x15, "list.resize", "list_resize"),
    Op(CORE, 0x16, "list.get.i32", "i32_list_get"),
    Op(CORE, 0x17, "list.set.i32", "i32_list_set"),
    Op(CORE, 0x18, "list.get.i64", "i64_list_get"),
    Op(CORE, 0x19, "list.set.i64", "i64_list_set"),
    Op(CORE, 0x1A, "list.get.ref", "list_get_ref"),
    Op(CORE, 0x1B, "list.set.ref", "list_set_ref"),
    Op(CORE, 0x1C, "select.i32", "i32_select"),
    Op(CORE, 0x1D, "select.i64", "i64_select"),
    Op(CORE, 0x1E, "select.ref", "select_ref"),
    Op(CORE, 0x1F, "switch.i32", "i32_switch"),
    Op(CORE, 0x20, "switch.i64", "i64_switch"),
    Op(CORE, 0x21, "switch.ref", "switch_ref"),
    Op(CORE, 0x22, "add.i32", "i32_binary"),
    Op(CORE, 0x23, "sub.i32", "i32_binary"),
    Op(CORE, 0x24, "mul.i32", "i32_binary"),
    Op(CORE, 0x25, "div.i32.s", "i32_binary"),
    Op(CORE, 0x26, "div.i32.u", "i32_binary"),
    Op(CORE, 0x27, "rem.i32.s", "i32_binary"),
    Op(CORE, 0x28, "rem.i32.u", "i32_binary"),
    Op(CORE, 0x29, "fma.i32", "i32_ternary"),
    Op(CORE, 0x2A, "add.i64", "i64_binary"),
    Op(CORE, 0x2B, "sub.i64", "i64_binary"),
    Op(CORE, 0x2C, "mul.i64", "i64_binary"),
    Op(CORE, 0x2D, "div.i64.s", "i64_binary"),
    Op(CORE, 0x2E, "div.i64.u", "i64_binary"),
    Op(CORE, 0x2F, "rem.i64.s", "i64_binary"),
    Op(CORE, 0x30, "rem.i64.u", "i64_binary"),
    Op(CORE, 0x31, "fma.i64", "i64_ternary"),
    Op(CORE, 0x32, "not.i32", "i32_unary"),
    Op(CORE, 0x33, "and.i32", "i32_binary"),
    Op(CORE, 0x34, "or.i32", "i32_binary"),
    Op(CORE, 0x35, "xor.i32", "i32_binary"),
    Op(CORE, 0x36, "not.i64", "i64_unary"),
    Op(CORE, 0x37, "and.i64", "i64_binary"),
    Op(CORE, 0x38, "or.i64", "i64_binary"),
    Op(CORE, 0x39, "xor.i64", "i64_binary"),
    Op(CORE, 0x3A, "shl.i32", "i32_shift"),
    Op(CORE, 0x3B, "shr.i32.s", "i32_shift"),
    Op(CORE, 0x3C, "shr.i32.u", "i32_shift"),
    Op(CORE, 0x3D, "shl.i64", "i64_shift"),
    Op(CORE, 0x3E, "shr.i64.s", "i64_shift"),
    Op(CORE, 0x3F, "shr.i64.u", "i64_shift"),
    Op(CORE, 0x40, "trunc.i32.i8", "i32_unary"),
    Op(CORE, 0x41, "trunc.i32.i16", "i32_unary"),
    Op(CORE, 0x42, "trunc.i64.i32", "i64_to_i32_conversion"),
    Op(CORE, 0x43, "ext.i8.i32.s", "i32_unary"),
    Op(CORE, 0x44, "ext.i8.i32.u", "i32_unary"),
    Op(CORE, 0x45, "ext.i16.i32.s", "i32_unary"),
    Op(CORE, 0x46, "ext.i16.i32.u", "i32_unary"),
    Op(CORE, 0x47, "ext.i32.i64.s", "i32_to_i64_conversion"),
    Op(CORE, 0x48, "ext.i32.i64.u", "i32_to_i64_conversion"),
    Op(CORE, 0x49, "cmp.eq.i32", "i32_binary_comparison"),
    Op(CORE, 0x4A, "cmp.ne.i32", "i32_binary_comparison"),
    Op(CORE, 0x4B, "cmp.lt.i32.s", "i32_binary_comparison"),
    Op(CORE, 0x4C, "cmp.lt.i32.u", "i32_binary_comparison"),
    Op(CORE, 0x4D, "cmp.nz.i32", "i32_unary_comparison"),
    Op(CORE, 0x4E, "cmp.eq.i64", "i64_binary_comparison"),
    Op(CORE, 0x4F, "cmp.ne.i64", "i64_binary_comparison"),
    Op(CORE, 0x50, "cmp.lt.i64.s", "i64_binary_comparison"),
    Op(CORE, 0x51, "cmp.lt.i64.u", "i64_binary_comparison"),
    Op(CORE, 0x52, "cmp.nz.i64", "i64_unary_comparison"),
    Op(CORE, 0x53, "cmp.eq.ref", "ref_binary_comparison"),
    Op(CORE, 0x54, "cmp.ne.ref", "ref_binary_comparison"),
    Op(CORE, 0x55, "cmp.nz.ref", "ref_unary_comparison"),
    Op(CORE, 0x56, "br", "branch"),
    Op(CORE, 0x57, "cond_br", "conditional_branch"),
    Op(CORE, 0x58, "call", "call"),
    Op(CORE, 0x59, "call.variadic", "call_variadic"),
    Op(CORE, 0x5A, "return", "return"),
    Op(CORE, 0x5B, "fail", "fail"),
    Op(CORE, 0x5C, "import.resolved", "import_resolved"),
    Op(CORE, 0x5D, "yield", "branch"),
    Op(CORE, 0x5E, "trace", "trace"),
    Op(CORE, 0x5F, "print", "trace"),
    Op(CORE, 0x60, "cond_break", "conditional_break"),
    Op(CORE, 0x61, "break", "branch"),
    Op(CORE, 0x62, "buffer.load.i8.u", "i32_buffer_load"),
    Op(CORE, 0x63, "buffer.load.i8.s", "i32_buffer_load"),
    Op(CORE, 0x64, "buffer.load.i16.u", "i32_buffer_load"),
    Op(CORE, 0x65, "buffer.load.i16.s", "i32_buffer_load"),
    Op(CORE, 0x66, "buffer.load.i32", "i32_buffer_load"),
    Op(CORE, 0x67, "buffer.load.i64", "i64_buffer_load"),
    Op(CORE, 0x68, "buffer.store.i8", "i32_buffer_store"),
    Op(CORE, 0x69, "buffer.store.i16", "i32_buffer_store"),
    Op(CORE, 0x6A, "buffer.store.i32", "i32_buffer_store"),
    Op(CORE, 0x6B, "buffer.store.i64", "i64_buffer_store"),
    Op(CORE, 0x6C, "buffer.alloc", "buffer_alloc"),
    Op(CORE, 0x6D, "buffer.clone", "buffer_clone"),
    Op(CORE, 0x6E, "buffer.length", "buffer_length"),
    Op(CORE, 0x6F, "buffer.copy", "buffer_copy"),
    Op(CORE, 0x70, "buffer.compare", "buffer_compare"),
    Op(CORE, 0x71, "buffer.fill.i8", "i32_buffer_fill"),
    Op(CORE, 0x72, "buffer.fill.i16", "i32_buffer_fill"),
    Op(CORE, 0x73, "buffer.fill.i32", "i32_buffer_fill"),
    Op(CORE, 0x74, "buffer.fill.i64", "i64_buffer_fill"),
    Op(CORE, 0x75, "ctlz.i32", "i32_unary"),
    Op(CORE, 0x76, "ctlz.i64", "i64_unary"),
    Op(CORE, 0x77, "abs.i32", "i32_unary"),
    Op(CORE, 0x78, "abs.i64", "i64_unary"),
    Op(CORE, 0x79, "block", "block_marker"),
    Op(CORE, 0x7A, "min.i32.s", "i32_binary"),
    Op(CORE, 0x7B, "min.i32.u", "i32_binary"),
    Op(CORE, 0x7C, "max.i32.s", "i32_binary"),
    Op(CORE, 0x7D, "max.i32.u", "i32_binary"),
    Op(CORE, 0x7E, "min.i64.s", "i64_binary"),
    Op(CORE, 0x7F, "min.i64.u", "i64_binary"),
    Op(CORE, 0x80, "max.i64.s", "i64_binary"),
    Op(CORE, 0x81, "max.i64.u", "i64_binary"),
    Op(CORE, 0x82, "cast.any.ref", "cast_any_ref"),
    Op(CORE, 0x83, "br_table", "branch_table"),
    Op(CORE, 0x84, "buffer.hash", "buffer_hash"),
    Op(CORE, 0x85, "discard.refs", "discard_refs"),
    Op(CORE, 0x86, "assign.ref", "assign_ref"),
    Op(CORE, 0x87, "call.yieldable", "yieldable_call"),
    Op(CORE, 0x88, "call.variadic.yieldable", "call_variadic_yieldable"),
    Op(EXT_F32, 0x00, "global.load.f32", "f32_global_load"),
    Op(EXT_F32, 0x01, "global.store.f32", "f32_global_store"),
    Op(EXT_F32, 0x02, "global.load.indirect.f32", "f32_global_load_indirect"),
    Op(EXT_F32, 0x03, "global.store.indirect.f32", "f32_global_store_indirect"),
    Op(EXT_F32, 0x04, "const.f32.zero", "f32_zero_constant"),
    Op(EXT_F32, 0x05, "const.f32", "f32_constant"),
    Op(EXT_F32, 0x06, "list.get.f32", "f32_list_get"),
    Op(EXT_F32, 0x07, "list.set.f32", "f32_list_set"),
    Op(EXT_F32, 0x08, "select.f32", "f32_select"),
    Op(EXT_F32, 0x09, "switch.f32", "f32_switch"),
    Op(EXT_F32, 0x0A, "add.f32", "f32_binary"),
    Op(EXT_F32, 0x0B, "sub.f32", "f32_binary"),
    Op(EXT_F32, 0x0C, "mul.f32", "f32_binary"),
    Op(EXT_F32, 0x0D, "div.f32", "f32_binary"),
    Op(EXT_F32, 0x0E, "rem.f32", "f32_binary"),
    Op(EXT_F32, 0x0F, "fma.f32", "f32_ternary"),
    Op(EXT_F32, 0x10, "abs.f32", "f32_unary"),
    Op(EXT_F32, 0x11, "neg.f32", "f32_unary"),
    Op(EXT_F32, 0x12, "ceil.f32", "f32_unary"),
    Op(EXT_F32, 0x13, "floor.f32", "f32_unary"),
    Op(EXT_F32, 0x14, "cast.si32.f32", "i32_to_f32_conversion"),
    Op(EXT_F32, 0x15, "cast.ui32.f32", "i32_to_f32_conversion"),
    Op(EXT_F32, 0x16, "cast.f32.si32", "f32_to_i32_conversion"),
    Op(EXT_F32, 0x17, "cast.f32.ui32", "f32_to_i32_conversion"),
    Op(EXT_F32, 0x18, "bitcast.i32.f32", "i32_to_f32_conversion"),
    Op(EXT_F32, 0x19, "bitcast.f32.i32", "f32_to_i32_conversion"),
    Op(EXT_F32, 0x1A, "atan.f32", "f32_unary"),
    Op(EXT_F32, 0x1B, "atan2.f32", "f32_binary"),
    Op(EXT_F32, 0x1C, "cos.f32", "f32_unary"),
    Op(EXT_F32, 0x1D, "sin.f32", "f32_unary"),
    Op(EXT_F32, 0x1E, "exp.f32", "f32_unary"),
    Op(EXT_F32, 0x1F, "exp2.f32", "f32_unary"),
    Op(EXT_F32, 0x20, "expm1.f32", "f32_unary"),
    Op(EXT_F32, 0x21, "log.f32", "f32_unary"),
    Op(EXT_F32, 0x22, "log10.f32", "f32_unary"),
    Op(EXT_F32, 0x23, "log1p.f32", "f32_unary"),
    Op(EXT_F32, 0x24, "log2.f32", "f32_unary"),
    Op(EXT_F32, 0x25, "pow.f32", "f32_binary"),
    Op(EXT_F32, 0x26, "rsqrt.f32", "f32_unary"),
    Op(EXT_F32, 0x27, "sqrt.f32", "f32_unary"),
    Op(EXT_F32, 0x28, "tanh.f32", "f32_unary"),
    Op(EXT_F32, 0x29, "erf.f32", "f32_unary"),
    Op(EXT_F32, 0x2A, "cmp.eq.f32.o", "f32_binary_comparison"),
    Op(EXT_F32, 0x2B, "cmp.eq.f32.u", "f32_binary_comparison"),
    Op(EXT_F32, 0x2C, "cmp.ne.f32.o", "f32_binary_comparison"),
    Op(EXT_F32, 0x2D, "cmp.ne.f32.u", "f32_binary_comparison"),
    Op(EXT_F32, 0x2E, "cmp.lt.f32.o", "f32_binary_comparison"),
    Op(EXT_F32, 0x2F, "cmp.lt.f32.u", "f32_binary_comparison"),
    Op(EXT_F32, 0x30, "cmp.lte.f32.o", "f32_binary_comparison"),
    Op(EXT_F32, 0x31, "cmp.lte.f32.u", "f32_binary_comparison"),
    Op(EXT_F32, 0x32, "cmp.nan.f32", "f32_unary_comparison"),
    Op(EXT_F32, 0x33, "buffer.load.f32", "f32_buffer_load"),
    Op(EXT_F32, 0x34, "buffer.store.f32", "f32_buffer_store"),
    Op(EXT_F32, 0x35, "buffer.fill.f32", "f32_buffer_fill"),
    Op(EXT_F32, 0x36, "round.f32", "f32_unary"),
    Op(EXT_F32, 0x37, "min.f32", "f32_binary"),
    Op(EXT_F32, 0x38, "max.f32", "f32_binary"),
    Op(EXT_F32, 0x39, "round.f32.even", "f32_unary"),
    Op(EXT_F32, 0x3A, "cast.f32.si64", "f32_to_i64_conversion"),
    Op(EXT_F32, 0x3B, "cast.f32.ui64", "f32_to_i64_conversion"),
    Op(EXT_F32, 0x3C, "cast.si64.f32", "i64_to_f32_conversion"),
    Op(EXT_F32, 0x3D, "cast.ui64.f32", "i64_to_f32_conversion"),
    Op(EXT_F64, 0x00, "global.load.f64", "f64_global_load"),
    Op(EXT_F64, 0x01, "global.store.f64", "f64_global_store"),
    Op(EXT_F64, 0x02, "global.load.indirect.f64", "f64_global_load_indirect"),
    Op(EXT_F64, 0x03, "global.store.indirect.f64", "f64_global_store_indirect"),
    Op(EXT_F64, 0x04, "const.f64.zero", "f64_zero_constant"),
    Op(EXT_F64, 0x05, "const.f64", "f64_constant"),
    Op(EXT_F64, 0x06, "list.get.f64", "f64_list_get"),
    Op(EXT_F64, 0x07, "list.set.f64", "f64_list_set"),
    Op(EXT_F64, 0x08, "select.f64", "f64_select"),
    Op(EXT_F64, 0x09, "switch.f64", "f64_switch"),
    Op(EXT_F64, 0x0A, "add.f64", "f64_binary"),
    Op(EXT_F64, 0x0B, "sub.f64", "f64_binary"),
    Op(EXT_F64, 0x0C, "mul.f64", "f64_binary"),
    Op(EXT_F64, 0x0D, "div.f64", "f64_binary"),
    Op(EXT_F64, 0x0E, "rem.f64", "f64_binary"),
    Op(EXT_F64, 0x0F, "fma.f64", "f64_ternary"),
    Op(EXT_F64, 0x10, "abs.f64", "f64_unary"),
    Op(EXT_F64, 0x11, "neg.f64", "f64_unary"),
    Op(EXT_F64, 0x12, "ceil.f64", "f64_unary"),
    Op(EXT_F64, 0x13, "floor.f64", "f64_unary"),
    Op(EXT_F64, 0x14, "trunc.f64.f32", "f64_to_f32_conversion"),
    Op(EXT_F64, 0x15, "ext.f32.f64", "f32_to_f64_conversion"),
    Op(EXT_F64, 0x16, "cast.si32.f64", "i32_to_f64_conversion"),
    Op(EXT_F64, 0x17, "cast.ui32.f64", "i32_to_f64_conversion"),
    Op(EXT_F64, 0x18, "cast.f64.si32", "f64_to_i32_conversion"),
    Op(EXT_F64, 0x19, "cast.f64.ui32", "f64_to_i32_conversion"),
    Op(EXT_F64, 0x1A, "cast.si64.f64", "i64_to_f64_conversion"),
    Op(EXT_F64, 0x1B, "cast.ui64.f64", "i64_to_f64_conversion"),
    Op(EXT_F64, 0x1C, "cast.f64.si64", "f64_to_i64_conversion"),
    Op(EXT_F64, 0x1D, "cast.f64.ui64", "f64_to_i64_conversion"),
    Op(EXT_F64, 0x1E, "bitcast.i64.f64", "i64_to_f64_conversion"),
    Op(EXT_F64, 0x1F, "bitcast.f64.i64", "f64_to_i64_conversion"),
    Op(EXT_F64, 0x20, "atan.f64", "f64_unary"),
    Op(EXT_F64, 0x21, "atan2.f64", "f64_binary"),
    Op(EXT_F64, 0x22, "cos.f64", "f64_unary"),
    Op(EXT_F64, 0x23, "sin.f64", "f64_unary"),
    Op(EXT_F64, 0x24, "exp.f64", "f64_unary"),
    Op(EXT_F64, 0x25, "exp2.f64", "f64_unary"),
    Op(EXT_F64, 0x26, "expm1.f64", "f64_unary"),
    Op(EXT_F64, 0x27, "log.f64", "f64_unary"),
    Op(EXT_F64, 0x28, "log10.f64", "f64_unary"),
    Op(EXT_F64, 0x29, "log1p.f64", "f64_unary"),
    Op(EXT_F64, 0x2A, "log2.f64", "f64_unary"),
    Op(EXT_F64, 0x2B, "pow.f64", "f64_binary"),
    Op(EXT_F64, 0x2C, "rsqrt.f64", "f64_unary"),
    Op(EXT_F64, 0x2D, "sqrt.f64", "f64_unary"),
    Op(EXT_F64, 0x2E, "tanh.f64", "f64_unary"),
    Op(EXT_F64, 0x2F, "erf.f64", "f64_unary"),
    Op(EXT_F64, 0x30, "cmp.eq.f64.o", "f64_binary_comparison"),
    Op(EXT_F64, 0x31, "cmp.eq.f64.u", "f64_binary_comparison"),
    Op(EXT_F64, 0x32, "cmp.ne.f64.o", "f64_binary_comparison"),
    Op(EXT_F64, 0x33, "cmp.ne.f64.u", "f64_binary_comparison"),
    Op(EXT_F64, 0x34, "cmp.lt.f64.o", "f64_binary_comparison"),
    Op(EXT_F64, 0x35, "cmp.lt.f64.u", "f64_binary_comparison"),
    Op(EXT_F64, 0x36, "cmp.lte.f64.o", "f64_binary_comparison"),
    Op(EXT_F64, 0x37, "cmp.lte.f64.u", "f64_binary_comparison"),
    Op(EXT_F64, 0x38, "cmp.nan.f64", "f64_unary_comparison"),
    Op(EXT_F64, 0x39, "buffer.load.f64", "f64_buffer_load"),
    Op(EXT_F64, 0x3A, "buffer.store.f64", "f64_buffer_store"),
    Op(EXT_F64, 0x3B, "buffer.fill.f64", "f64_buffer_fill"),
    Op(EXT_F64, 0x3C, "round.f64", "f64_unary"),
    Op(EXT_F64, 0x3D, "min.f64", "f64_binary"),
    Op(EXT_F64, 0x3E, "max.f64", "f64_binary"),
    Op(EXT_F64, 0x3F, "round.f64.even", "f64_unary"),
)

#: Ops that end a block.
TERMINATORS = frozenset({
    "br", "cond_br", "br_table", "return", "fail", "yield", "break", "cond_break",
    "call.yieldable", "call.variadic.yieldable",
})
BLOCK_MARKER = 0x79

#: (opcode set, number) -> row; the decoder's dispatch table.
BY_NUMBER: dict[tuple[str, int], Opcode] = {(op.opcode_set, op.number): op for op in OPCODES}
#: "vm.add.i32" -> row.
BY_NAME: dict[str, Opcode] = {op.name: op for op in OPCODES if op.layout != "block_marker"}

#: JIT-internal ops: rows that IR passes insert (opcode set "jit", never decoded, never in
#: BY_NUMBER / BY_NAME), described by the same field layouts so liveness, allocation and the
#: emitters treat them like any op. Per element type T of a full-width buffer access:
#:   jit.buffer.peek.T  result = the element if the buffer is non-null and the index in
#:                      bounds, else 0; never traps, never writes memory
#:   jit.buffer.check.T the null and bounds checks of buffer.load.T, without the load
#:   jit.copy.T         result = operand (bit copy)
#: Per integer type T and signedness S (div_rem_pairs.py):
#:   jit.divrem.T.S     result = left / right, remainder = left % right (vm.div.T.S and
#:                      vm.rem.T.S of the same operands, with their traps, in one op)
#: And one terminator (copy_nests.py), which replaces a loop's entering `br`:
#:   jit.copy.nest      reads `operands` (registers the plan names, see copy_nests.py); runs
#:                      the whole element-copy loop at once and takes `done_pc` (the loop's
#:                      exit) when every check of its plan passes, else takes `loop_pc` (the
#:                      loop header) and changes nothing. Both edges carry the replaced br's
#:                      remaps. The plan is `args["plan"]` (not a field).
JIT = "jit"
JIT_TYPES = ("i32", "i64", "f32", "f64")
JIT_SIZES = {"i32": 4, "i64": 8, "f32": 4, "f64": 8}  # element bytes per type
for _t in JIT_TYPES:
    LAYOUTS[f"jit_{_t}_buffer_peek"] = (_src("source_buffer", "ref"), _src("source_offset", "i64"),
                                        _dst("result", _t))
    LAYOUTS[f"jit_{_t}_buffer_check"] = (_src("source_buffer", "ref"), _src("source_offset", "i64"))
    LAYOUTS[f"jit_{_t}_copy"] = (_src("operand", _t), _dst("result", _t))
JIT_OPS: dict[str, Opcode] = {
    f"jit.{kind}.{t}": Opcode(JIT, -1, f"jit.{kind}.{t}", f"jit_{t}_{kind.replace('.', '_')}")
    for t in JIT_TYPES for kind in ("buffer.peek", "buffer.check", "copy")}
for _t in ("i32", "i64"):
    LAYOUTS[f"jit_{_t}_divrem"] = (_src("left", _t), _src("right", _t), _dst("result", _t),
                                   _dst("remainder", _t))
    for _s in ("s", "u"):
        JIT_OPS[f"jit.divrem.{_t}.{_s}"] = Opcode(JIT, -1, f"jit.divrem.{_t}.{_s}", f"jit_{_t}_divrem")
LAYOUTS["jit_copy_nest"] = (_srclist("operands", "any"), Field("done_pc", TARGET),
                            Field("done_operands", REMAP), Field("loop_pc", TARGET),
                            Field("loop_operands", REMAP))
JIT_OPS["jit.copy.nest"] = Opcode(JIT, -1, "jit.copy.nest", "jit_copy_nest")
