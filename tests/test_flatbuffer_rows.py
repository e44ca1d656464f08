"""`Table.rows`, the fast path of the schema reader over vectors of tables, against the
checked reads it stands for (`tables` then `string` / `scalar` per field): equal values
where those succeed, None (never an exception) where any of them raises. Checked on every
vector of tables the schema reads this way, in the corpus and in fuzzed FlatBuffers."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import corpus
from fuzz_vmfb import make_seed, mutate
from splatjit import FormatError
from splatjit.frontend.archive import _strip_zip_header
from splatjit.frontend.flatbuffer import Buffer
from splatjit.frontend.schema import _MODULE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: (path of tables from the root: (slot, is a vector) ..., spec) of each vector read by rows
STRING, I32, U32 = None, "i", "I"
VECTORS = [
    ((), _MODULE["exported_functions"], ((0, STRING), (1, I32))),
    ((), _MODULE["types"], ((0, STRING),)),
    ((), _MODULE["dependencies"], ((0, STRING), (1, U32), (2, U32))),
    ((), _MODULE["attrs"], ((0, STRING), (1, STRING))),
    (((_MODULE["debug_database"], False),), 2, ((0, STRING),)),
    (((_MODULE["function_signatures"], True),), 1, ((0, STRING), (1, STRING))),
    (((_MODULE["imported_functions"], True), (1, False)), 1, ((0, STRING), (1, STRING))),
    ((), _MODULE["function_signatures"], ((0, STRING), (1, ("vector", ((0, STRING), (1, STRING)))))),
    ((), _MODULE["imported_functions"],
     ((0, STRING), (1, ("table", ((0, STRING), (1, ("vector", ((0, STRING), (1, STRING))))))),
      (2, U32))),
]


def _row(t, spec) -> tuple:
    row = []
    for field_slot, kind in spec:
        if kind is None:
            row.append(t.string(field_slot, "f"))
        elif isinstance(kind, str):
            row.append(t.scalar(field_slot, kind, None, "f") if t.has(field_slot) else None)
        elif kind[0] == "vector":
            row.append([_row(e, kind[1]) for e in t.tables(field_slot, "f")])
        else:
            sub = t.table(field_slot, "f")
            row.append(None if sub is None else _row(sub, kind[1]))
    return tuple(row)


def _checked(table, slot, spec):
    """What the checked reads give: the rows, or the FormatError they raise."""
    try:
        return [_row(t, spec) for t in table.tables(slot, "v")]
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
            got = t.rows(slot, "v", spec)
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
    for item in corpus.all_items():
        try:
            data = corpus.compile_item(item)
        except corpus.CompileFailure:
            continue
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


SPEC = ((0, STRING), (1, I32))


def test_rows_of_a_well_formed_handmade_vector():
    root = Buffer(_synthetic()).root(b"IREE")
    assert root.rows(0, "v", SPEC) == _checked(root, 0, SPEC) == [("abc", 42)]
    root = Buffer(_synthetic(text=False)).root(b"IREE")
    assert root.rows(0, "v", SPEC) == _checked(root, 0, SPEC) == [(None, 42)]


def test_rows_refuse_lengths_and_scalars_that_run_past_the_buffer():
    for data in (_synthetic(count=1 << 20), _synthetic(strlen=200), _synthetic(strlen=5),
                 _synthetic(text=False, scalar_off=10), _synthetic(text=False, scalar_off=11)):
        root = Buffer(data).root(b"IREE")
        assert isinstance(_checked(root, 0, SPEC), FormatError)
        assert root.rows(0, "v", SPEC) is None


def test_rows_keep_the_nesting_limit():
    from splatjit.frontend.flatbuffer import MAX_DEPTH
    data = _synthetic()
    buf = Buffer(data)
    root_pos = int.from_bytes(data[:4], "little")
    ok = buf.table(root_pos, "root", MAX_DEPTH - 1)  # its elements sit at the limit
    assert ok.rows(0, "v", SPEC) == _checked(ok, 0, SPEC) == [("abc", 42)]
    deep = buf.table(root_pos, "root", MAX_DEPTH)    # its elements would pass it
    assert isinstance(_checked(deep, 0, SPEC), FormatError)
    assert deep.rows(0, "v", SPEC) is None
