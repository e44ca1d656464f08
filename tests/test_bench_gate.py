"""The benchmark regression gate (bench/conftest.py, speed_support.regressions): ratios
measured in one run against a recorded baseline, with a tolerance factor."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import speed_support as ss  # noqa: E402


def test_regressions_respect_each_metrics_direction_and_the_tolerance():
    base = {"a:interp_over_jit": 10.0, "b:jit_over_c": 1.2, "score:compile_ops_per_s": 8000.0,
            "gone:interp_over_jit": 5.0}
    same = {"a:interp_over_jit": 10.0, "b:jit_over_c": 1.2, "score:compile_ops_per_s": 8000.0}
    assert ss.regressions(same, base, 4.0) == []  # a metric not measured now is skipped
    noisy = {"a:interp_over_jit": 3.0, "b:jit_over_c": 4.0, "score:compile_ops_per_s": 2500.0}
    assert ss.regressions(noisy, base, 4.0) == []  # 3.3x, 3.3x, 3.2x worse: within 4x
    worse = {"a:interp_over_jit": 2.0, "b:jit_over_c": 6.0, "score:compile_ops_per_s": 1000.0}
    bad = ss.regressions(worse, base, 4.0)
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in bad] == [
        "a:interp_over_jit", "b:jit_over_c", "score:compile_ops_per_s"]
    better = {"a:interp_over_jit": 100.0, "b:jit_over_c": 0.1, "score:compile_ops_per_s": 1e6}
    assert ss.regressions(better, base, 4.0) == []


def test_best_of_two_runs_keeps_each_metrics_better_value():
    first = {"a:interp_over_jit": 10.0, "b:jit_over_c": 3.0, "score:x": 5.0, "only:jit_over_c": 1.0}
    second = {"a:interp_over_jit": 4.0, "b:jit_over_c": 1.5, "score:x": 9.0}
    assert ss.best_of(first, second) == {"a:interp_over_jit": 10.0, "b:jit_over_c": 1.5,
                                         "score:x": 9.0, "only:jit_over_c": 1.0}


def _bench(tmp_path, *options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "bench" / "test_speed.py"),
                           "-k", "noop_call", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-o", "addopts=", "-q", "--benchmark-enable", *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_gate_fails_a_run_that_regressed_and_passes_one_that_did_not(tmp_path):
    recorded = tmp_path / "baseline.json"
    run = _bench(tmp_path, f"--bench-record={recorded}")
    assert run.returncode == 0, run.stdout[-2000:]
    metrics = json.loads(recorded.read_text())["metrics"]
    assert metrics["noop_call:interp_over_jit"] > 0
    run = _bench(tmp_path, f"--bench-gate={recorded}")
    assert run.returncode == 0 and "0 regressed" in run.stdout, run.stdout[-2000:]
    doctored = tmp_path / "doctored.json"
    metrics["noop_call:interp_over_jit"] *= 1000  # as if splatjit had been 1000x faster
    doctored.write_text(json.dumps({"metrics": metrics}))
    run = _bench(tmp_path, "--bench-gate", str(doctored))  # (the two-argument spelling)
    assert run.returncode == 1 and "noop_call:interp_over_jit" in run.stdout, run.stdout[-2000:]
    assert "run again" in run.stdout   # a regression is measured twice before it fails
