"""A bounds-checked FlatBuffer table reader.

Contract: every read validates its offset and length against the buffer; any violation raises
`FormatError` naming the table path being read. Offsets are byte offsets into `data`. Nothing
here knows the IREE schema: `schema.py` names the fields.

FlatBuffer layout, as used here:
  table   : i32 `soffset` at the table start; the vtable sits at `table - soffset`.
  vtable  : u16 vtable byte size, u16 table byte size, then one u16 per field (0 = absent).
  offsets : u32 fields, relative to the field's own position (strings, vectors, tables).
  vector  : u32 element count, then the elements; string: u32 byte count, bytes, NUL.
"""
from __future__ import annotations

import struct

from ..errors import FormatError

_U8, _U16, _I16, _U32, _I32, _U64 = (struct.Struct(f) for f in ("<B", "<H", "<h", "<I", "<i", "<Q"))
#: Tables nested deeper than this are treated as a malformed (cyclic) buffer.
MAX_DEPTH = 64


class Buffer:
    """An immutable byte buffer with checked little-endian reads."""

    __slots__ = ("data", "size", "name")

    def __init__(self, data: bytes | memoryview, name: str = "flatbuffer"):
        self.data = bytes(data)
        self.size = len(self.data)
        self.name = name

    def need(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise FormatError(f"{what}: bytes [{pos}, {pos + length}) outside the "
                              f"{self.size}-byte {self.name}")

    def read(self, st: struct.Struct, pos: int, what: str):
        self.need(pos, st.size, what)
        return st.unpack_from(self.data, pos)[0]

    def u8(self, pos: int, what: str) -> int:
        return self.read(_U8, pos, what)

    def u16(self, pos: int, what: str) -> int:
        return self.read(_U16, pos, what)

    def u32(self, pos: int, what: str) -> int:
        return self.read(_U32, pos, what)

    def i32(self, pos: int, what: str) -> int:
        return self.read(_I32, pos, what)

    def table(self, pos: int, what: str, depth: int = 0) -> "Table":
        return Table(self, pos, what, depth)

    def root(self, identifier: bytes | None = None) -> "Table":
        if self.size < 8:
            raise FormatError(f"{self.name} is {self.size} bytes, too small for a FlatBuffer")
        if identifier is not None and self.data[4:8] != identifier:
            raise FormatError(f"{self.name} identifier is {self.data[4:8]!r}, "
                              f"expected {identifier!r}")
        return self.table(self.u32(0, "root offset"), "root")


class Table:
    """A view of one table. Field accessors take the vtable slot index (0-based)."""

    __slots__ = ("buf", "pos", "what", "depth", "_fields")

    def __init__(self, buf: Buffer, pos: int, what: str, depth: int):
        if depth > MAX_DEPTH:
            raise FormatError(f"{what}: tables nested deeper than {MAX_DEPTH}")
        self.buf, self.pos, self.what, self.depth = buf, pos, what, depth
        vtable = pos - buf.i32(pos, f"{what} vtable offset")
        vt_size = buf.u16(vtable, f"{what} vtable size")
        table_size = buf.u16(vtable + 2, f"{what} table size")
        if vt_size < 4 or vt_size % 2:
            raise FormatError(f"{what}: vtable size {vt_size} is invalid")
        buf.need(vtable, vt_size, f"{what} vtable")
        buf.need(pos, max(table_size, 4), f"{what} table")
        count = (vt_size - 4) // 2
        self._fields = tuple(_U16.unpack_from(buf.data, vtable + 4 + 2 * i)[0] for i in range(count))
        for slot, off in enumerate(self._fields):
            if off and off >= table_size:
                raise FormatError(f"{what}: field {slot} at offset {off} outside the "
                                  f"{table_size}-byte table")

    def _field_pos(self, slot: int) -> int | None:
        off = self._fields[slot] if slot < len(self._fields) else 0
        return self.pos + off if off else None

    def has(self, slot: int) -> bool:
        return self._field_pos(slot) is not None

    def scalar(self, slot: int, fmt: str, default: int = 0, name: str = "") -> int:
        pos = self._field_pos(slot)
        if pos is None:
            return default
        return self.buf.read(struct.Struct("<" + fmt), pos, f"{self.what}.{name or slot}")

    def _target(self, slot: int, name: str) -> int | None:
        pos = self._field_pos(slot)
        if pos is None:
            return None
        return pos + self.buf.u32(pos, f"{self.what}.{name} offset")

    def string(self, slot: int, name: str, default: str | None = None) -> str | None:
        data = self.bytes_(slot, name)
        if data is None:
            return default
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{self.what}.{name}: string is not UTF-8 ({e.reason})") from None

    def bytes_(self, slot: int, name: str) -> bytes | None:
        """A `[ubyte]` vector or string, as bytes (None when absent)."""
        start = self._target(slot, name)
        if start is None:
            return None
        n = self.buf.u32(start, f"{self.what}.{name} length")
        self.buf.need(start + 4, n, f"{self.what}.{name}")
        return self.buf.data[start + 4:start + 4 + n]

    def bytes_span(self, slot: int, name: str) -> tuple[int, int] | None:
        """(byte offset, length) of a `[ubyte]` vector inside the buffer."""
        start = self._target(slot, name)
        if start is None:
            return None
        n = self.buf.u32(start, f"{self.what}.{name} length")
        self.buf.need(start + 4, n, f"{self.what}.{name}")
        return start + 4, n

    def table(self, slot: int, name: str) -> "Table | None":
        start = self._target(slot, name)
        return None if start is None else Table(self.buf, start, f"{self.what}.{name}", self.depth + 1)

    def tables(self, slot: int, name: str) -> list["Table"]:
        """A vector of tables (empty when absent)."""
        start = self._target(slot, name)
        if start is None:
            return []
        n = self.buf.u32(start, f"{self.what}.{name} length")
        self.buf.need(start + 4, 4 * n, f"{self.what}.{name}")
        out = []
        for i in range(n):
            elem = start + 4 + 4 * i
            out.append(Table(self.buf, elem + self.buf.u32(elem, f"{self.what}.{name}[{i}]"),
                             f"{self.what}.{name}[{i}]", self.depth + 1))
        return out

    def structs(self, slot: int, name: str, st: struct.Struct) -> list[tuple]:
        """A vector of fixed-size structs, each unpacked with `st`."""
        start = self._target(slot, name)
        if start is None:
            return []
        n = self.buf.u32(start, f"{self.what}.{name} length")
        self.buf.need(start + 4, st.size * n, f"{self.what}.{name}")
        return [st.unpack_from(self.buf.data, start + 4 + st.size * i) for i in range(n)]

    def union(self, type_slot: int, name: str) -> tuple[int, "Table | None"]:
        """(union type tag, value table) of a union whose tag sits in `type_slot`."""
        tag = self.scalar(type_slot, "B", 0, name + "_type")
        return tag, (self.table(type_slot + 1, name) if tag else None)
