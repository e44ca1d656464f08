"""`rows.fast_rows`, the fast path of the schema reader over vectors of tables, against
`rows.checked_rows`, the checked reads it stands for (`tables` then `string` / `scalar` /
`table` per field, from the same `TableSpec`): equal rows where those succeed, None (never
an exception) where they raise. Checked on every vector of tables the schema reads this
way, in the corpus and in fuzzed FlatBuffers, and on whole modules: `read_module` gives the
same `ModuleDef` or the same error with the fast path turned off."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

import corpus
from fuzz_vmfb import make_seed, mutate
from splatjit import FormatError
from splatjit.frontend import rows as rows_mod
from splatjit.frontend import schema
from splatjit.frontend.archive import _strip_zip_header, load_module_def
from splatjit.frontend.flatbuffer import Buffer
from splatjit.frontend.rows import STRING, Field, TableSpec, checked_rows, fast_rows
from splatjit.frontend.schema import _MODULE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: (path of tables from the root: (slot, is a vector) ..., slot, spec) of each vector of
#: tables the schema reads as rows
VECTORS = [
    ((), _MODULE["exported_functions"], schema.EXPORT),
    ((), _MODULE["types"], schema.TYPE),
    ((), _MODULE["dependencies"], schema.DEPENDENCY),
    ((), _MODULE["attrs"], schema.ATTR),
    ((), _MODULE["rwdata_segments"], schema.RWDATA),
    (((_MODULE["debug_database"], False),), 2, schema.DEBUG_FUNCTION),
    (((_MODULE["function_signatures"], True),), 1, schema.ATTR),
    (((_MODULE["imported_functions"], True), (1, False)), 1, schema.ATTR),
    ((), _MODULE["function_signatures"], schema.SIGNATURE),
    ((), _MODULE["imported_functions"], schema.IMPORT),
    ((), _MODULE["rodata_segments"], schema.RODATA),
]


def _checked(table, slot, spec):
    """What the checked reads give: the rows, or the FormatError they raise."""
    try:
        return checked_rows(table, slot, "v", spec)
    except FormatError as e:
        return e


def _holders(root, path):
    """The tables that hold the vector: following `path` from the root (vectors fan out)."""
    tables = [root]
    for slot, is_vector in path:
        nxt = []
        for t in tables:
            if is_vector:
                nxt += t.tables(slot, "p")
            else:
                one = t.table(slot, "p")
                nxt += [one] if one is not None else []
        tables = nxt
    return tables


def _compare(fb: bytes) -> tuple[int, int]:
    """(rows that matched, vectors where both sides refused) over one FlatBuffer."""
    matched = refused = 0
    try:
        root = Buffer(fb).root(b"IREE")
    except FormatError:
        return 0, 0
    for path, slot, spec in VECTORS:
        try:
            holders = _holders(root, path)
        except FormatError:
            continue
        for t in holders:
            want = _checked(t, slot, spec)
            got = fast_rows(t, slot, "v", spec)
            if isinstance(want, FormatError):
                assert got is None, f"rows accepts what the checked reads refuse: {want}"
                refused += 1
            else:
                assert got is None or got == want
                assert got is not None or not want, "rows refuses a well-formed vector"
                matched += len(want)
    return matched, refused


def _flatbuffer(data: bytes) -> bytes:
    try:
        start = _strip_zip_header(data)
    except FormatError:
        return b""
    length = int.from_bytes(data[start:start + 4], "little")
    return data[start + 4:start + 4 + length]


def test_rows_match_the_checked_reads_on_the_corpus():
    matched = 0
    for _, data in corpus.compiled(corpus.all_items()):
        matched += _compare(_flatbuffer(data))[0]
    assert matched > 500


def test_rows_refuse_exactly_what_the_checked_reads_refuse_in_fuzzed_flatbuffers():
    seeds = [make_seed((EXAMPLES / name).read_bytes()) for name in ("loop_sum.vmfb", "matmul.vmfb")]
    rng = random.Random(11)
    refused = matched = 0
    for i in range(3000):
        seed = seeds[i % 2]
        kind, data = mutate(seed, rng)
        if kind.startswith("bc_"):
            continue
        m, r = _compare(_flatbuffer(data))
        matched, refused = matched + m, refused + r
    assert matched > 1000 and refused > 20, (matched, refused)


def _synthetic(*, count: int = 1, strlen: int = 3, scalar_off: int = 8,
               text: bool = True) -> bytes:
    """A hand-made FlatBuffer: the root's field 0 is a vector of `count` (claimed) tables,
    one real: field 0 a string of `strlen` (claimed) bytes after it (absent without
    `text`, and then the table ends the buffer), field 1 an i32 at byte `scalar_off` of the
    12-byte table."""
    b = bytearray(struct.pack("<I", 0) + b"IREE")
    root_vt = len(b)
    b += struct.pack("<HHH", 6, 8, 4) + b"\0\0"
    root = len(b)
    b += struct.pack("<iI", root - root_vt, 0)
    vec = len(b)
    b += struct.pack("<II", count, 0)
    elem_vt = len(b)
    b += struct.pack("<HHHH", 8, 12, 4 if text else 0, scalar_off)
    elem = len(b)
    b += struct.pack("<iIi", elem - elem_vt, 0, 42)
    at = len(b)
    if text:
        b += struct.pack("<I", strlen) + b"abc\0"
        struct.pack_into("<I", b, elem + 4, at - (elem + 4))
    struct.pack_into("<I", b, 0, root)
    struct.pack_into("<I", b, root + 4, vec - (root + 4))
    struct.pack_into("<I", b, vec + 4, elem - (vec + 4))
    return bytes(b)


SPEC = TableSpec("T", Field(0, "s", STRING), Field(1, "n", "i", 0))


def test_rows_of_a_well_formed_handmade_vector():
    root = Buffer(_synthetic()).root(b"IREE")
    assert fast_rows(root, 0, "v", SPEC) == _checked(root, 0, SPEC) == [("abc", 42)]
    root = Buffer(_synthetic(text=False)).root(b"IREE")
    assert fast_rows(root, 0, "v", SPEC) == _checked(root, 0, SPEC) == [(None, 42)]


def test_rows_refuse_lengths_and_scalars_that_run_past_the_buffer():
    for data in (_synthetic(count=1 << 20), _synthetic(strlen=200), _synthetic(strlen=5),
                 _synthetic(text=False, scalar_off=10), _synthetic(text=False, scalar_off=11)):
        root = Buffer(data).root(b"IREE")
        assert isinstance(_checked(root, 0, SPEC), FormatError)
        assert fast_rows(root, 0, "v", SPEC) is None


def test_rows_keep_the_nesting_limit():
    from splatjit.frontend.flatbuffer import MAX_DEPTH
    data = _synthetic()
    buf = Buffer(data)
    root_pos = int.from_bytes(data[:4], "little")
    ok = buf.table(root_pos, "root", MAX_DEPTH - 1)  # its elements sit at the limit
    assert fast_rows(ok, 0, "v", SPEC) == _checked(ok, 0, SPEC) == [("abc", 42)]
    deep = buf.table(root_pos, "root", MAX_DEPTH)    # its elements would pass it
    assert isinstance(_checked(deep, 0, SPEC), FormatError)
    assert fast_rows(deep, 0, "v", SPEC) is None


def _outcome(data: bytes):
    """What `load_module_def` gives: the module's repr, or the error's class and message."""
    try:
        return repr(load_module_def(data))
    except Exception as e:  # noqa: BLE001 - compared, not hidden
        return type(e).__name__, str(e)


def _fast_path_off(monkeypatch):
    monkeypatch.setattr(rows_mod, "fast_rows", lambda *a: None)


def _module_outcomes(monkeypatch, items) -> tuple[list, list]:
    items = list(items)
    fast = [_outcome(d) for d in items]
    with monkeypatch.context() as m:
        _fast_path_off(m)
        checked = [_outcome(d) for d in items]
    return fast, checked


def test_module_defs_are_the_same_with_the_fast_path_off_on_the_corpus(monkeypatch):
    datas = [data for _, data in corpus.compiled(corpus.all_items())]
    fast, checked = _module_outcomes(monkeypatch, datas)
    assert fast == checked
    assert sum(isinstance(o, str) for o in fast) > 20


def test_module_defs_and_errors_are_the_same_with_the_fast_path_off_in_fuzzed_files(monkeypatch):
    """The fast path declines and the checked way raises: the same error, class and message,
    as reading the checked way throughout; and the same ModuleDef where both accept."""
    seeds = [make_seed((EXAMPLES / name).read_bytes()) for name in ("loop_sum.vmfb", "matmul.vmfb")]
    rng = random.Random(12)
    mutants = [mutate(seeds[i % 2], rng)[1] for i in range(3000)]
    fast, checked = _module_outcomes(monkeypatch, mutants)
    for f, c in zip(fast, checked):
        assert f == c
    errors = {o[0] for o in fast if isinstance(o, tuple)}
    assert "FormatError" in errors and sum(isinstance(o, str) for o in fast) > 100


CHILD = TableSpec("C", Field(0, "s", STRING, "none", str.upper))
PARENT = TableSpec("P", Field(0, "child", rows_mod.Child(CHILD)), Field(1, "n", "i", 7))


def test_an_absent_child_table_reads_as_its_fields_defaults_converted():
    """`_synthetic`'s element has no table in field 0 (a string there) when `text` is off:
    the row holds the child's default row, converted, both ways; field 1 is read."""
    root = Buffer(_synthetic(text=False)).root(b"IREE")
    assert fast_rows(root, 0, "v", PARENT) == _checked(root, 0, PARENT) == [(("NONE",), 42)]


