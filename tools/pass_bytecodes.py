"""Python bytecodes one warm corpus pass of `JitModule(...)` constructions executes, by
function (or, with --lines FUNCTION, by line of the functions of that name).

    python tools/pass_bytecodes.py [--tier TIER] [--top N]
    python tools/pass_bytecodes.py --lines lower          # per line of every `lower`

Runs the bench corpus (bench/speed_support.constructible_modules) once to warm up, then
one pass under `sys.settrace` with opcode events, counting the bytecodes each code object
runs. Deterministic and quick (~30 s): where `tools/pass_instructions.py` says how much a
change saves, this says where the interpreter spends its steps (the eval loop is ~40% of a
pass's machine instructions; the rest is allocation, hashing and the C functions called).
C functions count as the one call bytecode that calls them. Run from the repository root.
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import speed_support as ss  # noqa: E402
from splatjit.module import JitModule  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="auto")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--lines", metavar="FUNCTION", help="count by line of FUNCTION")
    args = parser.parse_args()
    modules, imports, _, _ = ss.constructible_modules((args.tier,))
    blobs = [blob for _, blob in modules]
    ops = ss.compiled_op_count(blobs, imports)

    def one_pass():
        for blob in blobs:
            JitModule(blob, imports=imports, tier=args.tier).close()

    one_pass()
    counts: collections.Counter = collections.Counter()

    def tracer(frame, event, arg):
        code = frame.f_code
        if args.lines is not None and code.co_name != args.lines:
            return None
        frame.f_trace_opcodes, frame.f_trace_lines = True, False

        def count(frame, event, arg):
            if event == "opcode":
                counts[(code, frame.f_lineno) if args.lines else code] += 1
            return count
        return count

    sys.settrace(tracer)
    try:
        one_pass()
    finally:
        sys.settrace(None)
    total = sum(counts.values())
    scope = f"functions named {args.lines}" if args.lines else "all"
    print(f"{total:,} bytecodes ({scope}) in one warm {args.tier} pass of {ops} ops "
          f"({total / ops:.0f} per op)")
    rows = counts.most_common(args.top) if not args.lines else sorted(
        counts.items(), key=lambda kv: (kv[0][0].co_filename, kv[0][1] or 0))
    for key, n in rows:
        code, line = key if args.lines else (key, None)
        where = code.co_filename.replace(str(ROOT) + "/", "")
        at = f":{line}" if line is not None else f":{code.co_firstlineno} {code.co_name}"
        print(f"{n:9,d} {100 * n / total:5.1f}%  {where}{at}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
