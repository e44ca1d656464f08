"""IREE VM calling-convention strings, e.g. `0rIIiiCID_r`.

Grammar (version 0): `0` ARGS `_` RESULTS, each a sequence of type codes:
  i = i32, I = i64, f = f32, F = f64, r = ref, v = no values (only as the whole list),
  C ... D = a variadic span: a tuple of the enclosed types repeated a run-time number of times.
Spans do not nest. A parsed signature is plain data: tuples of codes, a span is a tuple.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormatError

#: Type code -> the value type it denotes.
CODE_TYPES = {"i": "i32", "I": "i64", "f": "f32", "F": "f64", "r": "ref"}


@dataclass(frozen=True)
class Signature:
    """A parsed calling convention. `args`/`results` hold type names or span tuples."""
    text: str
    args: tuple
    results: tuple

    @property
    def is_variadic(self) -> bool:
        return any(isinstance(a, tuple) for a in self.args)

    def describe(self) -> str:
        def one(t):
            return "tuple<" + ", ".join(map(_pretty, t)) + ">..." if isinstance(t, tuple) else _pretty(t)
        return "(" + ", ".join(map(one, self.args)) + ") -> (" + ", ".join(map(one, self.results)) + ")"


def _pretty(t: str) -> str:
    return "!vm.ref<?>" if t == "ref" else t


def _parse_list(text: str, full: str) -> tuple:
    if text == "v":
        return ()
    out: list = []
    span: list | None = None
    for ch in text:
        if ch == "C":
            if span is not None:
                raise FormatError(f"calling convention {full!r}: nested variadic span")
            span = []
        elif ch == "D":
            if span is None:
                raise FormatError(f"calling convention {full!r}: span end without start")
            out.append(tuple(span))
            span = None
        elif ch in CODE_TYPES:
            (out if span is None else span).append(CODE_TYPES[ch])
        else:
            raise FormatError(f"calling convention {full!r}: unknown type code {ch!r}")
    if span is not None:
        raise FormatError(f"calling convention {full!r}: unterminated variadic span")
    return tuple(out)


def parse_cconv(text: str) -> Signature:
    """Parses a calling-convention string; raises `FormatError` on malformed input.
    Signatures are immutable: each distinct string is parsed once (modules repeat a few
    dozen conventions over hundreds of functions and imports)."""
    sig = _PARSED.get(text)
    if sig is None:
        if len(_PARSED) >= MAX_PARSED:
            _PARSED.clear()
        sig = _PARSED[text] = _parse(text)
    return sig


_PARSED: dict[str, Signature] = {}
MAX_PARSED = 1 << 12


def _parse(text: str) -> Signature:
    if not text or text[0] != "0" or text.count("_") != 1:
        raise FormatError(f"calling convention {text!r} is not of the form 0ARGS_RESULTS")
    args, results = text[1:].split("_")
    if not args or not results:
        raise FormatError(f"calling convention {text!r} has an empty argument or result list")
    return Signature(text, _parse_list(args, text), _parse_list(results, text))
