"""Spec-driven reads of FlatBuffer tables: one `TableSpec` per table type drives both a fast
read and the checked read it stands for, so the two cannot disagree on a slot, a field name,
a kind or a default.

Contract of `read_rows(table, slot, name, spec, limit=None)`: the rows of the vector of
tables in field `slot` of `table` ([] when absent), one tuple per table with one value per
`Field` of `spec`, in field order; only the first `limit` rows when `limit` is given (every
element table is still checked, as `Table.tables` does). Values:
  * `STRING`: the UTF-8 string, `default` when the field is absent;
  * `BYTES`: a `[ubyte]` vector as bytes, `default` when the field is absent;
  * a `struct` scalar format ("I", "i", "Q", ...): the value, `default` when absent;
  * `Vector(spec)`: the list of rows of that vector of tables ([] when absent);
  * `Child(spec)`: the row of that one table (an absent table reads as an empty one: the
    row of its fields' defaults);
and a field's `convert`, if any, is applied to its value right after the field is read.

Two ways, one answer:
  * the checked way (`checked_rows`) reads through `Table` (`tables`, `table`, `string`,
    `scalar`) in field order, row by row, and raises the `FormatError` naming the first
    thing wrong (or whatever a `convert` raises);
  * the fast way (`fast_rows`) runs code generated once per spec that reads the bytes
    directly, validates each distinct vtable once per vector, and makes no `Table`
    objects. It accepts no more than the checked way: on anything out of the ordinary
    (a bound, a vtable, the nesting limit, bad UTF-8, a `convert` that raises) it returns
    None and `read_rows` takes the checked way, which raises the error. (It may decline
    input the checked way accepts, e.g. a bad row past `limit`; then the checked way
    simply gives the answer.)
"""
from __future__ import annotations

import struct
from operator import itemgetter
from typing import Callable, NamedTuple

from ..errors import FormatError
from .flatbuffer import MAX_DEPTH, Table

STRING = "string"
BYTES = "bytes"


class Vector(NamedTuple):
    """Field kind: a vector of tables of `spec`."""
    spec: "TableSpec"


class Child(NamedTuple):
    """Field kind: one table of `spec`."""
    spec: "TableSpec"


class Field(NamedTuple):
    """One field of a table: its vtable slot (0-based, schema order; a union takes two),
    its schema name (used in error messages), its kind (`STRING`, `BYTES`, a struct scalar format,
    `Vector` or `Child`), the value when absent, and an optional conversion of the value.
    A `check_only` field is read for the order its errors come in alone: its value is None
    either way, and the fast way skips it (a later field must read the same bytes, so the
    fast way declines where the checked way would fail on it)."""
    slot: int
    name: str
    kind: object
    default: object = None
    convert: Callable | None = None
    check_only: bool = False


class TableSpec:
    """A table type as the schema reads it: its fields, in the order they are read."""

    __slots__ = ("name", "fields", "number", "_vector")
    _made = 0

    def __init__(self, name: str, *fields: Field):
        self.name, self.fields = name, fields
        TableSpec._made += 1
        self.number = TableSpec._made  # unique for the process (its vtable cache keys)
        self._vector = None

    def __repr__(self):
        return f"TableSpec({self.name})"

    def default_row(self) -> tuple:
        """The row of an absent table: each field's default (converted)."""
        return tuple(_convert(f, [] if isinstance(f.kind, Vector) else
                              f.kind.spec.default_row() if isinstance(f.kind, Child) else
                              f.default) for f in self.fields)


def _convert(f: Field, value):
    return value if f.convert is None else f.convert(value)


# ----------------------------------------------------------------------------- the checked way
def _checked_row(t: Table, spec: TableSpec) -> tuple:
    row = []
    for f in spec.fields:
        kind = f.kind
        if kind is STRING:
            value = t.string(f.slot, f.name, f.default)
        elif kind is BYTES:
            value = t.bytes_(f.slot, f.name)
            value = f.default if value is None else value
        elif isinstance(kind, str):
            value = t.scalar(f.slot, kind, f.default, f.name)
        elif isinstance(kind, Vector):
            value = [_checked_row(e, kind.spec) for e in t.tables(f.slot, f.name)]
        else:
            sub = t.table(f.slot, f.name)
            value = kind.spec.default_row() if sub is None else _checked_row(sub, kind.spec)
        row.append(None if f.check_only else _convert(f, value))
    return tuple(row)


def checked_rows(table: Table, slot: int, name: str, spec: TableSpec,
                 limit: int | None = None) -> list[tuple]:
    """The rows read through `Table`'s checked reads; raises the error they raise."""
    return [_checked_row(t, spec) for t in table.tables(slot, name)[:limit]]


