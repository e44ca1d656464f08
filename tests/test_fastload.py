"""The fused decode + verify pass (frontend/fastload.py) against the reference pair
(decoder.decode_module_functions, then verifier.verify_function on each function).

Its contract: on every module it returns exactly the reference's verified functions, or None
exactly when the reference raises (then `load_module` reports the reference's error).
Checked on the whole corpus, on systematic edits of the bytecode (hostile u16 / u32 values
and bytes written at every position of some modules, which reach every field kind and range
rule), and on the fuzzer's mutations of whole files.
"""
from __future__ import annotations

import dataclasses
import random
import struct
from pathlib import Path

import pytest

import corpus
from fuzz_vmfb import make_seed, mutate
from splatjit import SplatJitError, load_module
from splatjit.frontend import fastload
from splatjit.frontend import opcodes as oc
from splatjit.frontend.archive import load_module_def
from splatjit.frontend.decoder import decode_module_functions
from splatjit.frontend.verifier import verify_function

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _reference(defn):
    """The reference pass: its functions, or the SplatJitError it raises."""
    try:
        fns = decode_module_functions(defn)
        for fn in fns:
            verify_function(fn, defn)
        return fns
    except SplatJitError as e:
        return e


def _value(v):
    if isinstance(v, float):  # NaN != NaN: compare the bits
        return struct.pack("<d", v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def canonical(functions) -> list:
    """Everything a Function holds, comparable with ==."""
    return [(f.module, f.name, f.ordinal, f.signature, f.i32_count, f.ref_count, f.requirements,
             f.bytecode_offset, f.verified,
             [(b.index, b.offset, [(i.offset, i.op, i.length, list(i.args), _value(list(i.args.values())))
                                   for i in b.instrs]) for b in f.blocks])
            for f in functions]


def _agree(defn, what: str) -> bool:
    """Asserts the fused pass agrees with the reference on `defn`; True if both accept."""
    ref = _reference(defn)
    fast = fastload.decode_verified(defn)
    if isinstance(ref, SplatJitError):
        assert fast is None, f"{what}: the fused pass accepts what the reference rejects: {ref}"
        return False
    assert fast is not None, f"{what}: the fused pass rejects a module the reference accepts"
    assert canonical(fast) == canonical(ref), f"{what}: the fused pass builds other IR"
    return True


def _corpus_defs():
    out = []
    for item, data in corpus.compiled(corpus.all_items()):
        stack = [(item.id, data)]
        while stack:
            name, data = stack.pop()
            try:
                mod = load_module(data)
            except SplatJitError:
                out.append((name, load_module_def(data)))  # the corpus' deliberately bad ones
                continue
            out.append((name, mod.defn))
            stack += [(f"{name}/rodata[{e.rodata_ordinal}]", mod.defn.rodata[e.rodata_ordinal].data)
                      for e in mod.executables]
    return out


def test_every_corpus_module_gives_the_reference_functions():
    accepted = 0
    for name, defn in _corpus_defs():
        accepted += _agree(defn, name)
    assert accepted >= 90  # the programs' nested kernels included


def test_instr_shapes_are_the_template_keys():
    """The shape the fused pass leaves on an op (`Instr.shape`) is exactly the template key,
    register order and successor blocks `baseline_templates.shape_key` works out from its
    fields, on every corpus op that has one, and so is the pair key made from a compare's
    and the next op's shapes; only branch tables and ops with a remap lack one, but for
    the ops of `LONG_FORM_LAYOUTS`, whose remapped successors give the long form."""
    from splatjit.emit_x64.baseline_templates import FUSING, pair_shape, shape_key
    from splatjit.ir import Successor
    shaped = paired = successors = long_form = 0
    for name, defn in _corpus_defs():
        functions = fastload.decode_verified(defn)
        for fn in functions or ():
            for block in fn.blocks:
                for k, ins in enumerate(block.instrs):
                    succ = [v for v in ins.args.values() if type(v) is Successor
                            or type(v) is list and v and type(v[0]) is Successor]
                    if ins.shape is None:
                        assert ins.op.layout == "branch_table" or any(
                            s.remap for s in succ), f"{name} {ins}: no shape"
                        assert ins.op.layout not in fastload.LONG_FORM_LAYOUTS, f"{name} {ins}"
                        continue
                    long_form += any(s.remap for s in succ)
                    key, regs, blocks = shape_key(ins, block.index)
                    assert ins.shape == (key, tuple(regs), tuple(blocks)), f"{name} {ins}"
                    shaped += 1
                    successors += bool(succ)
                    nxt = block.instrs[k + 1] if k + 1 < len(block.instrs) else None
                    if nxt is not None and nxt.op.mnemonic in FUSING and nxt.shape:
                        key, regs, blocks = shape_key(ins, block.index, nxt)
                        assert pair_shape(ins, nxt) == (key, tuple(regs), tuple(blocks)), f"{name} {ins}"
                        paired += 1
    assert shaped > 5000 and successors > 500 and paired > 300 and long_form > 100
    # a pair's key is made from two short forms: the second op is never of these
    fusing_layouts = {op.layout for op in oc.OPCODES if op.mnemonic in FUSING}
    assert not fusing_layouts & fastload.LONG_FORM_LAYOUTS


def test_the_decoders_call_ops_and_loop_headers_are_what_the_ir_says():
    """`Function.call_ops` and `Function.loop_heads`, which the fused pass notes while
    decoding, equal what `lowering.call_area` and `lowering.loop_headers` work out from
    the blocks of a Function without them (the reference decoder's) on every corpus
    function; a Function rewritten by `dataclasses.replace` starts without them."""
    import dataclasses
    from splatjit.lowering import call_area, loop_headers
    functions = calls = headers = 0
    for name, defn in _corpus_defs():
        fast = fastload.decode_verified(defn)
        if fast is None:
            continue
        for fn, ref in zip(fast, _reference(defn)):
            assert ref.call_ops is None and ref.loop_heads is None
            assert fn.call_ops == [ins for ins in fn.instrs() if "callee_ordinal" in ins.args]
            assert fn.loop_heads == loop_headers(ref), f"{name} {fn.name}"
            assert call_area(fn, defn) == call_area(ref, defn), f"{name} {fn.name}"
            functions += 1
            calls += len(fn.call_ops)
            headers += len(fn.loop_heads)
    assert functions > 500 and calls > 300 and headers > 50
    copy = dataclasses.replace(fn, blocks=fn.blocks[:1])
    assert copy.call_ops is None and copy.loop_heads is None


def test_load_module_builds_the_reference_functions():
    data = (EXAMPLES / "matmul.vmfb").read_bytes()
    loaded = load_module(data)
    assert all(fn.verified for fn in loaded.functions)
    assert canonical(loaded.functions) == canonical(_reference(loaded.defn))


def _hostile_u16(fn) -> list[int]:
    """Register encodings at and around the edges of `fn`'s frame, both banks, move bit."""
    i, r = fn.i32_count, fn.ref_count
    vals = {0, 1, 2, 3, 0x7FFF, 0x4000, 0xFFFF, 0x8000, 0xC000}
    for k in (i - 2, i - 1, i, i + 1):
        vals.add(k & 0x7FFF)
    for k in (r - 1, r, r + 1):
        vals |= {0x8000 | (k & 0x3FFF), 0xC000 | (k & 0x3FFF)}
    return sorted(vals)


def _hostile_u32(defn, fn) -> list[int]:
    """Ordinals at the module's limits, block starts and their neighbours."""
    vals = {0, 1, 3, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF}
    for n in (len(defn.rodata), len(defn.types), len(defn.functions), defn.global_refs):
        vals |= {max(n - 1, 0), n, n + 1}
    n = len(defn.imports)
    vals |= {0x80000000 | max(n - 1, 0), 0x80000000 | n}
    for n in (defn.global_bytes,):
        vals |= {max(n - 8, 0), max(n - 4, 0), max(n - 3, 0), n}
    for b in fn.blocks:
        vals |= {b.offset, b.offset + 1, max(b.offset - 1, 0)}
    return sorted(vals)


def _edits(defn, rng: random.Random, count: int):
    """(label, edited ModuleDef): values written over the bytes at `count` positions drawn
    from all functions' bytecode (the ModuleDef is copied, its bytecode replaced)."""
    fns = decode_module_functions(defn)
    code = defn.bytecode
    spots = [(fn, desc, pos) for fn, desc in zip(fns, defn.functions)
             for pos in range(desc.bytecode_offset, desc.bytecode_offset + desc.bytecode_length)]
    for fn, desc, pos in rng.sample(spots, min(count, len(spots))):
        lo, hi = desc.bytecode_offset, desc.bytecode_offset + desc.bytecode_length
        if True:
            writes = [("<H", v) for v in _hostile_u16(fn) if pos + 2 <= hi]
            writes += [("<I", v) for v in _hostile_u32(defn, fn) if pos + 4 <= hi]
            writes += [("<B", rng.randrange(256)) for _ in range(4)]
            for fmt, v in writes:
                edited = bytearray(code)
                struct.pack_into(fmt, edited, pos, v)
                yield f"{fn.name}@{pos - lo:#x}={v:#x}", dataclasses.replace(defn, bytecode=bytes(edited))


#: Small modules that between them use every operand layout the corpus has (calls,
#: variadic calls, branch tables, remaps, globals, rodata, lists, strings, f32/f64 sets).
EDITED = ["vm/calls", "vm/imports_variadic", "vm/control_flow", "vm/remaps", "vm/globals",
          "vm/rodata", "vm/lists", "vm/debug_ops", "vm/arith_f64", "vm/yield",
          "vm/compare_select", "vm/fail_check"]


@pytest.mark.parametrize("item_id", EDITED)
def test_edited_bytecode_is_accepted_and_rejected_like_the_reference(item_id):
    try:
        data = corpus.compile_item(corpus.find_item(item_id))
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item_id}: {e.reason}")
    defn = load_module_def(data)
    rng = random.Random(item_id)
    accepted = rejected = 0
    for label, edited in _edits(defn, rng, 30):
        if _agree(edited, f"{item_id} {label}"):
            accepted += 1
        else:
            rejected += 1
    assert accepted and rejected  # both outcomes were exercised


