"""The baseline tier (emit_x64/baseline.py and its byte templates) against the optimizing
tier and against its own op lowerings run without templates.

Every exported function of every corpus `vm` module runs on the differential harness's
edge-value inputs in three builds: optimizing, baseline, and baseline with templates turned
off (each op through its lowering). All three must agree bit for bit: the same values, the
same buffer contents, and the same traps with the same message (kind, function and bytecode
offset). Division traps, which the interpreter cannot be asked about, are compared here too.
(test_x64_differential.py runs both tiers against iree.runtime.)
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import corpus
from differential import normalise, same
from splatjit import TrapError, UnsupportedError, tiers
from splatjit.emit_x64 import baseline, baseline_templates
from splatjit.module import JitModule
from test_x64_differential import FUEL, ITEMS, PROVIDERS, _inputs, _module_bytes

pytestmark = pytest.mark.usefixtures("memory_cap")


def _build(data, providers, tier, monkeypatch, templates=True):
    with monkeypatch.context() as m:
        if not templates:
            m.setattr(baseline_templates, "ENABLED", False)
        return JitModule(data, fuel=FUEL, imports=providers, tier=tier)


def _outcome(module, name, args):
    """(values, trap "function+offset: message", argument buffers after the call)."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        got, trap = module[name](*args), None
    except TrapError as e:
        got, trap = None, f"{e.function}+{e.offset}: {e.message}"
    return got, trap, [a.tobytes() for a in args if isinstance(a, np.ndarray)]


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_tiers_and_templates_agree(item, monkeypatch):
    data = corpus.compile_item(item)
    from splatjit import load_module
    loaded = load_module(data)
    needed = sorted({imp.name.split(".")[0] for imp in loaded.defn.imports})
    if any(n not in PROVIDERS for n in needed):
        pytest.skip(f"no provider module for imports of {needed}")
    providers = {n: JitModule(_module_bytes(PROVIDERS[n])) for n in needed}
    builds = {"optimizing": _build(data, providers, "optimizing", monkeypatch),
              "baseline": _build(data, providers, "baseline", monkeypatch),
              "baseline, no templates": _build(data, providers, "baseline", monkeypatch, False)}
    assert all(f.templated == 0 for f in builds["baseline, no templates"].compiled.functions.values())
    compared = 0
    for export in loaded.defn.exports:
        if export.name.startswith("__"):
            continue
        sig = loaded.functions[export.ordinal].signature
        for _, args in _inputs(sig):
            try:
                outcomes = {k: _outcome(m, export.name, args) for k, m in builds.items()}
            except UnsupportedError:
                break
            if any(o[1] and "fuel exhausted" in o[1] for o in outcomes.values()):
                continue  # fuel is burnt per loop entry the tier keeps: not comparable
            want = outcomes.pop("optimizing")
            where = f"{item.id}:{export.name}{tuple(args)}"
            for build, got in outcomes.items():
                assert got[1] == want[1], f"{where} {build}: trap {got[1]!r}, optimizing {want[1]!r}"
                assert got[2] == want[2], f"{where} {build}: buffer contents differ"
                if want[1] is None:
                    g = [] if got[0] is None else list(got[0]) if isinstance(got[0], tuple) else [got[0]]
                    w = [] if want[0] is None else list(want[0]) if isinstance(want[0], tuple) else [want[0]]
                    for t, gv, wv in zip(sig.results, g, w):
                        if t != "ref":
                            assert same(normalise(gv, t), normalise(wv, t), t), \
                                f"{where} {build}: {gv!r} != {wv!r}"
            compared += 1
    assert compared, f"{item.id}: nothing compared"


#: Ops every corpus use of which (outside a compare + branch / select pair) is copied from
#: a template: arithmetic, compares, conversions, constants, globals, buffer accesses.
TEMPLATED = ("add.i32", "sub.i64", "mul.f32", "div.i32.s", "rem.i64.u", "shl.i32", "cmp.lt.f64.o",
             "const.i32", "const.f64", "cast.si32.f32", "trunc.i64.i32", "global.load.i32",
             "global.store.f64", "buffer.load.i32", "buffer.store.f32", "buffer.load.i8.s",
             "select.f32", "fma.f64", "sqrt.f32", "exp.f64", "br")


