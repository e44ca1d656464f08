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
from .flatbuffer import Buffer
from .records import maker
from . import rows as _rows
from .rows import BYTES, STRING, Child, Field, TableSpec, Vector, read_rows

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


@dataclass(frozen=True, slots=True)
class ImportDef:
    name: str
    signature: Signature
    attrs: dict
    optional: bool


@dataclass(frozen=True, slots=True)
class ExportDef:
    name: str
    ordinal: int


@dataclass(frozen=True, slots=True)
class FunctionDescriptor:
    """Where a function's bytecode lives (bytes, relative to the bytecode vector) and its frame."""
    bytecode_offset: int
    bytecode_length: int
    requirements: int
    block_count: int
    i32_register_count: int
    ref_register_count: int


@dataclass(frozen=True, slots=True)
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


# (the fast constructors of the records above: the loader makes ~25 per module)
_import_def, _export_def = maker(ImportDef), maker(ExportDef)
_descriptor, _segment = maker(FunctionDescriptor), maker(RodataSegment)

#: The tables read as vectors of rows (`rows.read_rows`): one spec per table type, in the
#: order the fields are read; a value's default stands for an absent field.
ATTR = TableSpec("AttrDef", Field(0, "key", STRING, ""), Field(1, "value", STRING, ""))
SIGNATURE = TableSpec("FunctionSignatureDef",
                      Field(0, "calling_convention", STRING, "", parse_cconv),
                      Field(1, "attrs", Vector(ATTR), convert=dict))
#: An import reads its signature's calling convention before its name, and parses it and
#: reads the signature's attrs after (the order errors are found in): the checked way reads
#: the signature table twice, once for the string alone (the fast way once).
SIGNATURE_TEXT = TableSpec("FunctionSignatureDef", Field(0, "calling_convention", STRING, ""))
IMPORT = TableSpec("ImportFunctionDef",
                   Field(1, "signature", Child(SIGNATURE_TEXT), check_only=True),
                   Field(0, "full_name", STRING, ""),
                   Field(1, "signature", Child(SIGNATURE)),
                   Field(2, "flags", "I", 1))
EXPORT = TableSpec("ExportFunctionDef",
                   Field(0, "local_name", STRING, ""), Field(1, "internal_ordinal", "i", 0))
TYPE = TableSpec("TypeDef", Field(0, "full_name", STRING, ""))
DEPENDENCY = TableSpec("ModuleDependencyDef", Field(0, "name", STRING, ""),
                       Field(1, "minimum_version", "I", 0), Field(2, "flags", "I", 1))
RWDATA = TableSpec("RwdataSegmentDef", Field(0, "byte_size", "i", 0))
DEBUG_FUNCTION = TableSpec("FunctionSourceMapDef", Field(0, "local_name", STRING))
#: (the fast read of the rodata segments; its checked way is `_checked_rodata`, which reads
#: only the fields a segment uses, in this order)
RODATA = TableSpec("RodataSegmentDef", Field(2, "embedded_data", BYTES),
                   Field(3, "external_data_offset", "Q", 0), Field(4, "external_data_length", "Q"))
IMPORT_OPTIONAL, DEPENDENCY_REQUIRED = 2, 1  # flag bits


def _rodata(root, archive: bytes, rodata_base: int) -> list[RodataSegment]:
    """The rodata segments: read as rows (`RODATA`) or, where that declines, table by table
    (which raises the error)."""
    rows = _rows.fast_rows(root, _MODULE["rodata_segments"], "rodata_segments", RODATA)
    if rows is None:
        return _checked_rodata(root, archive, rodata_base)
    out = []
    for i, (embedded, offset, length) in enumerate(rows):
        if embedded is not None:
            out.append(_segment(embedded, False, None))
        elif length is None:
            out.append(_segment(b"", False, None))
        else:
            out.append(_external(i, archive, rodata_base + offset, length))
    return out


def _checked_rodata(root, archive: bytes, rodata_base: int) -> list[RodataSegment]:
    rodata = []
    for i, seg in enumerate(root.tables(_MODULE["rodata_segments"], "rodata_segments")):
        embedded = seg.bytes_(2, f"rodata[{i}].embedded_data")
        if embedded is not None:
            rodata.append(_segment(embedded, False, None))
            continue
        if not seg.has(4):
            rodata.append(_segment(b"", False, None))
            continue
        offset = seg.scalar(3, "Q", 0, "external_data_offset")
        length = seg.scalar(4, "Q", 0, "external_data_length")
        rodata.append(_external(i, archive, rodata_base + offset, length))
    return rodata


