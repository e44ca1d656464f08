"""Benchmarks share the test corpus helpers (tests/corpus.py).

The regression gate: `--bench-gate=bench/baseline.json` (with `--benchmark-enable`) fails the
run when a ratio measured in this run (splatjit against iree.runtime or C, see
speed_support.SpeedTable.metrics) is more than `--bench-tolerance` times (default 4) worse
than the baseline's. Ratios within one run cancel most of a shared machine's noise, but
not all (rows swing by up to ~3x on a loaded host), so the gate catches lost fast paths
and broken native templates (typically 5-100x), not small drifts. When something regresses,
the benchmarks run once more and each metric keeps the better of its two values, so one
noisy phase does not fail the run. `--bench-record=PATH` writes this run's metrics as a new
baseline.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

_GATE: dict = {}
_RETRY = "SPLATJIT_BENCH_GATE_RETRY"


def _rerun(session) -> dict[str, float]:
    """The metrics of a second timed run of the same benchmarks (a subprocess), or {}."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "again.json"
        args, skip = [], False
        for a in map(str, session.config.invocation_params.args):  # without the gate options
            if skip or a.startswith(("--bench-record", "--bench-gate")):
                skip = a in ("--bench-record", "--bench-gate")  # its value is the next arg
                continue
            args.append(a)
        subprocess.run([sys.executable, "-m", "pytest", *args, "--benchmark-enable",
                        f"--bench-record={out}"],
                       env={**os.environ, _RETRY: "1"}, cwd=session.config.invocation_params.dir,
                       capture_output=True, text=True, timeout=1800)
        return json.loads(out.read_text())["metrics"] if out.exists() else {}


def pytest_addoption(parser):
    group = parser.getgroup("splatjit benchmarks")
    group.addoption("--bench-gate", metavar="PATH", default=None,
                    help="fail when a measured ratio is --bench-tolerance times worse than "
                         "the baseline in PATH (needs --benchmark-enable)")
    group.addoption("--bench-tolerance", type=float, default=4.0,
                    help="factor the regression gate allows (default 4)")
    group.addoption("--bench-record", metavar="PATH", default=None,
                    help="write this run's ratios to PATH as a baseline")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    gate, record = config.getoption("--bench-gate"), config.getoption("--bench-record")
    if not gate and not record:
        return
    support = sys.modules.get("speed_support")
    current = support.TABLE.metrics() if support is not None else {}
    if record:
        if not current:
            _GATE["lines"] = ["--bench-record: no timed metrics (was --benchmark-enable given?)"]
            session.exitstatus = 1
            return
        Path(record).write_text(json.dumps(
            {"cpu": support.cpu_model(), "metrics": {k: round(v, 4) for k, v in
                                                     sorted(current.items())}}, indent=1) + "\n")
        _GATE["lines"] = [f"baseline written: {record} ({len(current)} metrics)"]
    if gate:
        baseline = json.loads(Path(gate).read_text())["metrics"]
        if not current:
            _GATE["lines"] = [f"--bench-gate {gate}: no timed metrics (was --benchmark-enable "
                              f"given?)"]
            session.exitstatus = 1
            return
        tolerance = config.getoption("--bench-tolerance")
        bad = support.regressions(current, baseline, tolerance)
        lines = []
        if bad and not os.environ.get(_RETRY):
            lines.append(f"{len(bad)} regressed in the first run; the benchmarks run again "
                         f"and each metric keeps its better value")
            again = _rerun(session)
            current = support.best_of(current, again)
            bad = support.regressions(current, baseline, tolerance)
        compared = sum(1 for k in baseline if k in current)
        _GATE["lines"] = ([f"regression gate ({gate}): {compared} metrics compared, "
                           f"{len(bad)} regressed"] + lines + [f"  {line}" for line in bad])
        if bad:
            session.exitstatus = 1


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    """Prints bench/test_speed.py's table (ns per unit side by side, with ratios), and what
    the regression gate found."""
    module = sys.modules.get("speed_support")
    lines = module.TABLE.lines() if module is not None else []
    if lines:
        terminalreporter.write_sep("=", "splatjit vs iree.runtime vs C")
        for line in lines:
            terminalreporter.write_line(line)
    if _GATE.get("lines"):
        terminalreporter.write_sep("=", "benchmark regression gate")
        for line in _GATE["lines"]:
            terminalreporter.write_line(line)