def test_the_arithmetic_memory_and_global_ops_have_templates():
    seen = {}
    for name in ("arith_i32", "arith_i64", "arith_f32", "arith_f64", "buffers", "globals", "loop_sum",
                 "conversions", "math_f32", "math_f64", "compare_select"):
        m = JitModule(_module_bytes(name), tier="baseline")
        for fn in m.loaded.functions:
            for k, ins in enumerate(fn.instrs()):
                key, _, _ = baseline_templates.shape_key(ins)
                if key is not None:
                    t = baseline_templates.template(ins, m.compiled.features)
                    seen.setdefault(ins.op.mnemonic, set()).add(t is not None)
        assert sum(f.templated for f in m.compiled.functions.values()) > 0, name
    missing = [op for op in TEMPLATED if seen.get(op) != {True}]
    assert not missing, f"without a template: {missing}"


def test_calls_and_returns_have_templates():
    """Internal calls, linked import calls and returns are copied from templates too (their
    callee's signature and entry, the import's linked addresses, the function's results)."""
    provider = JitModule(_module_bytes("native_import_module"))
    for name in ("call_imported_func", "calls"):
        m = JitModule(_module_bytes(name), tier="baseline",
                      imports={"native_import_module": provider})
        for fn in m.loaded.functions:
            if {ins.op.mnemonic for ins in fn.instrs()} <= {"call", "return"}:
                assert m.compiled.functions[fn.ordinal].templated == fn.op_count, fn.name


def test_compares_and_the_branches_or_selects_reading_them_are_copied_as_pairs():
    """A compare whose condition the next cond_br / select reads from EFLAGS is copied with
    that op from one template: every op of these modules comes from a template."""
    for name in ("loop_sum", "control_flow", "compare_select"):
        m = JitModule(_module_bytes(name), tier="baseline")
        for fn in m.loaded.functions:
            if any(ins.op.mnemonic == "br_table" for ins in fn.instrs()):
                continue  # (a jump table: lowered each time)
            assert m.compiled.functions[fn.ordinal].templated == fn.op_count, (name, fn.name)


def _with_kernels(loaded):
    yield loaded
    for exe in loaded.executables:
        yield from _with_kernels(exe.module)


@pytest.mark.parametrize("tier", ["baseline", "auto"])
def test_the_lowerings_fast_path_copies_what_emit_would(monkeypatch, tier):
    """`BaselineLowering.lower` looks most ops' templates up itself (contextual ops with
    their context keys, compare + branch pairs by their decoder shapes); without that fast
    path (`quick_table` answering None: every op through `baseline_templates.emit`) every
    corpus module and nested kernel compiles to the same code (imports linked at fixed fake
    addresses; auto: one TierUp for both), with and without fuel, copying as many ops."""
    from splatjit.frontend.loader import load_module
    from splatjit.emit_x64 import cpu
    features = cpu.host_features()
    modules = []
    for _, data in corpus.compiled(corpus.vm_items() + corpus.program_items()):
        try:
            modules += _with_kernels(load_module(data))
        except Exception:  # noqa: BLE001 - modules the loader rejects
            continue

    def compiled(loaded, fuel, tier_up) -> tuple:
        imports = [(0x7000_0000 + 64 * i, 0x7100_0000 + 64 * i)
                   for i in range(len(loaded.defn.imports))]
        try:
            c = tiers._compile_x64(tier, loaded, features, fuel=fuel, imports=imports, pure={},
                                   tier_up=tier_up, tags=False)
        except UnsupportedError as e:
            return str(e)
        return c.code, sorted((o, f.templated) for o, f in c.functions.items())

    tier_ups = [None if tier == "baseline" else tiers._tier_up(m, features, False, None, {})
                for m in modules]
    cases = [(m, fuel, tu) for m, tu in zip(modules, tier_ups) for fuel in (False, True)]
    fast = [compiled(*case) for case in cases]
    monkeypatch.setattr(baseline_templates, "quick_table", lambda features: None)
    assert [compiled(*case) for case in cases] == fast
    assert len(modules) > 80
    assert sum(n for got in fast if type(got) is tuple for _, n in got[1]) > 10000