def test_fuzzed_files_are_accepted_and_rejected_like_the_reference():
    seeds = [make_seed((EXAMPLES / "loop_sum.vmfb").read_bytes()),
             make_seed((EXAMPLES / "matmul.vmfb").read_bytes())]
    rng = random.Random(4)
    outcomes = {True: 0, False: 0}
    for i in range(1500):
        kind, data = mutate(seeds[i % 2], rng)
        try:
            defn = load_module_def(data)
        except SplatJitError:
            continue
        outcomes[_agree(defn, f"mutant {i} ({kind})")] += 1
    assert outcomes[True] > 50 and outcomes[False] > 50, outcomes


def test_load_module_raises_the_reference_error():
    """Where the fused pass declines, load_module's error is the reference pass's, word
    for word (class, message, offset)."""
    defn = load_module_def((EXAMPLES / "loop_sum.vmfb").read_bytes())
    rng = random.Random(7)
    seen = 0
    data = (EXAMPLES / "loop_sum.vmfb").read_bytes()
    start = data.find(defn.bytecode)
    assert start >= 0
    for label, edited in _edits(defn, rng, 25):
        ref = _reference(edited)
        if not isinstance(ref, SplatJitError):
            continue
        patched = data[:start] + edited.bytecode + data[start + len(edited.bytecode):]
        with pytest.raises(type(ref)) as got:
            load_module(patched)
        assert str(got.value) == str(ref), label
        seen += 1
    assert seen > 50


