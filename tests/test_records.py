"""`frontend.records.maker`: the loader's fast constructors build what the constructors build."""
from __future__ import annotations

import dataclasses

import pytest

from splatjit.frontend.cconv import parse_cconv
from splatjit.frontend.records import maker
from splatjit.frontend.schema import ExportDef, FunctionDescriptor, ImportDef, RodataSegment
from splatjit.ir import Reg, Successor

CASES = [
    (Successor, (16, 2, ((Reg("x32", 3), Reg("x32", 4)),))),
    (FunctionDescriptor, (8, 40, 1, 3, 6, 2)),
    (ImportDef, ("hal.buffer.length", parse_cconv("0r_I"), {"k": "v"}, True)),
    (ExportDef, ("main", 4)),
    (RodataSegment, (b"abc", True, 128)),
]


@pytest.mark.parametrize("cls, values", CASES, ids=[c.__name__ for c, _ in CASES])
def test_made_records_equal_constructed_ones(cls, values):
    made, built = maker(cls)(*values), cls(*values)
    assert type(made) is cls
    assert made == built
    if cls is not ImportDef:  # (its attrs are a dict: no hash either way)
        assert hash(made) == hash(built)
    for f in dataclasses.fields(cls):
        assert getattr(made, f.name) is getattr(built, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(cls)[0].name, None)
    other = dataclasses.replace(made, **{dataclasses.fields(cls)[-1].name: None})
    assert other != made


def test_maker_takes_every_field():
    with pytest.raises(TypeError):
        maker(RodataSegment)(b"", False)  # archive_offset has a default; the maker takes none


def test_maker_refuses_what_it_cannot_build_like_the_constructor():
    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        a: int

    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self):
            if self.a < 0:
                raise ValueError(self.a)

    for cls in (Unslotted, Mutable, Checked):
        with pytest.raises(TypeError):
            maker(cls)