# ----------------------------------------------------------------------------- the fast way
class _Decline(Exception):
    """Internal: the fast read does not accept this vector (the checked way decides)."""


_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_VT_HEAD = struct.Struct("<HH").unpack_from
_OFFSETS: dict[int, Callable] = {}  # element count -> its u32 vector unpacker
_FIELDS: dict[int, Callable] = {}   # vtable byte size -> its u16 field offsets unpacker


def _offsets(n: int) -> Callable:
    st = _OFFSETS.get(n)
    if st is None:
        if len(_OFFSETS) >= 1024:
            _OFFSETS.clear()
        st = _OFFSETS[n] = struct.Struct(f"<{n}I").unpack_from
    return st


_PROJECTIONS: dict = {}  # (vtable bytes, projection) -> `_project`'s answer, for the process
MAX_PROJECTIONS = 1 << 12


def _vtable(data: bytes, size: int, vt: int, project: Callable, top: int) -> tuple | None:
    """(max(table size, 4), the field offsets `project` picks (0 for a field past the
    vtable's end)...) of the vtable at `vt` (`top`: the highest slot `project` picks), or
    None if `Table` would refuse it (a bad vtable, or a field outside the table).
    Answered once per process for each (vtable bytes, projection): modules share them."""
    if not 0 <= vt <= size - 4:
        return None
    vt_size = data[vt] | data[vt + 1] << 8
    if vt + vt_size > size:
        return None
    key = (data[vt:vt + vt_size], project)
    got = _PROJECTIONS.get(key, False)
    if got is False:
        if len(_PROJECTIONS) >= MAX_PROJECTIONS:
            _PROJECTIONS.clear()
        got = _PROJECTIONS[key] = _project(key[0], project, top)
    return got


def _project(vtable: bytes, project: Callable, top: int) -> tuple | None:
    """`_vtable`'s answer for a vtable of these bytes (its whole length inside the buffer)."""
    if len(vtable) < 4:
        return None
    vt_size, table_size = _VT_HEAD(vtable, 0)
    if vt_size < 4 or vt_size & 1:
        return None
    st = _FIELDS.get(vt_size)
    if st is None:
        st = _FIELDS[vt_size] = struct.Struct(f"<{(vt_size - 4) // 2}H").unpack_from
    fields = st(vtable, 4)
    if fields and max(fields) >= table_size:
        return None
    if len(fields) <= top:
        fields += (0,) * (top + 1 - len(fields))
    return (table_size if table_size > 4 else 4,) + project(fields)


def _tag(spec: TableSpec) -> int:
    """A cache-key offset unique to `spec`: (vtable position + tag) names one projection.
    A vtable position is a table position (< 2**32) minus an i32, so it lies in
    (-2**31, 2**32 + 2**31): tags 2**34 apart keep every spec's keys apart."""
    return spec.number << 34


def _field_code(lines: list, env: dict, p: str, k: int, f: Field, ind: str) -> None:
    """Code that sets `{p}v{k}` from field `f` of the table at `{p}pos` (offset `{p}o{k}`);
    the table sits at `{p}depth`."""
    v, o, pos, depth = f"{p}v{k}", f"{p}o{k}", f"{p}pos", f"{p}depth"
    if f.check_only:
        lines.append(f"{ind}{v} = None")
        return
    env[f"{p}D{k}"] = f.default
    kind = f.kind
    lines += [f"{ind}if {o}:", f"{ind}    a = {pos} + {o}"]
    if isinstance(kind, str) and kind is not STRING and kind is not BYTES:
        st = struct.Struct("<" + kind)
        env[f"{p}S{k}"] = st.unpack_from
        lines += [f"{ind}    if a + {st.size} > size: raise DECLINE",
                  f"{ind}    {v} = {p}S{k}(data, a)[0]",
                  f"{ind}else:",
                  f"{ind}    {v} = {p}D{k}"]
    else:
        lines += [f"{ind}    if a + 4 > size: raise DECLINE",
                  f"{ind}    a += U32(data, a)[0]"]
        if kind is STRING or kind is BYTES:
            lines += [f"{ind}    if a + 4 > size: raise DECLINE",
                      f"{ind}    e = a + 4 + U32(data, a)[0]",
                      f"{ind}    if e > size: raise DECLINE",
                      f"{ind}    {v} = data[a + 4:e]{'.decode()' if kind is STRING else ''}",
                      f"{ind}else:",
                      f"{ind}    {v} = {p}D{k}"]
        elif isinstance(kind, Vector):
            env[f"{p}R{k}"] = _vector_reader(kind.spec)
            lines += [f"{ind}    {v} = {p}R{k}(data, size, a, {depth} + 1, cache)",
                      f"{ind}else:",
                      f"{ind}    {v} = []"]
        else:  # a child table, read inline
            q = f"{p}c{k}_"
            env[f"{p}E{k}"] = kind.spec.default_row
            lines += [f"{ind}    {q}pos, {q}depth = a, {depth} + 1",
                      f"{ind}    if {q}depth > MAX_DEPTH: raise DECLINE"]
            row = _table_code(lines, env, kind.spec, q, ind + "    ")
            lines += [f"{ind}    {v} = {row}",
                      f"{ind}else:",
                      f"{ind}    {v} = {p}E{k}()"]
    if f.convert is not None:
        env[f"{p}C{k}"] = f.convert
        lines.append(f"{ind}{v} = {p}C{k}({v})")


