"""Text listing of modules and functions in the notation of `iree-dump-module`.

Contract: `format_instr(ins, module)` returns one line (no indent) naming the op as IREE's
disassembler does (`vm.add.i32`), with its register notation (`%i3`, `%i2:3`, `%r1`,
`%R1` for a move) and branch remap lists (`^bb1(%i4->%i0)`). Layout-specific shapes are
templates in `TEMPLATES`; every other op prints as `results = vm.op operands`.
"""
from __future__ import annotations

import struct

from ..ir import Function, Instr, Reg, Successor
from . import opcodes as oc
from .schema import ModuleDef

IMPORT_BIT = 0x80000000


def _raw(r: Reg) -> str:
    """A register as register lists print it: the first slot only, even for pairs."""
    return str(r) if r.is_ref else f"%i{r.ordinal}"


def _regs(regs) -> str:
    return ", ".join(map(_raw, regs))


def _succ(s: Successor) -> str:
    target = f"^bb{s.block}" if s.block is not None else f"^{s.pc:08X}"
    return f"{target}({', '.join(f'{a}->{b}' for a, b in s.remap)})"


def _f32(v: float) -> str:
    return _c_g(v, 9)


def _f64(v: float) -> str:
    return _c_g(v, 17)


def _c_g(v: float, digits: int) -> str:
    """printf("%.{digits}g") as C prints it (inf, nan, -0)."""
    if v != v:
        return "-nan" if struct.pack("<d", v)[7] & 0x80 else "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


class _Fmt:
    """Renders one instruction's fields to strings for the templates."""

    def __init__(self, ins: Instr, module: ModuleDef):
        self.ins, self.m = ins, module

    def field(self, name: str) -> str:
        v = self.ins.args[name]
        kind = next(f.kind for f in self.ins.op.fields if f.name == name)
        if isinstance(v, Reg):
            return str(v)
        if isinstance(v, Successor):
            return _succ(v)
        if kind == oc.TYPE:
            return self.m.types[v] if v < len(self.m.types) else f"type:{v}"
        if kind in (oc.SRCLIST, oc.DSTLIST):
            return _regs(v)
        if kind == oc.SEGMENTS:
            return ", ".join(map(str, v))
        if kind == oc.FUNC:
            return self.callee(v)
        return str(v)

    def callee(self, ordinal: int) -> str:
        m = self.m
        if ordinal & IMPORT_BIT:
            i = ordinal & ~IMPORT_BIT
            return m.imports[i].name if i < len(m.imports) else f"import:{i}"
        internal = m.internal_name(ordinal)  # as IREE's disassembler names call targets
        return f"{m.name}.{internal}" if internal else f"{m.name}:{ordinal}"

    def __getitem__(self, key: str) -> str:
        return self.field(key)


def _const(ins: Instr, f: _Fmt) -> str:
    v, t = ins.args["value"], ins.op.mnemonic.split(".")[1]
    r = ins.args["result"]
    if t == "i32":
        return f"{r} = vm.const.i32 {v}  // 0x{v & 0xFFFFFFFF:08X}"
    if t == "i64":
        return f"{r} = vm.const.i64 {v}  // 0x{v & 0xFFFFFFFFFFFFFFFF:016X}"
    return f"{r} = vm.{ins.op.mnemonic} {_f32(v) if t == 'f32' else _f64(v)}"


def _rodata(ins: Instr, f: _Fmt) -> str:
    k = ins.args["rodata"]
    size = len(f.m.rodata[k].data) if k < len(f.m.rodata) else 0
    return f"{ins.args['value']} = vm.const.ref.rodata {k}  // {size}b"


def _call(ins: Instr, f: _Fmt) -> str:
    a = ins.args
    head = f"{_regs(a['results'])} = " if a["results"] and "dest_pc" not in a else ""
    seg = f" segments[{f['segment_sizes']}]" if "segment_sizes" in a else ""
    text = f"{head}vm.{ins.op.mnemonic} @{f['callee_ordinal']}{seg}({_regs(a['operands'])})"
    if "dest_pc" in a:  # yieldable: results come back at the resume block
        text += f" -> ^bb{a['dest_pc'].block}({_regs(a['results'])})"
    return text


def _br_table(ins: Instr, f: _Fmt) -> str:
    a = ins.args
    parts = [f"default: {_succ(a['default_dest_pc'])}"]
    parts += [f"{i}: {_succ(s)}" for i, s in enumerate(a["cases"])]
    return f"vm.br_table {a['index']} {{ {', '.join(parts)} }}"


def _return(ins: Instr, f: _Fmt) -> str:
    ops = ins.args["operands"]
    return "vm.return" + (f" {_regs(ops)}" if ops else "")


