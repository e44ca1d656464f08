"""The test corpus: `.mlir` sources under tests/corpus/, compiled by the real `iree-compile`.

Compiled bytes are cached in `.corpus-cache/` keyed by sha256(source, flags, compiler version),
so a warm run never invokes the compiler; failures are cached too, with the compiler's reason.
No pytest import here: benchmarks use this module as well.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "tests" / "corpus"
CACHE_DIR = REPO_ROOT / ".corpus-cache"
COMPILE_TIMEOUT_S = 300
VMVX = ("--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=vmvx")
PROGRAM_VARIANTS = {
    "scalar": VMVX,
    "ukernel": VMVX + ("--iree-vmvx-enable-microkernels",),
    "datatiled": VMVX + ("--iree-vmvx-enable-microkernels", "--iree-dispatch-creation-data-tiling"),
    "inline": ("--iree-execution-model=inline-static", "--iree-hal-target-device=local",
               "--iree-hal-local-target-device-backends=vmvx-inline"),
}


class CompileFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CorpusItem:
    name: str
    source: Path
    kind: str      # "vm" | "program"
    variant: str   # "vm" | "scalar" | "ukernel" | "datatiled" | "inline"
    flags: tuple[str, ...]
    expect: str = "ok"  # "ok" | "load-fails" | "verify-fails" (a `// corpus-expect:` line)

    @property
    def id(self) -> str:
        return f"vm/{self.name}" if self.kind == "vm" else f"programs/{self.name}[{self.variant}]"


def iree_compile_path() -> str:
    found = shutil.which("iree-compile")
    if found:
        return found
    candidate = Path(sys.executable).parent / "iree-compile"
    if candidate.exists():
        return str(candidate)
    raise CompileFailure("iree-compile not found (pip install 'iree-base-compiler==3.13.*')")


@lru_cache(maxsize=1)
def compiler_version() -> str:
    out = subprocess.run([iree_compile_path(), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def _directive(path: Path, name: str) -> str | None:
    """The value of a `// corpus-NAME: value` line at the top of a source, if present."""
    for line in path.read_text().splitlines()[:5]:
        if line.startswith(f"// corpus-{name}:"):
            return line.split(":", 1)[1].strip()
    return None


def vm_items() -> list[CorpusItem]:
    out = []
    for p in sorted((CORPUS_DIR / "vm").glob("*.mlir")):
        flags = _directive(p, "flags")
        out.append(CorpusItem(p.stem, p, "vm", "vm", tuple(flags.split()) if flags else
                              ("--compile-mode=vm",), _directive(p, "expect") or "ok"))
    return out


def program_items() -> list[CorpusItem]:
    return [CorpusItem(p.stem, p, "program", variant, flags)
            for p in sorted((CORPUS_DIR / "programs").glob("*.mlir"))
            for variant, flags in PROGRAM_VARIANTS.items()]


def all_items() -> list[CorpusItem]:
    return vm_items() + program_items()


def _key(item: CorpusItem) -> str:
    h = hashlib.sha256()
    for part in (item.source.read_bytes(), "\0".join(item.flags).encode(), compiler_version().encode()):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:32]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def compile_item(item: CorpusItem) -> bytes:
    """The compiled module bytes (cached); raises CompileFailure with the compiler's reason."""
    CACHE_DIR.mkdir(exist_ok=True)
    key = _key(item)
    out, fail = CACHE_DIR / f"{key}.vmfb", CACHE_DIR / f"{key}.fail"
    if out.exists():
        return out.read_bytes()
    if fail.exists():
        raise CompileFailure(fail.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.vmfb"
        try:
            run = subprocess.run([iree_compile_path(), *item.flags, str(item.source), "-o", str(target)],
                                 capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            reason = f"iree-compile timed out after {COMPILE_TIMEOUT_S} s"
            _write_atomic(fail, reason.encode())
            raise CompileFailure(reason) from None
        if run.returncode != 0:
            errors = [ln for ln in run.stderr.splitlines() if "error" in ln] or run.stderr.splitlines()
            reason = (errors[0] if errors else f"exit {run.returncode}").strip()
            _write_atomic(fail, reason.encode())
            raise CompileFailure(reason)
        data = target.read_bytes()
    _write_atomic(out, data)
    return data