def _defn(item_id: str):
    try:
        return load_module_def(corpus.compile_item(corpus.find_item(item_id)))
    except corpus.CompileFailure as e:
        pytest.skip(f"iree-compile rejects {item_id}: {e.reason}")


def _with_descriptor(defn, ordinal: int, **changes):
    functions = list(defn.functions)
    functions[ordinal] = dataclasses.replace(functions[ordinal], **changes)
    return dataclasses.replace(defn, functions=functions)


def _field_positions(defn, want):
    """Bytecode positions of the fixed-layout fields `want(op, field)` picks."""
    from splatjit.frontend.decoder import _PLANS
    out = []
    for fn in decode_module_functions(defn):
        base = defn.functions[fn.ordinal].bytecode_offset
        for ins in fn.instrs():
            plan = _PLANS[ins.op.opcode_set][ins.op.number]
            if plan is None:
                continue
            pos = base + ins.offset + (1 if ins.op.opcode_set == "core" else 2)
            fmt = "<"
            for f, code in zip(ins.op.fields, plan[0].format[1:]):
                if want(ins.op, f):
                    out.append(pos + struct.calcsize(fmt))
                fmt += code
    return out


def _undeclared_features():
    defn = _defn("vm/arith_f32")
    assert any(d.requirements for d in defn.functions)
    for i in range(len(defn.functions)):
        defn = _with_descriptor(defn, i, requirements=0)
    return [defn]


