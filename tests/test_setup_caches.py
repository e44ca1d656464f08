"""Per-module setup caches: calling conventions parsed once per string, scalar marshallers
made once per signature. Both are shared between modules, so they must key on everything
that determines them and never keep a failure."""
from __future__ import annotations

import pytest

import corpus
from splatjit import FormatError
from splatjit.frontend import cconv
from splatjit.frontend.cconv import Signature, parse_cconv
from splatjit.module import JitModule
from splatjit.runtime.values import ScalarMarshaller


def test_each_convention_string_is_parsed_once_and_read_exactly():
    a, b = parse_cconv("0iI_f"), parse_cconv("0iI_F")  # same length, other result type
    assert a is parse_cconv("0iI_f")
    assert (a.args, a.results, b.results) == (("i32", "i64"), ("f32",), ("f64",))
    assert parse_cconv("0CiD_v").args == (("i32",),)
    assert parse_cconv("0CiD_v") is parse_cconv("0CiD_v")


def test_malformed_conventions_raise_every_time():
    for _ in range(2):
        with pytest.raises(FormatError, match="unknown type code"):
            parse_cconv("0iq_v")
        with pytest.raises(FormatError, match="not of the form"):
            parse_cconv("iq")


def test_the_convention_cache_is_bounded():
    cconv._PARSED.clear()
    for n in range(cconv.MAX_PARSED + 5):
        parse_cconv("0" + "i" * (n % 64 + 1) + "_" + "I" * (n // 64 + 1))
    assert len(cconv._PARSED) <= cconv.MAX_PARSED


def test_marshallers_are_shared_per_signature_and_keyed_on_args_and_results():
    def sig(args, results):
        return Signature("", args, results)
    m = ScalarMarshaller.of(sig(("i32", "i64"), ("f32",)))
    assert m is ScalarMarshaller.of(sig(("i32", "i64"), ("f32",)))
    other = ScalarMarshaller.of(sig(("i32", "i64"), ("f64",)))
    assert other is not m and other.result_struct.format != m.result_struct.format
    assert ScalarMarshaller.of(sig(("i32", "ref"), ())) is None
    assert ScalarMarshaller.of(sig((("i32",),), ())) is None  # variadic


def test_modules_sharing_a_marshaller_return_their_own_results():
    """Two modules with exports of one signature: each call packs and unpacks its own."""
    data = corpus.compile_item(corpus.find_item("vm/arith_i32"))
    a, b = JitModule(data), JitModule(data)
    try:
        names = [n for n, e in a._exports.items() if e._scalar is not None]
        assert names
        for n in names:
            assert a._exports[n]._scalar is b._exports[n]._scalar
        f = next(n for n in names if len(a._exports[n].signature.args) == 2)
        assert getattr(a, f)(7, 5) == getattr(b, f)(7, 5)
        assert getattr(a, f)(1000, 3) == getattr(b, f)(1000, 3)
    finally:
        a.close()
        b.close()