def test_a_convert_that_raises_sends_the_read_the_checked_way():
    def refuse(text):
        raise FormatError(f"refused {text!r}")
    spec = TableSpec("R", Field(0, "s", STRING, "", refuse))
    root = Buffer(_synthetic()).root(b"IREE")
    assert fast_rows(root, 0, "v", spec) is None
    with pytest.raises(FormatError, match="refused 'abc'"):
        rows_mod.read_rows(root, 0, "v", spec)


def test_limit_reads_the_fields_of_the_first_rows_only_but_checks_every_table():
    """The debug database's function names past the module's functions are not read (a bad
    one there is no error), as `Table.tables(...)[:limit]` then field reads would do."""
    root = Buffer(_synthetic(strlen=200)).root(b"IREE")  # its one string runs past the buffer
    assert fast_rows(root, 0, "v", SPEC) is None
    assert rows_mod.read_rows(root, 0, "v", SPEC, limit=0) == []
    with pytest.raises(FormatError):
        rows_mod.read_rows(root, 0, "v", SPEC, limit=1)
    with pytest.raises(FormatError):  # a vector longer than the buffer, even at limit 0
        rows_mod.read_rows(Buffer(_synthetic(count=1 << 20)).root(b"IREE"), 0, "v", SPEC, limit=0)


