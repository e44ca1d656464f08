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
_SCALARS: dict[str, struct.Struct] = {}  # scalar format -> its little-endian Struct
_VT_HEAD = struct.Struct("<HH")   # vtable byte size, table byte size
_FIELDS: dict[int, struct.Struct] = {}  # vtable byte size -> its u16 field offsets


def _fields_struct(vt_size: int) -> struct.Struct:
    st = _FIELDS.get(vt_size)
    if st is None:
        st = _FIELDS[vt_size] = struct.Struct(f"<{(vt_size - 4) // 2}H")
    return st


#: Tables nested deeper than this are treated as a malformed (cyclic) buffer.
MAX_DEPTH = 64


class Buffer:
    """An immutable byte buffer with checked little-endian reads."""

    __slots__ = ("data", "size", "name", "vtables")

    def __init__(self, data: bytes | memoryview, name: str = "flatbuffer"):
        self.data = bytes(data)
        self.size = len(self.data)
        self.name = name
        #: the fast readers' cache of validated vtables (`rows.py`; facts about `data`)
        self.vtables: dict = {}

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
        # Well-formed tables take this path; any failed check goes the checked way below,
        # which raises the error naming it.
        data, size = buf.data, buf.size
        if 0 <= pos <= size - 4:
            vtable = pos - _I32.unpack_from(data, pos)[0]
            if 0 <= vtable <= size - 4:
                vt_size, table_size = _VT_HEAD.unpack_from(data, vtable)
                if (vt_size >= 4 and not vt_size & 1 and vtable + vt_size <= size
                        and pos + max(table_size, 4) <= size):
                    fields = _fields_struct(vt_size).unpack_from(data, vtable + 4)
                    if not fields or max(fields) < table_size:
                        self._fields = fields
                        return
        self._checked_init(buf, pos, what)

    def _checked_init(self, buf: Buffer, pos: int, what: str) -> None:
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
        fields = self._fields  # (`_field_pos`, inline: a dozen reads per module)
        off = fields[slot] if slot < len(fields) else 0
        if not off:
            return default
        pos = self.pos + off
        st = _SCALARS.get(fmt)
        if st is None:
            st = _SCALARS[fmt] = struct.Struct("<" + fmt)
        if pos + st.size <= self.buf.size:  # (pos >= 0: inside a checked table)
            return st.unpack_from(self.buf.data, pos)[0]
        return self.buf.read(st, pos, f"{self.what}.{name or slot}")

    def _target(self, slot: int, name: str) -> int | None:
        fields = self._fields  # (`_field_pos`, inline: a dozen reads per module)
        off = fields[slot] if slot < len(fields) else 0
        if not off:
            return None
        pos = self.pos + off
        if pos + 4 <= self.buf.size:  # (pos >= 0: inside a checked table)
            return pos + _U32.unpack_from(self.buf.data, pos)[0]
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
        buf = self.buf
        if start + 4 <= buf.size:  # (start >= 0: a non-negative offset from a table field)
            n = _U32.unpack_from(buf.data, start)[0]
            if start + 4 + n <= buf.size:
                return buf.data[start + 4:start + 4 + n]
        n = buf.u32(start, f"{self.what}.{name} length")
        buf.need(start + 4, n, f"{self.what}.{name}")
        return buf.data[start + 4:start + 4 + n]

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
        data, what, depth = self.buf.data, f"{self.what}.{name}", self.depth + 1
        out = []
        for i in range(n):  # (each element's u32 is inside the vector checked above)
            elem = start + 4 + 4 * i
            out.append(Table(self.buf, elem + _U32.unpack_from(data, elem)[0], f"{what}[{i}]",
                             depth))
        return out

    def structs(self, slot: int, name: str, st: struct.Struct) -> list[tuple]:
        """A vector of fixed-size structs, each unpacked with `st`."""
        start = self._target(slot, name)
        if start is None:
            return []
        n = self.buf.u32(start, f"{self.what}.{name} length")
        self.buf.need(start + 4, st.size * n, f"{self.what}.{name}")
        if not n or not st.size:
            return [st.unpack_from(self.buf.data, start + 4) for _ in range(n)]
        return list(st.iter_unpack(self.buf.data[start + 4:start + 4 + st.size * n]))

    def union(self, type_slot: int, name: str) -> tuple[int, "Table | None"]:
        """(union type tag, value table) of a union whose tag sits in `type_slot`."""
        tag = self.scalar(type_slot, "B", 0, name + "_type")
        return tag, (self.table(type_slot + 1, name) if tag else None)
