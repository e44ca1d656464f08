"""Static verification of decoded functions, before anything executes.

Contract: `verify_function(fn, module)` either marks `fn.verified` and resolves every branch
successor to its block index, or raises `VerifyError` naming module, function and the byte
offset of the offending op. Checked rules:
  * the function's signature is internally consistent and its arguments fit its frame;
  * block markers equal the descriptor's block count; every branch target is a block start;
  * every register ordinal fits the frame (i32-bank slots < i32 count; i64/f64 even-aligned
    with both halves in range; refs < ref count);
  * function, import, rodata, type and global ordinals are in range (primitive globals:
    byte offset + width within the module's global bytes);
  * call operands and results match the callee's signature in count and bank, variadic
    segment sizes match its spans; `vm.return` matches the function's own results;
  * extension opcodes are declared in the function's requirement bits.
"""
from __future__ import annotations

from ..errors import VerifyError
from ..ir import WIDE, Function, Instr, Reg, Successor
from . import opcodes as oc
from .cconv import Signature
from .schema import ModuleDef

IMPORT_BIT = 0x80000000
_GLOBAL_WIDTH = {"i32": 4, "f32": 4, "i64": 8, "f64": 8}


def arg_registers(signature: Signature) -> tuple[Reg, ...]:
    """Registers that receive a function's arguments on entry (IREE's placement rule:
    i32/f32 take the next slot, i64/f64 the next even pair, refs the next ref register).
    Answered once per argument type list (Regs are immutable; the tuple is shared)."""
    regs = _ARG_REGISTERS.get(signature.args)
    if regs is None:
        if len(_ARG_REGISTERS) >= 1 << 12:
            _ARG_REGISTERS.clear()
        regs = _ARG_REGISTERS[signature.args] = _arg_registers(signature.args)
    return regs


_ARG_REGISTERS: dict[tuple, tuple[Reg, ...]] = {}


def _arg_registers(types: tuple) -> tuple[Reg, ...]:
    regs, i32, ref = [], 0, 0
    for t in types:
        if t == "ref":
            regs.append(Reg("ref", ref))
            ref += 1
        elif t in WIDE:
            i32 += i32 & 1
            regs.append(Reg(t, i32))
            i32 += 2
        else:
            regs.append(Reg(t, i32))
            i32 += 1
    return tuple(regs)


def _flat(types: tuple, segments: list[int] | None) -> list[str] | str:
    """One type per list entry, or an error message."""
    out: list[str] = []
    spans = sum(isinstance(t, tuple) for t in types)
    if segments is None:
        if spans:
            return "variadic callee called without segment sizes"
        return list(types)
    if len(segments) != len(types):
        return f"{len(segments)} segment sizes for {len(types)} arguments"
    for t, n in zip(types, segments):
        if isinstance(t, tuple):
            if n == 0xFFFF:
                return "variadic span without a count"
            out.extend(list(t) * n)
        else:
            if n != 0xFFFF:
                return f"segment size {n} given for a non-variadic argument"
            out.append(t)
    return out