def _block_count_off():
    defn = _defn("vm/control_flow")
    return [_with_descriptor(defn, i, block_count=d.block_count + k)
            for i, d in enumerate(defn.functions) for k in (-1, 1)]


def _cut_short():
    """Functions that end 2 bytes early: their last op's list now runs past the end (into
    the bytes that follow, which are still in the bytecode)."""
    defn = _defn("vm/calls")
    return [_with_descriptor(defn, i, bytecode_length=d.bytecode_length - 2)
            for i, d in enumerate(defn.functions) if i + 1 < len(defn.functions)]


def _move_bit_where_none_is_taken():
    defn = _defn("vm/refs")
    spots = _field_positions(defn, lambda op, f: f.kind in ("src", "dst") and f.bank == "ref"
                             and not f.move)
    assert spots
    out = []
    for pos in spots:
        code = bytearray(defn.bytecode)
        struct.pack_into("<H", code, pos, struct.unpack_from("<H", code, pos)[0] | 0x4000)
        out.append(dataclasses.replace(defn, bytecode=bytes(code)))
    return out


def _arguments_beyond_the_frame():
    """Each function's signature given 40 more i32 arguments than its frame holds (its
    body unchanged and still valid; calls to it then mismatch, so it must not be called)."""
    defn = _defn("vm/arith_i32")
    out = []
    for i, sig in enumerate(defn.signatures[:len(defn.functions)]):
        for extra in (("i32",) * 40, ("ref",) * 40, ("i64",) * 40):
            sigs = list(defn.signatures)
            sigs[i] = dataclasses.replace(sig, args=sig.args + extra)
            out.append(dataclasses.replace(defn, signatures=sigs))
    return out


def _variadic_signatures():
    """Each function's signature made variadic (an i32 span): internal functions cannot be,
    which the reference verifier says after making the span's argument registers (the
    200k-mutation fuzz found a Reg of a span type failing there)."""
    from splatjit.frontend.cconv import parse_cconv
    defn = _defn("vm/arith_i32")
    out = []
    for i in range(len(defn.functions)):
        sigs = list(defn.signatures)
        sigs[i] = parse_cconv("0CiD_i")
        out.append(dataclasses.replace(defn, signatures=sigs))
    return out


@pytest.mark.parametrize("make", [_undeclared_features, _block_count_off, _cut_short,
                                  _move_bit_where_none_is_taken, _arguments_beyond_the_frame,
                                  _variadic_signatures])
def test_function_level_rules_reject_like_the_reference(make):
    for k, defn in enumerate(make()):
        assert not _agree(defn, f"{make.__name__} #{k}")


def test_rejected_modules_leave_nothing_behind():
    """The fast pass rejects through one exception instance: rejections must not keep the
    frames (and the functions and instructions they hold) that it passed through."""
    import gc
    from splatjit.frontend.decoder import Instr
    data = bytearray(corpus.compile_item(corpus.find_item("vm/control_flow")))
    defn = load_module_def(bytes(data))
    good = fastload.decode_verified(defn)
    assert good is not None
    # the last function's last block made to run past the end of its code: rejected
    broken = dataclasses.replace(defn, functions=[*defn.functions[:-1], dataclasses.replace(
        defn.functions[-1], bytecode_length=defn.functions[-1].bytecode_length - 1)])

    def live_instrs():
        gc.collect()
        return sum(type(o) is Instr for o in gc.get_objects())

    assert fastload.decode_verified(broken) is None
    before = live_instrs()
    for _ in range(20):
        assert fastload.decode_verified(broken) is None
    assert live_instrs() <= before


def test_loading_makes_no_reference_cycles():
    """Everything `load_module` builds (the fast pass's state, the schema reader's caches,
    the loaded module) is freed by reference counting alone: a cycle would keep each
    module's instructions until the next collection and make the collector's work grow
    with every load."""
    import gc
    datas = []
    for name in ("vm/control_flow", "vm/calls", "vm/lists"):
        datas.append(corpus.compile_item(corpus.find_item(name)))
    datas.append((EXAMPLES / "matmul.vmfb").read_bytes())
    for data in datas:
        load_module(data)
    gc.collect()
    gc.disable()
    try:
        for data in datas:
            assert load_module(data).functions
        assert gc.collect() == 0
    finally:
        gc.enable()
