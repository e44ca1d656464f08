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
    from .hal.local import intrinsic_providers
    from .module import JitModule
    data = _read(args.file)
    # a VMVX kernel module (a program's nested executable) gets the vmvx microkernels
    module = JitModule(data, target=args.target, imports=intrinsic_providers(data),
                       tier=args.tier)
    records = function_records(module, None, args.function)
    if args.nested:  # each nested VMVX executable, compiled as the program's HAL compiles it
        for exe in module.loaded.executables:
            kernel = JitModule(exe.module, target=args.target,
                               imports=intrinsic_providers(b"", exe.module.defn), tier=args.tier)
            for record in function_records(kernel, None, args.function):
                record["executable"] = f"rodata[{exe.rodata_ordinal}]"
                records.append(record)
    if args.function and not records:
        raise SystemExit(f"splatjit: no function named {args.function!r}")
    sys.stdout.write((as_json(records) if args.json else as_text(records)) + "\n")
    return 0


def cmd_run(args) -> int:
    from .runner import run
    path = args.module or args.file
    if not path:
        raise SystemExit("splatjit run: give the module as FILE or --module=FILE")
    return run(_read(path), args.function, args.input, args.output, target=args.target,
               max_elements=args.print_max_element_count, tier=args.tier)


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
    x.add_argument("--nested", action="store_true",
                   help="also a program's nested VMVX executables (their dispatch functions)")
    x.add_argument("--tier", choices=("optimizing", "baseline", "mixed", "auto"),
                   default="optimizing",
                   help="x86-64 compiler whose code is shown (default: optimizing, the code "
                        "a hot module runs; auto's code starts as baseline)")
    x.set_defaults(func=cmd_disasm)
    r = sub.add_parser("run", help="run a function like iree-run-module (same flags and output)")
    r.add_argument("file", nargs="?")
    r.add_argument("--module", help="the module (iree-run-module's spelling of FILE)")
    r.add_argument("--function", default="main", help="exported function to run (default main)")
    r.add_argument("--input", action="append", default=[],
                   help="an argument: 2x3xf32=1 2 3 4 5 6, 4xi32=7 (splat), @file.npy, "
                        "2x2xf32=@raw.bin, or a scalar; repeat in order")
    r.add_argument("--output", action="append", default=[],
                   help="per result: - (print), @file.npy (write), +file.npy (append), "
                        "empty (ignore); when given, one per result")
    r.add_argument("--target", default="native", choices=("native", "x86_64", "aarch64"))
    r.add_argument("--tier", choices=("optimizing", "baseline", "auto", "mixed"),
                   help="x86-64 compiler tier (default: $SPLATJIT_TIER, else auto)")
    r.add_argument("--print_max_element_count", type=int, default=1024,
                   help="elements printed per result before '...'")
    r.add_argument("--device", help="accepted for iree-run-module compatibility (local-sync)")
    r.set_defaults(func=cmd_run)
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