class _FunctionVerifier:
    def __init__(self, fn: Function, module: ModuleDef):
        self.fn, self.m = fn, module
        self.instr: Instr | None = None
        self.block_at = {b.offset: b.index for b in fn.blocks}
        self.flat_cache: dict[tuple, list[str] | str] = {}

    def fail(self, message: str) -> VerifyError:
        off = self.instr.offset if self.instr is not None else None
        return VerifyError(message, where=self.fn.where(off))

    # -- registers -------------------------------------------------------------------------
    def reg(self, r: Reg, what: str) -> None:
        fn = self.fn
        if r.type == "ref":
            if r.ordinal >= fn.ref_count:
                raise self.fail(f"{what}: ref register %r{r.ordinal} out of range "
                                f"({fn.ref_count} ref registers)")
        elif r.type in WIDE:
            if r.ordinal & 1:
                raise self.fail(f"{what}: {r.type} register %i{r.ordinal} is not even-aligned")
            if r.ordinal + 1 >= fn.i32_count:
                raise self.fail(f"{what}: {r.type} register {r} out of range "
                                f"({fn.i32_count} i32 registers)")
        elif r.ordinal >= fn.i32_count:
            raise self.fail(f"{what}: register %i{r.ordinal} out of range "
                            f"({fn.i32_count} i32 registers)")

    def typed_list(self, regs: list[Reg], types: list[str], what: str) -> None:
        if len(regs) != len(types):
            raise self.fail(f"{what}: {len(regs)} registers for {len(types)} values")
        for i, (r, t) in enumerate(zip(regs, types)):
            if r.type == t and (r.ordinal < self.fn.ref_count if t == "ref" else
                                r.ordinal < self.fn.i32_count if t not in WIDE else
                                not r.ordinal & 1 and r.ordinal + 1 < self.fn.i32_count):
                continue  # the common case: right type, in range
            if (t == "ref") != (r.type == "ref"):
                raise self.fail(f"{what}[{i}]: expected {t}, got {'ref' if r.is_ref else 'i32-bank'} "
                                f"register {r}")
            if t != "ref" and r.type != t:
                raise self.fail(f"{what}[{i}]: expected {t}, got {r.type}")
            self.reg(r, f"{what}[{i}]")

    # -- ordinals --------------------------------------------------------------------------
    def callee(self, ordinal: int) -> Signature:
        m = self.m
        if ordinal & IMPORT_BIT:
            i = ordinal & ~IMPORT_BIT
            if i >= len(m.imports):
                raise self.fail(f"import ordinal {i} out of range ({len(m.imports)} imports)")
            return m.imports[i].signature
        if ordinal >= len(m.functions):
            raise self.fail(f"function ordinal {ordinal} out of range ({len(m.functions)} functions)")
        return m.signatures[ordinal]

    def successor(self, s: Successor) -> Successor:
        block = self.block_at.get(s.pc)
        if block is None:
            raise self.fail(f"branch target 0x{s.pc:x} is not a block start")
        for i, (src, dst) in enumerate(s.remap):
            if src.is_ref != dst.is_ref:
                raise self.fail(f"branch remap {i}: {src} -> {dst} mixes banks")
            self.reg(src, f"remap[{i}] source")
            self.reg(dst, f"remap[{i}] target")
        return Successor(s.pc, block, s.remap)

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> None:
        fn, m = self.fn, self.m
        n_i32 = n_ref = 0
        for r in arg_registers(fn.signature):
            if r.is_ref:
                n_ref = r.ordinal + 1
            else:
                n_i32 = max(n_i32, r.ordinal + len(r.slots))
        if fn.signature.is_variadic:
            raise self.fail("internal functions cannot be variadic")
        if n_i32 > fn.i32_count or n_ref > fn.ref_count:
            raise self.fail(f"arguments need {n_i32} i32 / {n_ref} ref registers, frame has "
                            f"{fn.i32_count} / {fn.ref_count}")
        desc = m.functions[fn.ordinal]
        if len(fn.blocks) != desc.block_count:
            raise self.fail(f"{len(fn.blocks)} blocks found, descriptor declares {desc.block_count}")
        for block in fn.blocks:
            for ins in block.instrs:
                self.instr = ins
                self.check(ins)
        self.instr = None
        fn.verified = True

    def check(self, ins: Instr) -> None:
        op, args = ins.op, ins.args
        need = oc.SET_FEATURE[op.opcode_set]
        if need and not self.fn.requirements & need:
            raise self.fail(f"{op.name} needs feature {op.opcode_set.upper()} that the function "
                            f"does not declare")
        m = self.m
        fn = self.fn
        for name, k, bank in _CHECKS[op]:
            v = args[name]
            if k is oc.SRC or k is oc.DST:
                # Inline fast path of self.reg() for the common in-range case.
                if v.type == "ref":
                    if v.ordinal < fn.ref_count:
                        continue
                elif v.type in WIDE:
                    if not v.ordinal & 1 and v.ordinal + 1 < fn.i32_count:
                        continue
                elif v.ordinal < fn.i32_count:
                    continue
                self.reg(v, name)
            elif k is oc.TARGET:
                args[name] = self.successor(v)
            elif k is oc.CASES:
                args[name] = [self.successor(s) for s in v]
            elif k is oc.RODATA:
                if v >= len(m.rodata):
                    raise self.fail(f"rodata ordinal {v} out of range ({len(m.rodata)} segments)")
            elif k is oc.TYPE:
                if v >= len(m.types):
                    raise self.fail(f"type ordinal {v} out of range ({len(m.types)} types)")
            elif k is oc.FUNC:
                self.callee(v)
            elif k is oc.GLOBAL:
                self.global_ref(op, v)
            elif bank != "any":  # typed register lists
                for i, r in enumerate(v):
                    self.reg(r, f"{name}[{i}]")
        if "callee_ordinal" in args:
            self.call(ins)
        elif op.mnemonic == "return":
            self.typed_list(args["operands"], list(self.fn.signature.results), "return")
        else:
            for name, k, bank in _CHECKS[op]:
                if bank == "any":  # trace/print/discard: any registers, in range
                    for i, r in enumerate(args[name]):
                        self.reg(r, f"{name}[{i}]")

    def global_ref(self, op: oc.Opcode, value: int) -> None:
        bank = next((f.bank for f in op.fields if f.kind in (oc.SRC, oc.DST)), None)
        if bank == "ref":
            if value >= self.m.global_refs:
                raise self.fail(f"ref global {value} out of range ({self.m.global_refs} ref globals)")
        elif value + _GLOBAL_WIDTH[bank] > self.m.global_bytes or value % _GLOBAL_WIDTH[bank]:
            raise self.fail(f"{bank} global at byte {value} outside the {self.m.global_bytes} "
                            f"global bytes or misaligned")

    def call(self, ins: Instr) -> None:
        args = ins.args
        sig = self.callee(args["callee_ordinal"])
        segments = args.get("segment_sizes")
        key = (args["callee_ordinal"], tuple(segments) if segments is not None else None)
        types = self.flat_cache.get(key)
        if types is None:
            types = self.flat_cache[key] = _flat(sig.args, segments)
        if isinstance(types, str):
            raise self.fail(f"call to {self.callee_name(args['callee_ordinal'])}: {types}")
        self.typed_list(args["operands"], types, "call operands")
        self.typed_list(args["results"], list(sig.results), "call results")

    def callee_name(self, ordinal: int) -> str:
        if ordinal & IMPORT_BIT:
            return self.m.imports[ordinal & ~IMPORT_BIT].name
        return self.m.function_name(ordinal)


_CHECKED_KINDS = frozenset({oc.SRC, oc.DST, oc.TARGET, oc.CASES, oc.RODATA, oc.TYPE, oc.FUNC,
                            oc.GLOBAL, oc.SRCLIST, oc.DSTLIST})
#: Per opcode row: the (field name, kind, bank) triples the verifier looks at.
_CHECKS = {op: tuple((f.name, f.kind, f.bank) for f in op.fields if f.kind in _CHECKED_KINDS)
           for op in oc.OPCODES}


def verify_function(fn: Function, module: ModuleDef) -> Function:
    """Verifies `fn` in place (see the module docstring) and returns it."""
    _FunctionVerifier(fn, module).run()
    return fn