def _external(i: int, archive: bytes, start: int, length: int) -> RodataSegment:
    if start + length > len(archive):
        raise FormatError(f"rodata[{i}] external data [{start}, {start + length}) outside the "
                          f"{len(archive)}-byte archive")
    return _segment(archive[start:start + length], True, start)


def read_module(buf: Buffer, archive: bytes, rodata_base: int) -> ModuleDef:
    """Reads the root `BytecodeModuleDef` of `buf` (already stripped of its size prefix)."""
    root = buf.root(b"IREE")
    s = _MODULE
    name = root.string(s["name"], "name")
    if name is None:
        raise FormatError("module has no name (a required field)")

    signatures, signature_attrs = [], []
    for sig, attrs in read_rows(root, s["function_signatures"], "function_signatures", SIGNATURE):
        signatures.append(sig)
        signature_attrs.append(attrs)
    imports = [_import_def(full_name, sig, attrs, bool(flags & IMPORT_OPTIONAL))
               for _, full_name, (sig, attrs), flags
               in read_rows(root, s["imported_functions"], "imported_functions", IMPORT)]
    exports = [_export_def(n, o) for n, o
               in read_rows(root, s["exported_functions"], "exported_functions", EXPORT)]

    rodata = _rodata(root, archive, rodata_base)

    rwdata_sizes = [n for n, in read_rows(root, s["rwdata_segments"], "rwdata_segments", RWDATA)]
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
    size = len(bytecode)
    for i, (off, length, req, _rsv, blocks, n_i32, n_ref) in enumerate(
            root.structs(s["function_descriptors"], "function_descriptors", _FUNCTION_DESCRIPTOR)):
        if off < 0 or length < 0 or off + length > size:
            raise FormatError(f"function {i} bytecode [{off}, {off + length}) outside the "
                              f"{size}-byte bytecode section")
        if blocks < 0 or n_i32 < 0 or n_ref < 0:
            raise FormatError(f"function {i} has negative block or register counts")
        functions.append(_descriptor(off, length, req, blocks, n_i32, n_ref))
    if len(signatures) < len(functions):
        raise FormatError(f"{len(functions)} functions but only {len(signatures)} signatures")

    debug_names: list[str | None] = [None] * len(functions)
    debug = root.table(s["debug_database"], "debug_database")
    if debug is not None:  # (slots 0-1: the location_table union)
        rows = read_rows(debug, 2, "functions", DEBUG_FUNCTION, limit=len(functions))
        for i, (local_name,) in enumerate(rows):
            debug_names[i] = local_name or None
    names: list[str | None] = [None] * len(functions)
    for e in exports:
        if not 0 <= e.ordinal < len(functions):
            raise FormatError(f"export {e.name!r} names function {e.ordinal} of {len(functions)}")
        names[e.ordinal] = names[e.ordinal] or e.name

    version = root.scalar(s["version"], "I", 0, "version")
    requirements = root.scalar(s["requirements"], "I", 0, "requirements")
    attrs = dict(read_rows(root, s["attrs"], "attrs", ATTR))
    types = [t for t, in read_rows(root, s["types"], "types", TYPE)]
    dependencies = [(n, v, bool(f & DEPENDENCY_REQUIRED))
                    for n, v, f in read_rows(root, s["dependencies"], "dependencies", DEPENDENCY)]
    return ModuleDef(
        name=name, version=version, requirements=requirements, attrs=attrs, types=types,
        dependencies=dependencies,
        imports=imports, exports=exports, signatures=signatures, signature_attrs=signature_attrs,
        rodata=rodata, rwdata_sizes=rwdata_sizes, global_bytes=global_bytes, global_refs=global_refs,
        functions=functions, bytecode_version=root.scalar(s["bytecode_version"], "I", 0, "bytecode_version"),
        bytecode=bytecode, function_names=names, debug_names=debug_names, flatbuffer_size=buf.size)
