"""Target-independent pieces of lowering, shared by `emit_x64` and `emit_a64`.

Contract: nothing here knows an instruction encoding or a machine register; the emitters
call these to decide *what* to emit (which blocks are loop headers, how large the outgoing
call area is, whether a remap list must take the interpreter's sequential route, which type
tag a cast checks) and keep *how* to themselves. `CompiledModule` / `FunctionInfo` are what
either emitter hands to the runtime.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .frontend.cconv import Signature
from .frontend.schema import ModuleDef
from .frontend import opcodes as oc
from .ir import WIDE, Function, Reg
from .regalloc.linear_scan import Allocation
from .regalloc.variables import SlotMap, successors, typed_regs
from .errors import UnsupportedError
from .runtime import abi

IMPORT_BIT = 0x80000000


@dataclass
class FunctionInfo:
    name: str
    ordinal: int
    entry: object                      # the emitter's entry label
    allocation: Allocation
    slots: SlotMap
    frame: object                      # the emitter's frame layout (`frame.size` in bytes)
    unsupported: list[str] = field(default_factory=list)  # op names without a lowering
    #: where the frame lives: "stack" (rsp moved), "red zone" (below rsp, leaf without
    #: calls), "none" (every value in a register, no frame pointer)
    frame_kind: str = "stack"


@dataclass
class CompiledModule:
    """`listing` (code offset, instruction text) and `tag_map` (code offset -> (function
    ordinal, bytecode offset)) are read from the finished `assembler` when first used: only
    tools and trap reports need them. A module may drop its assembler (`forget_assembler`,
    ~10^4 objects the collector would otherwise keep scanning) for a `rebuild` that compiles
    the same code again when one of them is asked for."""
    code: bytes
    entries: dict[int, int]            # function ordinal -> code offset
    functions: dict[int, FunctionInfo]
    unsupported: dict[int, list[str]]  # function ordinal -> unsupported op names
    features: frozenset
    assembler: object = field(repr=False, compare=False)  # finished; answers listing, tag_map
    #: () -> a CompiledModule of the same code with its assembler, once it was forgotten
    rebuild: object = field(default=None, repr=False, compare=False)

    def forget_assembler(self, rebuild) -> None:
        """Drops the assembler; `rebuild()` must compile this very code again (checked)."""
        self.assembler, self.rebuild = None, rebuild

    def _finished_assembler(self):
        if self.assembler is None:
            again = self.rebuild()
            if again.code != self.code:
                raise UnsupportedError("recompiling the module for its listing gave other code")
            self.assembler = again.assembler
        return self.assembler

    @cached_property
    def listing(self) -> list[tuple[int, str]]:
        return list(self._finished_assembler().listing)

    @cached_property
    def tag_map(self) -> dict[int, object]:
        return dict(self._finished_assembler().tag_map)

    def symbols(self, loaded, suffix: str = "") -> list[tuple[int, int, str]]:
        """(offset, size, "splatjit:module.function" + suffix) per function of `loaded`, in
        code order, for the perf map; a function's size runs to the next function's entry
        (its trap stubs included)."""
        names = {fn.ordinal: fn.name for fn in loaded.functions}
        starts = sorted((off, o) for o, off in self.entries.items())
        ends = [off for off, _ in starts[1:]] + [len(self.code)]
        module = loaded.defn.name
        return [(off, end - off, f"splatjit:{module}.{names[o]}{suffix}")
                for (off, o), end in zip(starts, ends)]


def callee_signature(module: ModuleDef, ordinal: int) -> Signature:
    """The signature of a call target: an import (bit 31 set) or an internal function."""
    if ordinal & IMPORT_BIT:
        return module.imports[ordinal & ~IMPORT_BIT].signature
    return module.signatures[ordinal]


@dataclass(frozen=True)
class CallLayout:
    """Where a call site's values go in its outgoing args/results buffers (runtime/abi.py).

    `arg_types`/`arg_offsets` pair one-to-one with the instruction's operand registers;
    `counts` are (offset, n) i32 constants a variadic call stores before each span."""
    arg_types: tuple
    arg_offsets: tuple
    counts: tuple
    arg_size: int
    result_types: tuple
    result_offsets: tuple
    result_size: int


#: (callee args, results, segment sizes) -> CallLayout: a layout depends on nothing else,
#: and a module's calls repeat a few signatures (each call site asks twice: frame size,
#: lowering). Bounded: cleared when full.
_LAYOUTS: dict[tuple, CallLayout] = {}
_LAYOUTS_LIMIT = 1 << 12


def call_layout(module: ModuleDef, ins) -> CallLayout:
    """The buffer layout of a `call` / `call.variadic` instruction."""
    sig = callee_signature(module, ins.args["callee_ordinal"])
    segments = ins.args.get("segment_sizes")
    key = (sig.args, sig.results, None if segments is None else tuple(segments))
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) >= _LAYOUTS_LIMIT:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _call_layout(sig, segments)
    return layout


def _call_layout(sig: Signature, segments) -> CallLayout:
    if sig.is_variadic:
        flat = abi.flatten_variadic(sig.args, segments)
    else:
        flat = list(sig.args)
    offsets, arg_size = abi.cconv_layout(flat)
    arg_types, arg_offsets, counts, k = [], [], [], 0
    for i, t in enumerate(sig.args):  # split the count slots from the value slots
        if isinstance(t, tuple):
            counts.append((offsets[k], segments[i]))
            k += 1
            n = len(t) * segments[i]
            arg_types += flat[k:k + n]
            arg_offsets += offsets[k:k + n]
            k += n
        else:
            arg_types.append(t)
            arg_offsets.append(offsets[k])
            k += 1
    res_offsets, res_size = abi.cconv_layout(list(sig.results))
    return CallLayout(tuple(arg_types), tuple(arg_offsets), tuple(counts), arg_size,
                      tuple(sig.results), tuple(res_offsets), res_size)


def module_fields(a, loaded, label_cls, lower_function) -> dict:
    """The fields of a `CompiledModule` whose functions are those of `loaded`, each lowered in
    order into assembler `a` by `lower_function(fn, entries)` (its FunctionInfo; `entries`:
    function ordinal -> entry label, a `label_cls`), then `a` finished. UnsupportedError for
    a function the verifier did not pass."""
    entries = {fn.ordinal: label_cls(f"fn{fn.ordinal}.{fn.name}") for fn in loaded.functions}
    infos = {}
    for fn in loaded.functions:
        if not fn.verified:
            raise UnsupportedError(f"function {fn.name} is not verified")
        infos[fn.ordinal] = lower_function(fn, entries)
    return finished_fields(a, infos)


def finished_fields(a, infos: dict) -> dict:
    """The fields of a `CompiledModule` of the functions `infos` (ordinal -> FunctionInfo,
    each entered at its `entry` label) lowered into assembler `a`, which is finished here."""
    code = a.finish()
    return dict(code=code, entries={o: a.label_offset(i.entry) for o, i in infos.items()},
                functions=infos,
                unsupported={o: i.unsupported for o, i in infos.items() if i.unsupported},
                features=a.features, assembler=a)


def outgoing_area_size(fn: Function, module: ModuleDef) -> int:
    """Bytes for the args + results buffers of the largest call in `fn`."""
    return call_area(fn, module)[0]


def call_area(fn: Function, module: ModuleDef) -> tuple[int, bool]:
    """(`outgoing_area_size`, whether any op of `fn` calls) in one pass over its ops."""
    size, calls = 0, False
    for ins in fn.instrs() if fn.call_ops is None else fn.call_ops:
        args = ins.args
        if "callee_ordinal" in args:
            calls = True
            if args["callee_ordinal"] is not None:
                layout = call_layout(module, ins)
                size = max(size, layout.arg_size + layout.result_size)
    return size, calls


def loop_headers(fn: Function) -> set[int]:
    """Blocks entered by a backward branch (a branch from the same or a later block)."""
    if fn.loop_heads is not None:  # (the fast decoder's answer)
        return fn.loop_heads
    return {s.block for b in fn.blocks for ins in b.instrs[-1:] for s in successors(ins)
            if s.block is not None and s.block <= b.index}


def mixes_memory_widths(pairs) -> bool:
    """True when a remap's copies touch one memory slot both as a 32-bit value and as half of
    a 64-bit one; such lists take the interpreter's sequential route. `pairs` hold
    ("mem", slot, bits) locations among others."""
    covered: dict[int, object] = {}
    for loc in {loc for p in pairs for loc in p if loc[0] == "mem"}:
        for slot in range(loc[1], loc[1] + loc[2] // 32):
            if covered.setdefault(slot, loc) != loc:
                return True
    return False


def ref_type_tag(type_name: str) -> int | None:
    """The native type tag `cast.any.ref` to `type_name` checks (None: any ref passes).
    Buffers and lists keep their tag at the same offset (abi.BUF_TYPE == abi.LIST_TYPE)."""
    if type_name == "!vm.buffer":
        return abi.TYPE_BUFFER
    if type_name.startswith("!vm.list"):
        return abi.TYPE_LIST
    return abi.HOST_TYPE_TAGS.get(type_name)


class CheckedAccesses:
    """Range-check elimination inside a basic block: the buffer accesses already checked.

    A fact (ref slot, index register, element size, writable) says an access of that
    element passed its null, bounds (and, if `writable`, mutability) checks earlier in the
    block. It stays true while neither the ref slot nor any slot of the index is written:
    a buffer's length, data pointer and access never change, and a block has one entry.
    An emitter asks `proven(...)` before checking, records with `add(...)`, calls
    `kill(ins)` after lowering each op and `reset()` at each block start.
    """

    def __init__(self):
        self.facts: set[tuple] = set()

    def reset(self) -> None:
        self.facts.clear()

    @staticmethod
    def _key(buf, index, size):
        return (buf.ordinal, index.type, index.ordinal, size)

    def proven(self, buf, index, size: int, writable: bool) -> bool:
        key = self._key(buf, index, size)
        return (key, True) in self.facts or (not writable and (key, False) in self.facts)

    def in_bounds(self, buf, index, size: int) -> bool:
        """Null and bounds checks done (a store after a load still checks mutability)."""
        key = self._key(buf, index, size)
        return (key, True) in self.facts or (key, False) in self.facts

    def add(self, buf, index, size: int, writable: bool) -> None:
        self.facts.add((self._key(buf, index, size), writable))

    def kill(self, ins) -> None:
        if not self.facts:
            return
        refs, slots = set(), set()
        for name, kind in ins.op.reg_fields:
            value = ins.args.get(name)
            regs = value if isinstance(value, list) else [value]
            writes = kind is oc.DST or kind is oc.DSTLIST
            for r in regs:
                if not isinstance(r, Reg):
                    continue
                if r.is_ref and (writes or r.move):  # a move-bit read leaves the slot null
                    refs.add(r.ordinal)
                elif writes and not r.is_ref:
                    slots.update(r.slots)
        if not refs and not slots:
            return
        keep = set()
        for fact in self.facts:
            ref, index_type, index, _ = fact[0]
            if ref in refs or (index_type != "ref" and (
                    index in slots or (index_type in WIDE and index + 1 in slots))):
                continue  # (the slots of Reg(index_type, index), inline)
            keep.add(fact)
        self.facts = keep


CONST_OPS = {"const.i32": "i32", "const.i64": "i64", "const.i32.zero": "i32",
             "const.i64.zero": "i64"}


def constant_slots(fn, first_renamed: int) -> dict[int, int]:
    """Slots (>= `first_renamed`, i.e. moved by web renaming, so every read of them is
    reached by their own defs only) written exactly once, by an integer constant op:
    slot -> value (wide constants by their even slot). Reads of them may use the value."""
    defs: dict[int, int] = {}
    consts: dict[int, tuple[int, tuple]] = {}  # base slot -> (value, slots)
    for ins in fn.instrs():
        for r in typed_regs(ins)[1]:  # (no refs)
            for slot in r.slots:
                defs[slot] = defs.get(slot, 0) + 1
            if ins.op.mnemonic in CONST_OPS:
                consts[r.ordinal] = (ins.args.get("value", 0), r.slots)
        for succ in successors(ins) if ins.op.edge_fields else ():
            for _, dst in succ.remap:
                if not dst.is_ref:
                    defs[dst.ordinal] = defs.get(dst.ordinal, 0) + 1
    return {base: value for base, (value, slots) in consts.items()
            if base >= first_renamed and all(defs.get(s) == 1 for s in slots)}


def immediate_only(fn, constants: dict[int, int], operands, fits) -> set[int]:
    """The constants of `constant_slots` (base slot -> value) that no op needs in a register:
    every read is an (op mnemonic, field) in `operands` - where the backend encodes the
    constant as an immediate when `fits(value, type)` - and no remap or list reads them.
    Their const op emits nothing and they need no register."""
    if not constants:
        return set()
    slot_base = {s: ins.args["result"].ordinal for ins in fn.instrs()
                 if ins.op.mnemonic in CONST_OPS and ins.args["result"].ordinal in constants
                 for s in ins.args["result"].slots}
    out = set(constants)
    for ins in fn.instrs():
        args = ins.args
        for name, kind in ins.op.reg_fields:
            if kind is oc.SRC:
                regs = (args[name],)
            elif kind is oc.SRCLIST:
                regs = args[name]
            else:
                continue
            for r in regs:
                if r.is_ref:
                    continue
                for slot in r.slots:
                    base = slot_base.get(slot)
                    if base is None or base not in out:
                        continue
                    ok = (kind is oc.SRC and r.ordinal == base and (ins.op.mnemonic, name) in operands
                          and fits(constants[base], r.type))
                    if not ok:
                        out.discard(base)
        if ins.op.edge_fields:
            for succ in successors(ins):
                for src, _ in succ.remap:
                    if not src.is_ref:
                        out.discard(slot_base.get(src.ordinal))
    return out
