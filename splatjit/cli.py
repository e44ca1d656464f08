"""The `splatjit` command line: thin wrappers over the public API.

Exit codes: 0 success, 1 a `SplatJitError` (message on stderr), 2 usage or I/O errors.
"""
from __future__ import annotations

import argparse
import sys

from .errors import SplatJitError


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise SystemExit(f"splatjit: cannot read {path}: {e.strerror}") from None


def cmd_dump(args) -> int:
    from .frontend.dump import dump
    from .frontend.loader import load_module
    mod = load_module(_read(args.file), nested=not args.no_nested)
    sys.stdout.write(dump(mod, offsets=args.offsets))
    return 0


def cmd_disasm(args) -> int:
    from .disasm import as_json, as_text, function_records
    from .module import JitModule
    module = JitModule(_read(args.file), target=args.target)
    records = function_records(module, None, args.function)
    if args.function and not records:
        raise SystemExit(f"splatjit: no function named {args.function!r}")
    sys.stdout.write((as_json(records) if args.json else as_text(records)) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="splatjit", description="JIT compiler for IREE VM bytecode")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="list a .vmfb module: sections and every function, op by op")
    d.add_argument("file")
    d.add_argument("--offsets", action="store_true", help="prefix each op with its bytecode offset")
    d.add_argument("--no-nested", action="store_true", help="skip nested executables")
    d.set_defaults(func=cmd_dump)
    x = sub.add_parser("disasm", help="generated machine code interleaved with the bytecode")
    x.add_argument("file")
    x.add_argument("--function", help="only this function")
    x.add_argument("--target", default="native", choices=("native", "x86_64", "aarch64"),
                   help="ISA to compile for (aarch64 code is shown as it would run)")
    x.add_argument("--json", action="store_true", help="machine-readable output")
    x.set_defaults(func=cmd_disasm)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SplatJitError as e:
        print(f"splatjit: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