def test_tier_switch(monkeypatch):
    data = _module_bytes("loop_sum")
    monkeypatch.delenv(tiers.ENV, raising=False)
    assert JitModule(data).tier == tiers.DEFAULT == "auto"
    monkeypatch.setenv(tiers.ENV, "baseline")
    m = JitModule(data)
    assert m.tier == "baseline" and isinstance(m.compiled.functions[0], baseline.BaselineInfo)
    assert m.loop_sum(100) == 4950
    assert JitModule(data, tier="optimizing").tier == "optimizing"  # the argument wins
    with pytest.raises(UnsupportedError, match="tier 'fast'"):
        JitModule(data, tier="fast")


def test_a_programs_executables_take_its_tier(monkeypatch):
    made = []
    original = tiers.compile_x64

    def recording(tier, loaded, *a, **k):
        made.append((tier, loaded.name))
        return original(tier, loaded, *a, **k)

    monkeypatch.setattr(tiers, "compile_x64", recording)
    item = corpus.find_item("programs/matmul[scalar]")
    m = JitModule(corpus.compile_item(item), tier="baseline")
    a = np.arange(32, dtype=np.float32).reshape(4, 8)
    b = np.ones((8, 4), np.float32)
    assert np.array_equal(m.main(a, b), a @ b)
    assert len(made) >= 2 and {t for t, _ in made} == {"baseline"}, made


def _runs_baseline_code(module, call) -> bool:
    """Whether `call()` ran baseline code of `module`: only baseline prologues and loop
    headers spend the tier-up budget (a probe: the budget is reset around the call)."""
    tu = module.compiled.tier_up
    saved, tu.budget.value = tu.budget.value, 1 << 40
    call()
    spent = tu.budget.value != 1 << 40
    tu.budget.value = saved
    return spent


def test_auto_tier_switches_every_caller_after_enough_calls():
    data = _module_bytes("calls")
    reference = JitModule(data, tier="optimizing")  # against iree.runtime: test_x64_differential
    m = JitModule(data, tier="auto")
    tu = m.compiled.tier_up
    exports = [e.name for e in m.loaded.defn.exports if not e.name.startswith("__")]
    sig = {e.name: m.loaded.functions[e.ordinal].signature for e in m.loaded.defn.exports}
    cases = [(name, args) for name in exports for _, args in _inputs(sig[name])
             if not any(isinstance(a, np.ndarray) for a in args)][:40]
    assert cases
    wants = []
    for name, args in cases:
        try:
            want = reference[name](*args)
            wants.append([] if want is None else list(want) if isinstance(want, tuple) else [want])
        except TrapError:
            wants.append(None)

    def check_all():
        for (name, args), want in zip(cases, wants):
            try:
                got = m[name](*args)
            except TrapError:
                assert want is None, (name, args)
                continue
            got = [] if got is None else list(got) if isinstance(got, tuple) else [got]
            assert [normalise(g, t) for g, t in zip(got, sig[name].results)] == \
                   [normalise(w, t) for w, t in zip(want, sig[name].results)], (name, args)

    assert tu.optimized is None and _runs_baseline_code(m, check_all)
    while tu.optimized is None:
        check_all()
        assert tu.error is None
    assert all(cell for cell in tu.cells[:len(m.loaded.functions)])
    assert not _runs_baseline_code(m, check_all)  # every export and internal call switched