def _nested() -> bytes:
    """A hand-made FlatBuffer: the root's field 0 is a vector of one table whose field 0
    is a child table whose field 0 is the string "hi"."""
    b = bytearray(struct.pack("<I", 0) + b"IREE")
    vt = len(b)
    b += struct.pack("<HHH", 6, 8, 4) + b"\0\0"  # one vtable for all three tables
    at = {}
    for part in ("root", "vector", "element", "child", "text"):  # offsets point forward
        at[part] = len(b)
        if part == "vector":
            b += struct.pack("<II", 1, 0)
        elif part == "text":
            b += struct.pack("<I", 2) + b"hi\0\0"
        else:  # a table: soffset, then its one u32 field
            b += struct.pack("<iI", len(b) - vt, 0)
    struct.pack_into("<I", b, 0, at["root"])
    for src, field, dst in (("root", 4, "vector"), ("vector", 4, "element"),
                            ("element", 4, "child"), ("child", 4, "text")):
        struct.pack_into("<I", b, at[src] + field, at[dst] - (at[src] + field))
    return bytes(b)


def test_child_tables_keep_the_nesting_limit():
    from splatjit.frontend.flatbuffer import MAX_DEPTH
    data = _nested()
    buf = Buffer(data)
    root_pos = int.from_bytes(data[:4], "little")
    ok = buf.table(root_pos, "root", MAX_DEPTH - 2)  # its children sit at the limit
    assert fast_rows(ok, 0, "v", PARENT) == _checked(ok, 0, PARENT) == [(("HI",), 7)]
    deep = buf.table(root_pos, "root", MAX_DEPTH - 1)  # its children would pass it
    assert isinstance(_checked(deep, 0, PARENT), FormatError)
    assert fast_rows(deep, 0, "v", PARENT) is None


def test_specs_reading_the_same_tables_keep_their_own_vtable_projections():
    """The fast read caches each vtable's offsets, as picked for one spec, on the Buffer:
    another spec over the same tables must not see the first one's picks."""
    buf = Buffer(_synthetic())
    root = buf.root(b"IREE")
    number = TableSpec("N", Field(1, "n", "i", 0))
    text = TableSpec("S", Field(0, "s", STRING))
    both = TableSpec("B", Field(1, "n", "i", 0), Field(0, "s", STRING))
    assert fast_rows(root, 0, "v", number) == [(42,)]
    assert fast_rows(root, 0, "v", text) == [("abc",)]
    assert fast_rows(root, 0, "v", both) == [(42, "abc")]
    assert buf.vtables  # (the cache was used)


def test_a_check_only_field_is_none_both_ways_and_its_errors_come_first():
    """A `check_only` field (an import's first read of its signature) gives None either
    way; the checked way still reads it, so its error is the one raised, and the fast way
    declines (the later field reading the same bytes fails there)."""
    spec = TableSpec("K", Field(0, "first", STRING, check_only=True), Field(1, "n", "i", 0),
                     Field(0, "again", STRING))
    root = Buffer(_synthetic()).root(b"IREE")
    assert fast_rows(root, 0, "v", spec) == _checked(root, 0, spec) == [(None, 42, "abc")]
    root = Buffer(_synthetic(strlen=200)).root(b"IREE")
    assert fast_rows(root, 0, "v", spec) is None
    with pytest.raises(FormatError, match=r"\.first"):
        rows_mod.read_rows(root, 0, "v", spec)