#: Layout-specific shapes; `{m}` is the mnemonic, other names are the layout's fields.
TEMPLATES: dict[str, str] = {}
for _t in ("i32", "i64", "f32", "f64"):
    TEMPLATES.update({
        f"{_t}_global_load": "{result} = vm.{m} .rwdata[{byte_offset}]",
        f"{_t}_global_store": "vm.{m} {value}, .rwdata[{byte_offset}]",
        f"{_t}_global_load_indirect": "{result} = vm.{m} .rwdata[{byte_offset}]",
        f"{_t}_global_store_indirect": "vm.{m} {value}, .rwdata[{byte_offset}]",
        f"{_t}_buffer_store": "vm.{m} {value}, {target_buffer}, {target_offset}",
        f"{_t}_select": "{result} = vm.{m} {condition} ? {true_value} : {false_value}",
        f"{_t}_switch": "{result} = vm.{m} {index}[{values}] else {default_value}",
    })
TEMPLATES.update({
    "global_load_ref": "{value} = vm.{m} .refs[{global}] : {type_def}",
    "global_store_ref": "vm.{m} {value}, .refs[{global}] : {type_def}",
    "global_load_indirect_ref": "{value} = vm.{m} .refs[{global}] : {type_def}",
    "global_store_indirect_ref": "vm.{m} {value}, .refs[{global}] : {type_def}",
    "select_ref": "{result} = vm.{m} {condition} ? {true_value} : {false_value} -> {true_value_type_def}",
    "switch_ref": "{result} = vm.{m} {index}[{values}] else {default_value}",
    "list_alloc": "{result} = vm.{m} {initial_capacity} : !vm.list<{element_type}>",
    "list_get_ref": "{result} = vm.{m} {list}, {index} : {type_def}",
    "cast_any_ref": "{result} = vm.{m} {operand} : !vm.ref<?> -> {result_type}",
    "branch": "vm.{m} {dest_pc}",
    "conditional_branch": "vm.{m} {condition}, {true_dest_pc}, {false_dest_pc}",
    "conditional_break": "vm.{m} {condition}, {dest_pc}",
    "fail": 'vm.{m} {status}, "{message}"',
    "import_resolved": "{result} = vm.{m} @{import_ordinal}",
    "trace": 'vm.{m} "{event_name}"({operands})',
    "discard_refs": "vm.{m} {refs}",
})
#: Shapes that need code rather than a template, by layout name.
SPECIAL = {
    "i32_constant": _const, "i64_constant": _const, "f32_constant": _const, "f64_constant": _const,
    "const_ref_rodata": _rodata, "call": _call, "call_variadic": _call, "yieldable_call": _call,
    "call_variadic_yieldable": _call, "branch_table": _br_table, "return": _return,
}


def format_instr(ins: Instr, module: ModuleDef) -> str:
    f = _Fmt(ins, module)
    layout = ins.op.layout
    if layout in SPECIAL:
        return SPECIAL[layout](ins, f)
    template = TEMPLATES.get(layout)
    if template is not None:
        names = {fl.name: f[fl.name] for fl in ins.op.fields if fl.name in ins.args}
        return template.format(m=ins.op.mnemonic, **names)
    dsts = [f[fl.name] for fl in ins.op.fields if fl.kind in (oc.DST, oc.DSTLIST)]
    srcs = [f[fl.name] for fl in ins.op.fields
            if fl.kind not in (oc.DST, oc.DSTLIST) and fl.name in ins.args]
    head = f"{', '.join(dsts)} = " if dsts else ""
    return f"{head}vm.{ins.op.mnemonic}" + (f" {', '.join(srcs)}" if srcs else "")


def format_signature(fn: Function) -> str:
    from .verifier import arg_registers
    args = ", ".join(f"{r}: {'!vm.ref<?>' if r.is_ref else r.type}" for r in arg_registers(fn.signature))
    results = ", ".join("!vm.ref<?>" if t == "ref" else t for t in fn.signature.results)
    return f"({args}) -> ({results})"


def function_lines(fn: Function, module: ModuleDef, *, offsets: bool = False) -> list[str]:
    """The body of `fn`: block labels and one line per op (offsets prefixed if asked)."""
    lines = [f"vm.func @{fn.name}{format_signature(fn)} {{"]
    for block in fn.blocks:
        lines.append(f"^bb{block.index}:")
        for ins in block.instrs:
            prefix = f"{ins.offset:08X}  " if offsets else ""
            lines.append(f"  {prefix}{format_instr(ins, module)}")
    lines.append("}")
    return lines
