"""Instructions one warm corpus pass of `JitModule(...)` constructions costs (valgrind).

    python tools/pass_instructions.py [TIER] [--tree PATH]    # default tier: auto

Runs the bench corpus (bench/speed_support.constructible_modules) under
`valgrind --tool=callgrind` twice, with 1 and with 3 warm passes after a warm-up pass, and
prints (N=3 - N=1) / 2: the instructions of one warm pass, without the process's start-up,
imports and first pass. Unlike wall-clock time this does not move with a shared host's
load or phase (run-to-run spread ~0.5%, from hash randomisation), so it is how compiler
speed-ups are compared here; it does not count kernel time (mmap / mprotect). Both runs
go in parallel (~2 minutes on 2 cores). `--tree` measures another checkout (a git
worktree of an older commit, say) with this machine's venv.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: the child: N warm passes after one warm-up pass (argv: tier, N, tree)
_PASSES = """
import sys
tier, n, tree = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path[:0] = [tree, tree + "/bench", tree + "/tests"]
import speed_support as ss
from splatjit.module import JitModule
modules, imports, _, _ = ss.constructible_modules((tier,))
for _ in range(n + 1):
    for _, blob in modules:
        JitModule(blob, imports=imports, tier=tier).close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier", nargs="?", default="auto")
    parser.add_argument("--tree", type=Path, default=ROOT)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "passes.py"
        script.write_text(_PASSES)
        runs = {n: subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.{n}",
             sys.executable, str(script), args.tier, str(n), str(args.tree.resolve())],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for n in (1, 3)}
        counts = {}
        for n, run in runs.items():
            _, err = run.communicate()
            found = re.search(r"Collected : (\d+)", err)
            if run.returncode or not found:
                print(f"the N={n} run failed:\n{err[-2000:]}", file=sys.stderr)
                return 1
            counts[n] = int(found.group(1))
    per_pass = (counts[3] - counts[1]) / 2
    print(f"{args.tier}: {per_pass / 1e9:.4f} G instructions per warm pass "
          f"(N=1 {counts[1] / 1e9:.3f} G, N=3 {counts[3] / 1e9:.3f} G; tree {args.tree})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
