"""`splatjit disasm`: machine code interleaved with the bytecode it came from.

For each function: its allocation (which VM registers live in which machine registers), then
every bytecode op (offset and listing) followed by the instructions generated for it, decoded
by capstone. `as_json` gives the same data for tools.
"""
from __future__ import annotations

import json

import capstone

from .frontend.listing import format_instr, format_signature

ARCH = {"x86_64": (capstone.CS_ARCH_X86, capstone.CS_MODE_64),
        "aarch64": (getattr(capstone, "CS_ARCH_ARM64", getattr(capstone, "CS_ARCH_AARCH64", None)),
                    capstone.CS_MODE_ARM)}


def _decode(code: bytes, target: str):
    arch, mode = ARCH[target]
    cs = capstone.Cs(arch, mode)
    return [(i.address, i.size, f"{i.mnemonic} {i.op_str}".strip(), i.bytes.hex())
            for i in cs.disasm(code, 0)]


def function_records(module, target: str | None = None, function: str | None = None) -> list[dict]:
    """One dict per function: name, signature, allocation, ops (each with its machine code).

    `target` defaults to the ISA the module was compiled for (`module.target`)."""
    compiled = module.compiled
    target = target or module.target
    insns = _decode(compiled.code, target)
    by_tag: dict = {}
    tag = None
    for address, size, text, raw in insns:
        tag = compiled.tag_map.get(address, tag)
        by_tag.setdefault(tag, []).append({"address": address, "text": text, "bytes": raw})
    out = []
    for fn in module.loaded.functions:
        if function is not None and fn.name != function:
            continue
        info = compiled.functions[fn.ordinal]
        alloc = {str(v): info.allocation.reg_of.get(v) or "memory" for v in info.slots.variables}
        ops = [{"offset": -1, "op": "(prologue, epilogue, trap stubs)",
                "code": by_tag.get((fn.ordinal, -1), [])}]
        for ins in fn.instrs():
            ops.append({"offset": ins.offset, "op": format_instr(ins, module.loaded.defn),
                        "code": by_tag.get((fn.ordinal, ins.offset), [])})
        out.append({"function": fn.name, "signature": format_signature(fn),
                    "entry": compiled.entries[fn.ordinal], "frame_bytes": info.frame.size,
                    "frame_kind": info.frame_kind,
                    "allocation": alloc, "unsupported": info.unsupported, "ops": ops})
    return out


#: how a listing names each FunctionInfo.frame_kind ({} = the frame's size in bytes)
FRAME_TEXT = {"stack": "frame {} bytes", "red zone": "frame {} bytes in the red zone",
              "none": "no frame"}


def as_text(records: list[dict]) -> str:
    lines, executable = [], None
    for r in records:
        if r.get("executable") != executable:
            executable = r.get("executable")
            lines.append(f"// nested executable {executable} (its own code blob)")
            lines.append("")
        lines.append(f"vm.func @{r['function']}{r['signature']}  // entry +{r['entry']:#x}, "
                     + FRAME_TEXT[r["frame_kind"]].format(r["frame_bytes"]))
        placed = ", ".join(f"{v}={loc}" for v, loc in r["allocation"].items()) or "none"
        lines.append(f"  // registers: {placed}")
        if r["unsupported"]:
            lines.append(f"  // not compiled (traps if reached): {', '.join(r['unsupported'])}")
        for op in r["ops"]:
            head = f"{op['offset']:08X}" if op["offset"] >= 0 else "--------"
            lines.append(f"  {head}  {op['op']}")
            for c in op["code"]:
                lines.append(f"      {c['address']:6x}:  {c['bytes']:<24} {c['text']}")
        lines.append("")
    return "\n".join(lines)


def as_json(records: list[dict]) -> str:
    return json.dumps(records, indent=1)
