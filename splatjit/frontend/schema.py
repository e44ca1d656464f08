"""Reads IREE's `BytecodeModuleDef` FlatBuffer (schema `bytecode_module_def.fbs`) into plain data.

Contract: `read_module(flatbuffer, rodata_base, archive)` returns a `ModuleDef` whose every
offset has been checked: function bytecode ranges lie inside the bytecode vector, external
rodata segments lie inside the archive. Malformed input raises `FormatError`.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..errors import FormatError, UnsupportedError
from .cconv import Signature, parse_cconv
from .flatbuffer import Buffer, Table

# Vtable slots of each table, in schema order (a union takes two slots: tag, value).
_MODULE = dict(name=0, version=1, requirements=2, attrs=3, types=4, dependencies=5,
               imported_functions=6, exported_functions=7, function_signatures=8,
               rodata_segments=9, rwdata_segments=10, module_state=11,
               function_descriptors=12, bytecode_version=13, bytecode_data=14,
               debug_database=15)
_FUNCTION_DESCRIPTOR = struct.Struct("<iiIhhhh")  # offset, length, requirements, reserved, blocks, i32, ref

#: Module state limits (the interpreter would try to allocate whatever a module asks for;
#: splatjit maps globals as one array and walks the ref globals after every call).
MAX_GLOBAL_BYTES = 1 << 30
MAX_GLOBAL_REFS = 1 << 20
FEATURE_NAMES = {1 << 0: "EXT_F32", 1 << 1: "EXT_F64", 1 << 2: "YIELD", 1 << 3: "UNWIND"}


@dataclass(frozen=True)
class ImportDef:
    name: str
    signature: Signature
    attrs: dict
    optional: bool


@dataclass(frozen=True)
class ExportDef:
    name: str
    ordinal: int


@dataclass(frozen=True)
class FunctionDescriptor:
    """Where a function's bytecode lives (bytes, relative to the bytecode vector) and its frame."""
    bytecode_offset: int
    bytecode_length: int
    requirements: int
    block_count: int
    i32_register_count: int
    ref_register_count: int


@dataclass(frozen=True)
class RodataSegment:
    """A read-only data segment. `external` segments live in the archive after the FlatBuffer."""
    data: bytes
    external: bool
    archive_offset: int | None = None  # absolute byte offset in the archive (external only)


@dataclass
class ModuleDef:
    name: str
    version: int
    requirements: int
    attrs: dict
    types: list[str]
    dependencies: list[tuple[str, int, bool]]  # (name, minimum version, required)
    imports: list[ImportDef]
    exports: list[ExportDef]
    signatures: list[Signature]
    signature_attrs: list[dict]
    rodata: list[RodataSegment]
    rwdata_sizes: list[int]
    global_bytes: int
    global_refs: int
    functions: list[FunctionDescriptor]
    bytecode_version: int
    bytecode: bytes
    function_names: list[str | None] = field(default_factory=list)  # first export's name
    debug_names: list[str | None] = field(default_factory=list)     # debug database, by ordinal
    flatbuffer_size: int = 0

    def function_name(self, ordinal: int) -> str:
        """The name IREE's tools give function `ordinal`: its first export's name, else its
        debug-database name, else `fnN`."""
        name = self.function_names[ordinal] if ordinal < len(self.function_names) else None
        return name or self.internal_name(ordinal) or f"fn{ordinal}"

    def internal_name(self, ordinal: int) -> str | None:
        """The debug database's name for `ordinal` (IREE's runtime name for internal calls;
        3.13 modules built with --compile-from=vm carry a partial, misaligned table)."""
        return self.debug_names[ordinal] if ordinal < len(self.debug_names) else None


def _attrs(table: Table, slot: int, what: str) -> dict:
    rows = table.rows(slot, what, _ATTR_ROW)
    if rows is None:  # something is off: the checked reads raise the error
        return {a.string(0, "key", ""): a.string(1, "value", "") for a in table.tables(slot, what)}
    return _attr_dict(rows)