def test_a_long_single_call_finishes_in_baseline_and_tiers_up_the_next_ones():
    m = JitModule(_module_bytes("loop_sum"), tier="auto")
    tu = m.compiled.tier_up
    n = 3 * tiers_budget()
    assert m.loop_sum(n) == (n * (n - 1) // 2 + 2**31) % 2**32 - 2**31  # one call
    assert tu.optimized is not None
    assert not _runs_baseline_code(m, lambda: m.loop_sum(10))


def tiers_budget() -> int:
    from splatjit.runtime import tier_up
    return tier_up.INITIAL_BUDGET


def test_a_failed_optimizing_compile_leaves_the_module_in_baseline(monkeypatch):
    m = JitModule(_module_bytes("loop_sum"), tier="auto")
    tu = m.compiled.tier_up

    def broken():
        raise UnsupportedError("no optimizing compile today")
    tu.recompile = broken
    for _ in range(3):
        assert m.loop_sum(3 * tiers_budget()) is not None
    assert tu.optimized is None and isinstance(tu.error, UnsupportedError)
    assert m.loop_sum(100) == 4950
    assert all(cell == 0 for cell in tu.cells)


def test_plain_baseline_code_never_tiers_up():
    m = JitModule(_module_bytes("loop_sum"), tier="baseline")
    assert m.compiled.tier_up is None
    assert m.loop_sum(10**5) == (10**5 * (10**5 - 1) // 2 + 2**31) % 2**32 - 2**31


def test_an_importer_tiering_up_after_its_provider_calls_the_providers_optimizing_code():
    import struct
    provider = JitModule(_module_bytes("native_import_module"), tier="auto")
    importer = JitModule(_module_bytes("call_imported_func"), tier="auto",
                         imports={"native_import_module": provider})
    assert provider.compiled.tier_up.tier_up() and importer.compiled.tier_up.tier_up()
    cells = provider.compiled.tier_up.cells
    optimized = {struct.pack("<Q", cells[fn.ordinal]) for fn in provider.loaded.functions}
    stubs = {struct.pack("<Q", provider._memory.address + off)
             for off in provider.compiled.entries.values()}
    code = importer.compiled.tier_up.optimized[0].code
    assert any(a in code for a in optimized) and not any(s in code for s in stubs)
    oracle_args = [3, 4]
    want = JitModule(_module_bytes("call_imported_func"),
                     imports={"native_import_module": JitModule(_module_bytes("native_import_module"))})
    name = next(e.name for e in importer.loaded.defn.exports if not e.name.startswith("__"))
    sig = importer.loaded.functions[next(e.ordinal for e in importer.loaded.defn.exports
                                         if e.name == name)].signature
    args = oracle_args[:len(sig.args)]
    assert importer[name](*args) == want[name](*args)


@pytest.mark.parametrize("tier", ["baseline", "auto"])
def test_every_copy_fits_a_template_made_from_its_own_op(monkeypatch, tier):
    """With `baseline_templates.VERIFY`, each copy of a template is compared with a template
    made from the op being compiled (same bytes at the same placeholders, same labels, traps
    and constants): the shape key holds everything the lowerings decide on. So is each
    prologue taken from the prologue cache (auto: with the tier-up stub and budget charge)
    with one recorded for its own function. Every corpus vm module and program (with its
    VMVX kernels) is compiled this way."""
    monkeypatch.setattr(baseline_templates, "VERIFY", True)
    provider = JitModule(_module_bytes("native_import_module"), tier=tier)
    copies = 0
    for _, data in corpus.compiled(corpus.vm_items() + corpus.program_items()):
        try:
            m = JitModule(data, tier=tier, imports={"native_import_module": provider})
        except (UnsupportedError, TrapError) as e:
            assert "does not fit" not in str(e)
            continue
        except Exception as e:  # noqa: BLE001 - modules the loader rejects
            assert not isinstance(e, AssertionError), e
            continue
        copies += sum(f.templated for f in m.compiled.functions.values())
    assert copies > 5000


@pytest.mark.parametrize("gap", [10, 200])
def test_a_flattened_template_resolves_its_own_jumps_and_leaves_rel32_fixups_for_others(gap):
    """A template's local jump takes rel8 when its target is near and rel32 when not; a jump
    out of it is always a rel32 field whose fixup lands on the label's address."""
    import capstone
    from splatjit.emit_x64.assembler import Assembler
    a, inside, outside = Assembler({"avx2"}), baseline.Label(), baseline.Label()
    a.jz(inside)
    a.db(b"\x90" * gap)
    a.label(inside)
    a.jmp(outside)
    data, sites, addresses, fixups = baseline_templates.flat_code(
        a, {outside: ("epilogue", None)})
    assert sites == addresses == ()
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(data, 0))
    assert insns[0].mnemonic == "je" and insns[0].size == (2 if gap < 120 else 6)
    assert int(insns[0].op_str, 16) == insns[0].size + gap  # the jmp right after the gap
    assert insns[-1].mnemonic == "jmp" and insns[-1].size == 5
    (pos, size, target, addend), = fixups
    assert (pos, size, target) == (len(data) - 4, 4, ("epilogue", None))
    # copied at 0x100 with the label at 0x40: the field is label + addend - end of the copy
    field = 0x40 + addend - (0x100 + len(data))
    patched = data[:pos] + field.to_bytes(4, "little", signed=True)
    assert int(list(md.disasm(patched, 0x100))[-1].op_str, 16) == 0x40


@pytest.mark.parametrize("tier", ["optimizing", "baseline", "auto"])
def test_a_module_keeps_no_assembler_and_recompiles_for_its_listing(tier):
    """JitModule drops its compile's assembler; `tag_map` and `listing` come from compiling
    the same module again: equal to what the first compile's assembler said."""
    data = _module_bytes("control_flow")
    m = JitModule(data, tier=tier)
    compiled = m.compiled
    assert compiled.assembler is None and compiled.rebuild is not None
    kept = tiers._compile_x64(tier, m.loaded, compiled.features, fuel=False, imports=None,
                              pure=None, tier_up=getattr(compiled, "tier_up", None))
    assert kept.code == compiled.code
    def unnumbered(listing):  # (anonymous labels are numbered per process)
        return [(off, re.sub(r"\bL\d+\b", "L", text)) for off, text in listing]
    assert compiled.tag_map == kept.tag_map
    assert unnumbered(compiled.listing) == unnumbered(kept.listing)
    assert compiled.tag_map and compiled.assembler is not None


def test_a_rebuild_giving_other_code_is_refused():
    m = JitModule(_module_bytes("control_flow"), tier="baseline")
    other = JitModule(_module_bytes("loop_sum"), tier="baseline").compiled
    m.compiled.forget_assembler(lambda: other)
    with pytest.raises(UnsupportedError, match="other code"):
        m.compiled.tag_map


def test_list_get_ref_templates_depend_on_the_element_type(monkeypatch):
    """list.get.ref keeps a ref only of its type_def's type: the same op on another type
    (here the module's type table edited) must not reuse the first type's template."""
    from splatjit.frontend.loader import load_module
    monkeypatch.setattr(baseline_templates, "VERIFY", True)
    codes = []
    for element in ("!vm.buffer", "!vm.opaque"):
        loaded = load_module(_module_bytes("lists"))
        assert loaded.defn.types[6] == "!vm.buffer"
        loaded.defn.types[6] = element
        fn = next(f for f in loaded.functions if f.name == "get_ref")
        compiled = baseline.compile_module(loaded)
        assert compiled.functions[fn.ordinal].templated == fn.op_count
        codes.append(compiled.code)
    assert codes[0] != codes[1]


def test_fail_ops_are_copied_from_one_template_whatever_their_message():
    """`fail` is templated: its shape says "str" for the message (no lowering reads it)
    and whether it is its function's last op; its traps report the status register, so a
    copy gives them stubs of their own. Every fail of vm/fail_check is copied, the corpus's
    messages differ, and a copied fail still traps with its status and message."""
    from splatjit.frontend.loader import load_module
    from splatjit.ir import STRING_PART
    loaded = load_module(_module_bytes("fail_check"))
    fails = [ins for fn in loaded.functions for b in fn.blocks for ins in b.instrs
             if ins.op.mnemonic == "fail"]
    assert len({ins.args["message"] for ins in fails}) > 5
    assert {ins.shape[0][2] for ins in fails} == {STRING_PART}
    compiled = baseline.compile_module(loaded)
    held = [fn for fn in loaded.functions if fn.name == "fail_holding_ref"]
    for fn in loaded.functions:  # (fail_holding_ref: one op of another kind is not copied)
        assert compiled.functions[fn.ordinal].templated == fn.op_count - (fn in held)
    m = JitModule(_module_bytes("fail_check"), tier="baseline")
    with pytest.raises(TrapError, match=r"fail_with\+0x1: vm\.fail \(status 7\): fail_with called"):
        m.fail_with(7)
