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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="splatjit", description="JIT compiler for IREE VM bytecode")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="list a .vmfb module: sections and every function, op by op")
    d.add_argument("file")
    d.add_argument("--offsets", action="store_true", help="prefix each op with its bytecode offset")
    d.add_argument("--no-nested", action="store_true", help="skip nested executables")
    d.set_defaults(func=cmd_dump)
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