def _table_code(lines: list, env: dict, spec: TableSpec, p: str, ind: str) -> str:
    """Code that reads the `spec` table at `{p}pos` (its vtable's projection onto the
    spec's slots cached in `cache`); returns the row expression."""
    slots = tuple(f.slot for f in spec.fields)
    # (a tuple of the spec's field offsets, by slot; itemgetter of one slot gives no tuple)
    env[f"{p}PROJECT"] = itemgetter(*slots, *slots[:1]) if len(slots) == 1 else itemgetter(*slots)
    env[f"{p}TOP"], env[f"{p}TAG"] = max(slots), _tag(spec)
    offs = ", ".join(f"{p}o{k}" for k in range(len(slots)))
    pos = f"{p}pos"
    lines += [f"{ind}if {pos} > size - 4: raise DECLINE",
              f"{ind}vt = {pos} - I32(data, {pos})[0] + {p}TAG",
              f"{ind}c = cache.get(vt)",
              f"{ind}if c is None:",
              f"{ind}    c = cache[vt] = VTABLE(data, size, vt - {p}TAG, {p}PROJECT, {p}TOP) or ()",
              f"{ind}if not c or {pos} + c[0] > size: raise DECLINE",
              f"{ind}_, {offs}{', _' if len(slots) == 1 else ''} = c"]
    for k, f in enumerate(spec.fields):
        _field_code(lines, env, p, k, f, ind)
    return "(" + "".join(f"{p}v{k}, " for k in range(len(slots))) + ")"


def _env() -> dict:
    # (the class, not one shared instance: a raised instance keeps the frames it passed)
    return {"DECLINE": _Decline, "U32": _U32, "I32": _I32, "VTABLE": _vtable,
            "OFFSETS": _offsets, "MAX_DEPTH": MAX_DEPTH}


def _vector_reader(spec: TableSpec) -> Callable:
    """`read(data, size, start, depth, cache)`: the rows of the vector of `spec` tables at
    `start` (its elements at `depth`; `cache` holds vtable projections, valid for one
    buffer); raises `_Decline` on anything irregular. Generated once per spec."""
    if spec._vector is None:
        env = _env()
        lines = ["def read(data, size, start, depth, cache):",
                 "    if start + 4 > size: raise DECLINE",
                 "    n = U32(data, start)[0]",
                 "    if not n: return []",
                 "    if depth > MAX_DEPTH or start + 4 + 4 * n > size: raise DECLINE",
                 "    out = []",
                 "    elem = start + 4",
                 "    for off in OFFSETS(n)(data, elem):",
                 "        pos = elem + off",
                 "        elem += 4"]
        row = _table_code(lines, env, spec, "", "        ")
        lines += [f"        out.append({row})", "    return out"]
        src = "\n".join(lines) + "\n"
        exec(compile(src, f"<rows {spec.name}[]>", "exec"), env)  # noqa: S102 - our specs
        spec._vector = env["read"]
    return spec._vector


def fast_rows(table: Table, slot: int, name: str, spec: TableSpec) -> list[tuple] | None:
    """The rows read the fast way (all of them), or None where the checked way must decide."""
    start = table._target(slot, name)
    if start is None:
        return []
    buf = table.buf
    try:
        return _vector_reader(spec)(buf.data, buf.size, start, table.depth + 1, buf.vtables)
    except (_Decline, FormatError, UnicodeDecodeError, struct.error):
        return None


def read_rows(table: Table, slot: int, name: str, spec: TableSpec,
              limit: int | None = None) -> list[tuple]:
    """The rows of a vector of tables (see the module docstring); raises `FormatError`."""
    rows = fast_rows(table, slot, name, spec)
    if rows is None:
        return checked_rows(table, slot, name, spec, limit)
    return rows if limit is None else rows[:limit]
