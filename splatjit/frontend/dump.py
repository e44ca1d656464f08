"""`splatjit dump`: a whole-module listing (header sections, then every function body).

Function bodies use `listing.py`'s notation, which matches `iree-dump-module` line for line;
the header is our own compact summary. Nested executables follow their host module.
"""
from __future__ import annotations

from .cconv import Signature
from .listing import format_signature, function_lines
from .loader import LoadedModule
from .schema import FEATURE_NAMES

RULE = "//" + "=" * 78 + "//"


def _features(bits: int) -> str:
    names = [n for b, n in FEATURE_NAMES.items() if bits & b]
    return "|".join(names) if names else "-"


def _sig(sig: Signature) -> str:
    return sig.describe()


def module_lines(mod: LoadedModule, *, offsets: bool = False, title: str | None = None) -> list[str]:
    m = mod.defn
    major, minor = m.bytecode_version >> 16, m.bytecode_version & 0xFFFF
    out = [RULE, f"// @{m.name} : version {m.version}" + (f"  ({title})" if title else ""), RULE,
           f"bytecode version {major}.{minor}, requirements {_features(m.requirements)}", ""]
    out.append("Types:")
    out += [f"  [{i:3}] {t}" for i, t in enumerate(m.types)]
    if m.dependencies:
        out.append("Dependencies:")
        out += [f"  {n}, version >= {v}, {'required' if req else 'optional'}"
                for n, v, req in m.dependencies]
    if m.imports:
        out.append("Imports:")
        out += [f"  [{i:3}] {imp.name}{_sig(imp.signature)}  cconv {imp.signature.text}"
                + ("  (optional)" if imp.optional else "") for i, imp in enumerate(m.imports)]
    out.append("Exports:")
    out += [f"  [{i:3}] {e.name} -> function {e.ordinal}" for i, e in enumerate(m.exports)]
    if m.rodata:
        out.append("Rodata:")
        for i, seg in enumerate(m.rodata):
            where = f"external at archive offset {seg.archive_offset}" if seg.external else "embedded"
            out.append(f"  .rodata[{i:3}] {where:>34} {len(seg.data):8} bytes")
    out.append(f"Globals: {m.global_bytes} bytes, {m.global_refs} refs")
    out.append("Functions:")
    out.append("    # | offset   |   length | blocks | i32 # | ref # | requirements | name")
    for fn, d in zip(mod.functions, m.functions):
        out.append(f"  {fn.ordinal:3} | {d.bytecode_offset:08X} | {d.bytecode_length:8} | "
                   f"{d.block_count:6} | {d.i32_register_count:5} | {d.ref_register_count:5} | "
                   f"{_features(d.requirements):12} | {fn.name}{format_signature(fn)}")
    out.append("")
    exported = {e.ordinal for e in m.exports}
    for fn in mod.functions:
        if fn.ordinal in exported:
            out.append(f"vm.export @{fn.name}")
        out += function_lines(fn, m, offsets=offsets)
        out.append("")
    for exe in mod.executables:
        out += module_lines(exe.module, offsets=offsets,
                            title=f"nested {exe.format} executable in .rodata[{exe.rodata_ordinal}]")
    return out


def dump(mod: LoadedModule, *, offsets: bool = False) -> str:
    return "\n".join(module_lines(mod, offsets=offsets)) + "\n"
