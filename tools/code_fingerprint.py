"""Fingerprints of the machine code splatjit generates for the test corpus.

For every corpus module (tests/corpus.py `all_items()`, vm modules and programs, with the
programs' nested VMVX executables), compiled for x86-64 under three feature sets by the
optimizing and the baseline tier, and for AArch64, each with and without fuel checks: a sha256 of the code bytes, of the entry
offsets + tag map, of the assembler listing and of `splatjit disasm`'s text. A change to
the compiler that must not change the generated code (a speed-up of the compiler itself) is
checked with::

    python tools/code_fingerprint.py record /tmp/fp-before.json   # on the unchanged tree
    python tools/code_fingerprint.py check /tmp/fp-before.json    # after each change

`check` prints every entry that differs and exits 1 if any does. Records are keyed by corpus
item id, nested executable path and configuration, and carry the input's sha256, so a
recompiled corpus (another iree-compile) shows up as a different input, not a code change.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

X64_FEATURES = {"baseline": (), "avx2": ("avx2", "fma", "bmi1", "bmi2", "lzcnt", "popcnt"),
                "all": "all"}


def _sha(data) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()[:20]


def _configs():
    from splatjit.emit_x64 import cpu
    for name, feats in X64_FEATURES.items():
        features = cpu.ALL_FEATURES if feats == "all" else cpu.closure(feats)
        for fuel in (False, True):
            yield f"x86_64/{name}{'/fuel' if fuel else ''}", "x86_64", features, fuel
            yield f"x86_64-baseline/{name}{'/fuel' if fuel else ''}", "baseline", features, fuel
    for fuel in (False, True):
        yield f"aarch64{'/fuel' if fuel else ''}", "aarch64", None, fuel


def _fixed_host_addresses() -> None:
    """Replaces the libm / libc addresses x86-64 code embeds (they move with ASLR) by fixed
    fake ones of the same magnitude, so equal compilers give equal bytes across processes."""
    import zlib
    from splatjit.emit_x64 import ops_float, ops_memory

    def fake(name: str) -> int:
        return 0x7F00_0000_0000 + 16 * zlib.crc32(name.encode())

    ops_float.libm_address = ops_float.libc_address = ops_memory.libc_address = fake


def _compile(loaded, isa: str, features, fuel: bool):
    if isa == "x86_64":
        from splatjit.emit_x64.lower import compile_module
        return compile_module(loaded, features, fuel=fuel)
    if isa == "baseline":
        from splatjit.emit_x64.baseline import compile_module
        return compile_module(loaded, features, fuel=fuel)
    from splatjit.emit_a64.lower import compile_module
    return compile_module(loaded, fuel=fuel, resolve=lambda name: 0x1000 + 16 * len(name))


def _modules(item_id: str, loaded, path: str = ""):
    yield f"{item_id}{path}", loaded
    for exe in loaded.executables:
        yield from _modules(item_id, exe.module, f"{path}/exe{exe.rodata_ordinal}")


def fingerprints(only: str | None = None) -> dict[str, dict]:
    import corpus
    from splatjit import disasm
    from splatjit.emit_x64 import operands
    from splatjit.frontend.loader import load_module
    _fixed_host_addresses()
    out: dict[str, dict] = {}
    for item in corpus.all_items():
        if only and only not in item.id:
            continue
        try:
            blob = corpus.compile_item(item)
            top = load_module(blob)
        except Exception:  # noqa: BLE001 - compile failures and expected load failures
            continue
        for key, loaded in _modules(item.id, top):
            for config, isa, features, fuel in _configs():
                name = f"{key} {config}"
                # anonymous labels are named by a process-wide counter: restart it, so one
                # entry's listing does not depend on how many labels earlier ones made
                operands._label_ids = itertools.count()
                try:
                    compiled = _compile(loaded, isa, features, fuel)
                except Exception as e:  # noqa: BLE001 - an unsupported module is a record too
                    out[name] = {"input": _sha(blob), "error": f"{type(e).__name__}: {e}"}
                    continue
                module = SimpleNamespace(compiled=compiled, loaded=loaded,
                                         target="aarch64" if isa == "aarch64" else "x86_64")
                text = disasm.as_text(disasm.function_records(module))
                out[name] = {
                    "input": _sha(blob),
                    "code": _sha(compiled.code),
                    "layout": _sha(repr((sorted(compiled.entries.items()),
                                         sorted(compiled.tag_map.items()),
                                         sorted(compiled.unsupported.items())))),
                    "listing": _sha(repr(list(compiled.listing))),
                    "disasm": _sha(text),
                    "bytes": len(compiled.code),
                }
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("record", "check"))
    p.add_argument("path", type=Path)
    p.add_argument("--only", help="only corpus items whose id contains this")
    args = p.parse_args(argv)
    now = fingerprints(args.only)
    if args.mode == "record":
        args.path.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} entries in {args.path}")
        return 0
    before = json.loads(args.path.read_text())
    if args.only:
        before = {k: v for k, v in before.items() if args.only in k}
    bad = 0
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if old != new:
            bad += 1
            diff = ("missing now" if new is None else "new" if old is None else
                    ", ".join(f for f in sorted(set(old) | set(new)) if old.get(f) != new.get(f)))
            print(f"DIFFERS {key}: {diff}")
    print(f"{len(now)} entries, {bad} differ" if bad else f"{len(now)} entries, all identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