def _attr_dict(rows: list) -> dict:
    return {"" if k is None else k: "" if v is None else v for k, v in rows}


#: `Table.rows` specs: (field slot, None for a string or a scalar's struct format)
_ATTR_ROW = ((0, None), (1, None))
_EXPORT_ROW = ((0, None), (1, "i"))
_NAME_ROW = ((0, None),)
_DEPENDENCY_ROW = ((0, None), (1, "I"), (2, "I"))
_SIGNATURE_ROW = ((0, None), (1, ("vector", _ATTR_ROW)))
_IMPORT_ROW = ((0, None), (1, ("table", _SIGNATURE_ROW)), (2, "I"))


def read_module(buf: Buffer, archive: bytes, rodata_base: int) -> ModuleDef:
    """Reads the root `BytecodeModuleDef` of `buf` (already stripped of its size prefix)."""
    root = buf.root(b"IREE")
    s = _MODULE
    name = root.string(s["name"], "name")
    if name is None:
        raise FormatError("module has no name (a required field)")

    signatures, signature_attrs = [], []
    rows = root.rows(s["function_signatures"], "function_signatures", _SIGNATURE_ROW)
    if rows is not None:
        for cconv, attrs in rows:
            signatures.append(parse_cconv(cconv or ""))
            signature_attrs.append(_attr_dict(attrs))
    else:  # the checked reads raise the error
        for sig in root.tables(s["function_signatures"], "function_signatures"):
            signatures.append(parse_cconv(sig.string(0, "calling_convention", "") or ""))
            signature_attrs.append(_attrs(sig, 1, "attrs"))

    imports = []
    rows = root.rows(s["imported_functions"], "imported_functions", _IMPORT_ROW)
    if rows is not None:
        for full_name, sig, flags in rows:
            cconv, attrs = sig if sig is not None else ("", [])
            imports.append(ImportDef(full_name or "", parse_cconv(cconv or ""), _attr_dict(attrs),
                                     bool((1 if flags is None else flags) & 2)))
    else:  # the checked reads raise the error
        for imp in root.tables(s["imported_functions"], "imported_functions"):
            sig = imp.table(1, "signature")
            cconv = sig.string(0, "calling_convention", "") if sig else ""
            imports.append(ImportDef(imp.string(0, "full_name", "") or "", parse_cconv(cconv or ""),
                                     _attrs(sig, 1, "attrs") if sig else {},
                                     bool(imp.scalar(2, "I", 1, "flags") & 2)))

    rows = root.rows(s["exported_functions"], "exported_functions", _EXPORT_ROW)
    if rows is not None:
        exports = [ExportDef(n or "", 0 if o is None else o) for n, o in rows]
    else:  # the checked reads raise the error
        exports = [ExportDef(e.string(0, "local_name", "") or "", e.scalar(1, "i", 0, "internal_ordinal"))
                   for e in root.tables(s["exported_functions"], "exported_functions")]

    rodata = []
    for i, seg in enumerate(root.tables(s["rodata_segments"], "rodata_segments")):
        embedded = seg.bytes_(2, f"rodata[{i}].embedded_data")
        if embedded is not None:
            rodata.append(RodataSegment(embedded, False))
            continue
        if not seg.has(4):
            rodata.append(RodataSegment(b"", False))
            continue
        offset = seg.scalar(3, "Q", 0, "external_data_offset")
        length = seg.scalar(4, "Q", 0, "external_data_length")
        start = rodata_base + offset
        if start + length > len(archive):
            raise FormatError(f"rodata[{i}] external data [{start}, {start + length}) outside the "
                              f"{len(archive)}-byte archive")
        rodata.append(RodataSegment(archive[start:start + length], True, start))

    rwdata_sizes = [t.scalar(0, "i", 0, "byte_size") for t in root.tables(s["rwdata_segments"], "rwdata_segments")]
    state = root.table(s["module_state"], "module_state")
    global_bytes = state.scalar(0, "i", 0, "global_bytes_capacity") if state else 0
    global_refs = state.scalar(1, "i", 0, "global_ref_count") if state else 0
    if global_bytes < 0 or global_refs < 0:
        raise FormatError(f"module state has negative sizes ({global_bytes} bytes, {global_refs} refs)")
    if global_bytes > MAX_GLOBAL_BYTES or global_refs > MAX_GLOBAL_REFS:
        raise UnsupportedError(f"module state asks for {global_bytes} global bytes and "
                               f"{global_refs} ref globals; splatjit allows at most "
                               f"{MAX_GLOBAL_BYTES} and {MAX_GLOBAL_REFS}")

    bytecode = root.bytes_(s["bytecode_data"], "bytecode_data") or b""
    functions = []
    for i, (off, length, req, _rsv, blocks, n_i32, n_ref) in enumerate(
            root.structs(s["function_descriptors"], "function_descriptors", _FUNCTION_DESCRIPTOR)):
        if off < 0 or length < 0 or off + length > len(bytecode):
            raise FormatError(f"function {i} bytecode [{off}, {off + length}) outside the "
                              f"{len(bytecode)}-byte bytecode section")
        if blocks < 0 or n_i32 < 0 or n_ref < 0:
            raise FormatError(f"function {i} has negative block or register counts")
        functions.append(FunctionDescriptor(off, length, req, blocks, n_i32, n_ref))
    if len(signatures) < len(functions):
        raise FormatError(f"{len(functions)} functions but only {len(signatures)} signatures")

    debug_names: list[str | None] = [None] * len(functions)
    debug = root.table(s["debug_database"], "debug_database")
    if debug is not None:
        rows = debug.rows(2, "functions", _NAME_ROW)  # slots 0-1: location_table union
        if rows is not None:
            for i, (local_name,) in enumerate(rows[:len(functions)]):
                debug_names[i] = local_name or None
        else:  # the checked reads raise the error
            for i, fn in enumerate(debug.tables(2, "functions")[:len(functions)]):
                debug_names[i] = fn.string(0, "local_name") or None
    names: list[str | None] = [None] * len(functions)
    for e in exports:
        if not 0 <= e.ordinal < len(functions):
            raise FormatError(f"export {e.name!r} names function {e.ordinal} of {len(functions)}")
        names[e.ordinal] = names[e.ordinal] or e.name

    version = root.scalar(s["version"], "I", 0, "version")
    requirements = root.scalar(s["requirements"], "I", 0, "requirements")
    attrs = _attrs(root, s["attrs"], "attrs")
    rows = root.rows(s["types"], "types", _NAME_ROW)
    if rows is not None:
        types = [t or "" for t, in rows]
    else:  # the checked reads raise the error
        types = [t.string(0, "full_name", "") or "" for t in root.tables(s["types"], "types")]
    rows = root.rows(s["dependencies"], "dependencies", _DEPENDENCY_ROW)
    if rows is not None:
        dependencies = [(n or "", v or 0, bool((1 if f is None else f) & 1)) for n, v, f in rows]
    else:  # the checked reads raise the error
        dependencies = [(d.string(0, "name", "") or "", d.scalar(1, "I", 0, "minimum_version"),
                         bool(d.scalar(2, "I", 1, "flags") & 1))
                        for d in root.tables(s["dependencies"], "dependencies")]
    return ModuleDef(
        name=name, version=version, requirements=requirements, attrs=attrs, types=types,
        dependencies=dependencies,
        imports=imports, exports=exports, signatures=signatures, signature_attrs=signature_attrs,
        rodata=rodata, rwdata_sizes=rwdata_sizes, global_bytes=global_bytes, global_refs=global_refs,
        functions=functions, bytecode_version=root.scalar(s["bytecode_version"], "I", 0, "bytecode_version"),
        bytecode=bytecode, function_names=names, debug_names=debug_names, flatbuffer_size=buf.size)
