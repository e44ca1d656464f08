"""The AArch64 instruction-form table: one `Form` row per encoding we emit.

A row is data: a unique `name`, the assembly `mnemonic`, operand tokens (the vocabulary is
in `specs.py`), the fixed `bits` of the encoding, the access size `msize` (bytes) for
memory forms, and the architecture `feature` it needs ('fp', 'asimd' or None for the base
integer ISA). `Form.match`, `Form.encode` and `Form.format` interpret the row; nothing
else in the assembler knows an encoding.

Families that differ only in width or type are written once and expanded: `{R}`/`{N}` for
W/X (sf at bit 31), `{F}` for S/D (ftype at bit 22), and vector arrangements (Q at 30,
size at 22). `rules` names operand combinations the architecture leaves CONSTRAINED
UNPREDICTABLE (writeback into a transferred register, LDP into one register twice).

Within a mnemonic, forms are tried in table order and the first that accepts the operands
wins, so order encodes preference (e.g. shifted-register ADD before extended-register).

Adding an instruction: one `_form(...)` row, or one call of a family helper. A new operand
kind is a new token in `specs.py`, plus a generator for it in tests/test_a64_encoding.py;
the capstone sweep there covers every row automatically.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .operands import GPR, AsmError
from .specs import Spec, parse_spec


@dataclass(frozen=True)
class Form:
    name: str
    mnemonic: str
    operands: tuple[str, ...]
    bits: int
    msize: int = 0
    feature: str | None = None
    rules: tuple[str, ...] = ()  # 'wback': GPR Rt/Rt2 != base; 'pair': Rt != Rt2

    @cached_property
    def specs(self) -> tuple[Spec, ...]:
        return tuple(parse_spec(tok) for tok in self.operands)

    @cached_property
    def label_index(self) -> int | None:
        """Index of the operand that is a pc-relative target, if any."""
        for i, spec in enumerate(self.specs):
            if spec.reloc:
                return i
        return None

    def accepts_shapes(self, shapes: tuple) -> bool:
        """Whether operands of these `specs.shape`s could match (a cheap pre-filter)."""
        specs = self.specs
        if len(shapes) > len(specs) or not all(s.optional for s in specs[len(shapes):]):
            return False
        return all(key in spec.shapes for spec, key in zip(specs, shapes))

    def match(self, ops: tuple) -> tuple[tuple | None, str | None]:
        """(operands with defaults filled in, None) if this form takes `ops`, else
        (None, reason). `Imm` operands must already be unwrapped to their value."""
        specs = self.specs
        if len(ops) > len(specs):
            return None, f"takes at most {len(specs)} operands, got {len(ops)}"
        if len(ops) < len(specs):
            missing = specs[len(ops):]
            if not all(spec.optional for spec in missing):
                return None, f"takes {len(specs)} operands, got {len(ops)}"
            ops = ops + tuple(spec.default for spec in missing)
        for i, (spec, op) in enumerate(zip(specs, ops)):
            reason = spec.check(op, self)
            if reason:
                return None, f"operand {i + 1} ({spec.token}): {reason}"
        if self.rules:
            reason = _check_rules(self.rules, ops)
            if reason:
                return None, reason
        return ops, None

    def encode(self, ops: tuple) -> int:
        """The 32-bit word for matched `ops`; label fields are left zero."""
        word = self.bits
        for spec, op in zip(self.specs, ops):
            word |= spec.encode(op, self)
        return word

    def format(self, ops: tuple) -> str:
        parts = []
        for spec, op in zip(self.specs, ops):
            if spec.optional and op == spec.default:
                continue  # `ret` for `ret x30`, no `lsl #0`
            text = spec.text(op, self)
            if text is not None:
                parts.append(text)
        return f"{self.mnemonic} {', '.join(parts)}".rstrip()


def _check_rules(rules: tuple[str, ...], ops: tuple) -> str | None:
    """Operand combinations the architecture calls CONSTRAINED UNPREDICTABLE."""
    regs, address = ops[:-1], ops[-1]
    if "pair" in rules and regs[0] == regs[1]:
        return f"load pair into the same register twice ({regs[0]})"
    if "wback" in rules and not address.base.is_sp:
        for reg in regs:
            if isinstance(reg, GPR) and reg.code == address.base.code:
                return f"writeback to {address.base} which is also transferred ({reg})"
    return None


# --------------------------------------------------------------------------- table builders

FORMS: list[Form] = []
_SF = 1 << 31


def _form(name, mnemonic, operands, bits, msize=0, feature=None, rules=()):
    FORMS.append(Form(name, mnemonic, tuple(operands), bits, msize, feature, rules))


def _wx(name, mnemonic, operands, bits, xbits=_SF, only=None, **kw):
    """W and X variants: `{R}` -> W/X, `{N}` -> 32/64; the X variant ORs in `xbits`."""
    for reg, width, extra in (("W", 32, 0), ("X", 64, xbits)):
        if only and reg != only:
            continue
        ops = [tok.format(R=reg, N=width) for tok in operands]
        _form(f"{name}_{reg.lower()}", mnemonic, ops, bits | extra, **kw)


def _sd(name, mnemonic, operands, bits, gpr=False):
    """S and D variants (`{F}`), ftype at bit 22; with `gpr`, also W/X (`{R}`, sf)."""
    for fp, ftype in (("S", 0), ("D", 1 << 22)):
        for reg, sf in ((("W", 0), ("X", _SF)) if gpr else (("", 0),)):
            ops = [tok.format(F=fp, R=reg) for tok in operands]
            suffix = f"{fp.lower()}{reg.lower()}"
            _form(f"{name}_{suffix}", mnemonic, ops, bits | ftype | sf, feature="fp")


# arrangement -> (Q, size)
ARR = {"8B": (0, 0), "16B": (1, 0), "4H": (0, 1), "8H": (1, 1), "2S": (0, 2), "4S": (1, 2),
       "1D": (0, 3), "2D": (1, 3)}
_INT_ARRS = ("8B", "16B", "4H", "8H", "2S", "4S", "2D")
_FP_ARRS = ("2S", "4S", "2D")


def _vec(name, mnemonic, bits, arrs, regs="dnm", fp=False):
    """Vector forms over `arrs`; integer ops put size at 22-23, FP ops put sz at 22."""
    for arr in arrs:
        q, size = ARR[arr]
        sizebits = ((size & 1) if fp else size) << 22
        _form(f"{name}_{arr.lower()}", mnemonic, [f"V{r}.{arr}" for r in regs],
              bits | (q << 30) | sizebits, feature="asimd")


# --------------------------------------------------------------------------- integer

for mn, bits, rd in (("add", 0x11000000, "{R}d|SP"), ("adds", 0x31000000, "{R}d"),
                     ("sub", 0x51000000, "{R}d|SP"), ("subs", 0x71000000, "{R}d")):
    _wx(f"{mn}_imm", mn, (rd, "{R}n|SP", "#imm12sh"), bits)
for mn, bits, rd in (("add", 0x0B000000, "{R}d|SP"), ("adds", 0x2B000000, "{R}d"),
                     ("sub", 0x4B000000, "{R}d|SP"), ("subs", 0x6B000000, "{R}d")):
    _wx(f"{mn}_sreg", mn, ("{R}d", "{R}n", "{R}m,shift"), bits)
    _wx(f"{mn}_ereg", mn, (rd, "{R}n|SP", "Rm,ext{N}"), bits | 0x00200000)

for mn, bits, rd in (("and", 0x12000000, "{R}d|SP"), ("orr", 0x32000000, "{R}d|SP"),
                     ("eor", 0x52000000, "{R}d|SP"), ("ands", 0x72000000, "{R}d")):
    _wx(f"{mn}_imm", mn, (rd, "{R}n", "#bimm{N}"), bits)
for mn, bits in (("and", 0x0A000000), ("bic", 0x0A200000), ("orr", 0x2A000000),
                 ("orn", 0x2A200000), ("eor", 0x4A000000), ("eon", 0x4A200000),
                 ("ands", 0x6A000000), ("bics", 0x6A200000)):
    _wx(f"{mn}_sreg", mn, ("{R}d", "{R}n", "{R}m,rshift"), bits)

for mn, bits in (("movn", 0x12800000), ("movz", 0x52800000), ("movk", 0x72800000)):
    _wx(mn, mn, ("{R}d", "#imm16", "#hw{N}=0"), bits)

for mn, bits in (("madd", 0x1B000000), ("msub", 0x1B008000)):
    _wx(mn, mn, ("{R}d", "{R}n", "{R}m", "{R}a"), bits)
for mn, bits in (("smaddl", 0x9B200000), ("smsubl", 0x9B208000), ("umaddl", 0x9BA00000),
                 ("umsubl", 0x9BA08000)):
    _form(mn, mn, ("Xd", "Wn", "Wm", "Xa"), bits)
for mn, bits in (("smulh", 0x9B407C00), ("umulh", 0x9BC07C00)):
    _form(mn, mn, ("Xd", "Xn", "Xm"), bits)
for mn, bits in (("udiv", 0x1AC00800), ("sdiv", 0x1AC00C00), ("lslv", 0x1AC02000),
                 ("lsrv", 0x1AC02400), ("asrv", 0x1AC02800), ("rorv", 0x1AC02C00)):
    _wx(mn, mn, ("{R}d", "{R}n", "{R}m"), bits)
for mn, bits in (("rbit", 0x5AC00000), ("rev16", 0x5AC00400), ("clz", 0x5AC01000),
                 ("cls", 0x5AC01400)):
    _wx(mn, mn, ("{R}d", "{R}n"), bits)
_form("rev_w", "rev", ("Wd", "Wn"), 0x5AC00800)
_form("rev_x", "rev", ("Xd", "Xn"), 0xDAC00C00)
_form("rev32", "rev32", ("Xd", "Xn"), 0xDAC00800)

for mn, bits in (("sbfm", 0x13000000), ("bfm", 0x33000000), ("ubfm", 0x53000000)):
    _wx(mn, mn, ("{R}d", "{R}n", "#immr{N}", "#imms{N}"), bits, xbits=_SF | 1 << 22)
_wx("extr", "extr", ("{R}d", "{R}n", "{R}m", "#imms{N}"), 0x13800000, xbits=_SF | 1 << 22)

for mn, bits in (("csel", 0x1A800000), ("csinc", 0x1A800400), ("csinv", 0x5A800000),
                 ("csneg", 0x5A800400)):
    _wx(mn, mn, ("{R}d", "{R}n", "{R}m", "cond@12"), bits)
for mn, bits in (("ccmn", 0x3A400000), ("ccmp", 0x7A400000)):
    _wx(f"{mn}_reg", mn, ("{R}n", "{R}m", "#nzcv", "cond@12"), bits)
    _wx(f"{mn}_imm", mn, ("{R}n", "#imm5", "#nzcv", "cond@12"), bits | 0x800)

# --------------------------------------------------------------------------- loads and stores

# mnemonic, unscaled mnemonic, Rt token, access bytes, unsigned-offset encoding
_LDST = (
    ("strb", "sturb", "Wt", 1, 0x39000000), ("ldrb", "ldurb", "Wt", 1, 0x39400000),
    ("ldrsb", "ldursb", "Xt", 1, 0x39800000), ("ldrsb", "ldursb", "Wt", 1, 0x39C00000),
    ("strh", "sturh", "Wt", 2, 0x79000000), ("ldrh", "ldurh", "Wt", 2, 0x79400000),
    ("ldrsh", "ldursh", "Xt", 2, 0x79800000), ("ldrsh", "ldursh", "Wt", 2, 0x79C00000),
    ("str", "stur", "Wt", 4, 0xB9000000), ("ldr", "ldur", "Wt", 4, 0xB9400000),
    ("ldrsw", "ldursw", "Xt", 4, 0xB9800000),
    ("str", "stur", "Xt", 8, 0xF9000000), ("ldr", "ldur", "Xt", 8, 0xF9400000),
    ("str", "stur", "Bt", 1, 0x3D000000), ("ldr", "ldur", "Bt", 1, 0x3D400000),
    ("str", "stur", "Ht", 2, 0x7D000000), ("ldr", "ldur", "Ht", 2, 0x7D400000),
    ("str", "stur", "St", 4, 0xBD000000), ("ldr", "ldur", "St", 4, 0xBD400000),
    ("str", "stur", "Dt", 8, 0xFD000000), ("ldr", "ldur", "Dt", 8, 0xFD400000),
    ("str", "stur", "Qt", 16, 0x3D800000), ("ldr", "ldur", "Qt", 16, 0x3DC00000),
)
for mn, umn, rt, size, bits in _LDST:
    tag, feat = rt[0].lower(), ("fp" if rt[0] in "BHSDQ" else None)
    unscaled = bits & ~(1 << 24)
    _form(f"{mn}_{tag}_uimm", mn, (rt, "[uimm12]"), bits, size, feat)
    wback = () if feat else ("wback",)
    _form(f"{mn}_{tag}_pre", mn, (rt, "[pre9]"), unscaled | 0xC00, size, feat, wback)
    _form(f"{mn}_{tag}_post", mn, (rt, "[post9]"), unscaled | 0x400, size, feat, wback)
    _form(f"{mn}_{tag}_reg", mn, (rt, "[reg]"), unscaled | 0x200800, size, feat)
    _form(f"{umn}_{tag}", umn, (rt, "[simm9]"), unscaled, size, feat)

# a scaled-offset mnemonic falls back to its unscaled twin when the offset needs it
UNSCALED = {mn: umn for mn, umn, *_ in _LDST}

for rt, bits, feat in (("Wt", 0x18000000, None), ("Xt", 0x58000000, None),
                       ("St", 0x1C000000, "fp"), ("Dt", 0x5C000000, "fp"),
                       ("Qt", 0x9C000000, "fp")):
    _form(f"ldr_{rt[0].lower()}_lit", "ldr", (rt, "label19"), bits, 0, feat)
_form("ldrsw_lit", "ldrsw", ("Xt", "label19"), 0x98000000)

for mn, rt, size, bits in (("stp", "W", 4, 0x28000000), ("ldp", "W", 4, 0x28400000),
                           ("stp", "X", 8, 0xA8000000), ("ldp", "X", 8, 0xA8400000),
                           ("stp", "S", 4, 0x2C000000), ("ldp", "S", 4, 0x2C400000),
                           ("stp", "D", 8, 0x6C000000), ("ldp", "D", 8, 0x6C400000),
                           ("stp", "Q", 16, 0xAC000000), ("ldp", "Q", 16, 0xAC400000)):
    feat = "fp" if rt in "SDQ" else None
    for mode, mode_bits in (("pair", 0x01000000), ("pairpre", 0x01800000),
                            ("pairpost", 0x00800000)):
        rules = (("pair",) if mn == "ldp" else ()) + \
            (("wback",) if mode != "pair" and not feat else ())
        _form(f"{mn}_{rt.lower()}_{mode}", mn, (f"{rt}t", f"{rt}t2", f"[{mode}]"),
              bits | mode_bits, size, feat, rules)

# --------------------------------------------------------------------------- branches

_form("b", "b", ("label26",), 0x14000000)
_form("bl", "bl", ("label26",), 0x94000000)
COND_NAMES = ("eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc",
              "hi", "ls", "ge", "lt", "gt", "le", "al", "nv")
for _code, _cond in enumerate(COND_NAMES):
    _form(f"b.{_cond}", f"b.{_cond}", ("label19",), 0x54000000 | _code)
_wx("cbz", "cbz", ("{R}t", "label19"), 0x34000000)
_wx("cbnz", "cbnz", ("{R}t", "label19"), 0x35000000)
for mn, bits in (("tbz", 0x36000000), ("tbnz", 0x37000000)):
    _form(f"{mn}_w", mn, ("Wt", "#bit32", "label14"), bits)
    _form(f"{mn}_x", mn, ("Xt", "#bit64", "label14"), bits)
_form("br", "br", ("Xn",), 0xD61F0000)
_form("blr", "blr", ("Xn",), 0xD63F0000)
_form("ret", "ret", ("Xn=x30",), 0xD65F0000)
_form("brk", "brk", ("#brk16",), 0xD4200000)
_form("udf", "udf", ("#udf16",), 0x00000000)
_form("nop", "nop", (), 0xD503201F)

# --------------------------------------------------------------------------- scalar FP

_sd("fmov_reg", "fmov", ("{F}d", "{F}n"), 0x1E204000)
_form("fmov_sw", "fmov", ("Sd", "Wn"), 0x1E270000, feature="fp")
_form("fmov_ws", "fmov", ("Wd", "Sn"), 0x1E260000, feature="fp")
_form("fmov_dx", "fmov", ("Dd", "Xn"), 0x9E670000, feature="fp")
_form("fmov_xd", "fmov", ("Xd", "Dn"), 0x9E660000, feature="fp")
_sd("fmov_imm", "fmov", ("{F}d", "#fimm"), 0x1E201000)
for mn, bits in (("fmul", 0x1E200800), ("fdiv", 0x1E201800), ("fadd", 0x1E202800),
                 ("fsub", 0x1E203800), ("fmax", 0x1E204800), ("fmin", 0x1E205800),
                 ("fmaxnm", 0x1E206800), ("fminnm", 0x1E207800), ("fnmul", 0x1E208800)):
    _sd(mn, mn, ("{F}d", "{F}n", "{F}m"), bits)
for mn, bits in (("fabs", 0x1E20C000), ("fneg", 0x1E214000), ("fsqrt", 0x1E21C000),
                 ("frintn", 0x1E244000), ("frintp", 0x1E24C000), ("frintm", 0x1E254000),
                 ("frintz", 0x1E25C000), ("frinta", 0x1E264000), ("frintx", 0x1E274000),
                 ("frinti", 0x1E27C000)):
    _sd(mn, mn, ("{F}d", "{F}n"), bits)
_form("fcvt_ds", "fcvt", ("Dd", "Sn"), 0x1E22C000, feature="fp")
_form("fcvt_sd", "fcvt", ("Sd", "Dn"), 0x1E624000, feature="fp")
for mn, bits in (("fmadd", 0x1F000000), ("fmsub", 0x1F008000), ("fnmadd", 0x1F200000),
                 ("fnmsub", 0x1F208000)):
    _sd(mn, mn, ("{F}d", "{F}n", "{F}m", "{F}a"), bits)
for mn, bits in (("fcmp", 0x1E202000), ("fcmpe", 0x1E202010)):
    _sd(f"{mn}_reg", mn, ("{F}n", "{F}m"), bits)
    _sd(f"{mn}_zero", mn, ("{F}n", "#0.0"), bits | 0x8)
_sd("fcsel", "fcsel", ("{F}d", "{F}n", "{F}m", "cond@12"), 0x1E200C00)
for mn, bits in (("scvtf", 0x1E220000), ("ucvtf", 0x1E230000)):
    _sd(mn, mn, ("{F}d", "{R}n"), bits, gpr=True)
for mn, bits in (("fcvtns", 0x1E200000), ("fcvtnu", 0x1E210000), ("fcvtas", 0x1E240000),
                 ("fcvtau", 0x1E250000), ("fcvtps", 0x1E280000), ("fcvtpu", 0x1E290000),
                 ("fcvtms", 0x1E300000), ("fcvtmu", 0x1E310000), ("fcvtzs", 0x1E380000),
                 ("fcvtzu", 0x1E390000)):
    _sd(mn, mn, ("{R}d", "{F}n"), bits, gpr=True)

# --------------------------------------------------------------------------- SIMD

for mn, bits in (("fadd", 0x0E20D400), ("fsub", 0x0EA0D400), ("fmul", 0x2E20DC00),
                 ("fdiv", 0x2E20FC00), ("fmax", 0x0E20F400), ("fmin", 0x0EA0F400),
                 ("fmaxnm", 0x0E20C400), ("fminnm", 0x0EA0C400), ("fmla", 0x0E20CC00),
                 ("fmls", 0x0EA0CC00), ("faddp", 0x2E20D400)):
    _vec(f"{mn}_v", mn, bits, _FP_ARRS, fp=True)
for mn, bits in (("fabs", 0x0EA0F800), ("fneg", 0x2EA0F800), ("fsqrt", 0x2EA1F800),
                 ("scvtf", 0x0E21D800), ("ucvtf", 0x2E21D800), ("fcvtzs", 0x0EA1B800),
                 ("fcvtzu", 0x2EA1B800)):
    _vec(f"{mn}_v", mn, bits, _FP_ARRS, regs="dn", fp=True)
_vec("add_v", "add", 0x0E208400, _INT_ARRS)
_vec("sub_v", "sub", 0x2E208400, _INT_ARRS)
_vec("mul_v", "mul", 0x0E209C00, _INT_ARRS[:-1])
for mn, bits in (("and", 0x0E201C00), ("bic", 0x0E601C00), ("orr", 0x0EA01C00),
                 ("orn", 0x0EE01C00), ("eor", 0x2E201C00)):
    _vec(f"{mn}_v", mn, bits, ("8B", "16B"))
_vec("not_v", "not", 0x2E205800, ("8B", "16B"), regs="dn")

for mn, bits in (("fmla", 0x0F801000), ("fmls", 0x0F805000), ("fmul", 0x0F809000)):
    _form(f"{mn}_e_2s", mn, ("Vd.2S", "Vn.2S", "Vm.S[hl]"), bits, feature="asimd")
    _form(f"{mn}_e_4s", mn, ("Vd.4S", "Vn.4S", "Vm.S[hl]"), bits | 1 << 30, feature="asimd")
    _form(f"{mn}_e_2d", mn, ("Vd.2D", "Vn.2D", "Vm.D[h]"), bits | 1 << 30 | 1 << 22,
          feature="asimd")

_IMM5_SIZE = {"B": 1, "H": 2, "S": 4, "D": 8}  # lowest set bit of imm5 marks the lane size
for arr in _INT_ARRS:
    q, lane = ARR[arr][0], arr[-1]
    _form(f"dup_e_{arr.lower()}", "dup", (f"Vd.{arr}", f"Vn.{lane}[i5]"), 0x0E000400 | q << 30,
          feature="asimd")
    gpr = "Xn" if lane == "D" else "Wn"
    _form(f"dup_g_{arr.lower()}", "dup", (f"Vd.{arr}", gpr),
          0x0E000C00 | q << 30 | _IMM5_SIZE[lane] << 16, feature="asimd")
for lane in "BHSD":
    gpr = "X" if lane == "D" else "W"
    _form(f"umov_{lane.lower()}", "umov", (f"{gpr}d", f"Vn.{lane}[i5]"),
          0x0E003C00 | (1 << 30 if lane == "D" else 0), feature="asimd")
    _form(f"ins_g_{lane.lower()}", "ins", (f"Vd.{lane}[i5]", f"{gpr}n"), 0x4E001C00,
          feature="asimd")
    _form(f"ins_e_{lane.lower()}", "ins", (f"Vd.{lane}[i5]", f"Vn.{lane}[i4]"), 0x6E000400,
          feature="asimd")
for lane, gpr, q in (("B", "W", 0), ("H", "W", 0), ("B", "X", 1), ("H", "X", 1),
                     ("S", "X", 1)):
    _form(f"smov_{gpr.lower()}{lane.lower()}", "smov", (f"{gpr}d", f"Vn.{lane}[i5]"),
          0x0E002C00 | q << 30, feature="asimd")

_form("movi_2d", "movi", ("Vd.2D", "#movi64"), 0x6F00E400, feature="asimd")
_form("movi_d", "movi", ("Dd", "#movi64"), 0x2F00E400, feature="asimd")
_form("movi_16b", "movi", ("Vd.16B", "#imm8"), 0x4F00E400, feature="asimd")
_form("movi_8b", "movi", ("Vd.8B", "#imm8"), 0x0F00E400, feature="asimd")
_form("faddp_s", "faddp", ("Sd", "Vn.2S"), 0x7E30D800, feature="asimd")
_form("faddp_d", "faddp", ("Dd", "Vn.2D"), 0x7E70D800, feature="asimd")
for arr, dst in (("8B", "Bd"), ("16B", "Bd"), ("4H", "Hd"), ("8H", "Hd"), ("4S", "Sd")):
    q, size = ARR[arr]
    _form(f"addv_{arr.lower()}", "addv", (dst, f"Vn.{arr}"),
          0x0E31B800 | q << 30 | size << 22, feature="asimd")

_LD1_OPCODE = {1: 0b0111, 2: 0b1010, 3: 0b0110, 4: 0b0010}
for mn, bits, post_bits in (("ld1", 0x0C400000, 0x0CC00000), ("st1", 0x0C000000, 0x0C800000)):
    for arr, (q, size) in ARR.items():
        for count, opcode in _LD1_OPCODE.items():
            fixed = q << 30 | opcode << 12 | size << 10
            tok, nbytes = f"{{Vt.{arr}}}*{count}", count * (16 if q else 8)
            name = f"{mn}_{arr.lower()}_x{count}"
            _form(name, mn, (tok, "[base]"), bits | fixed, nbytes, "asimd")
            _form(f"{name}_posti", mn, (tok, "[postimm]"), post_bits | fixed, nbytes, "asimd")
            _form(f"{name}_postr", mn, (tok, "[postreg]"), post_bits | fixed, nbytes, "asimd")


# --------------------------------------------------------------------------- indexes

FORMS_BY_NAME: dict[str, Form] = {}
FORMS_BY_MNEMONIC: dict[str, list[Form]] = {}
for _f in FORMS:
    if _f.name in FORMS_BY_NAME:
        raise AsmError(f"duplicate form name {_f.name}")
    FORMS_BY_NAME[_f.name] = _f
    FORMS_BY_MNEMONIC.setdefault(_f.mnemonic, []).append(_f)
    _f.specs  # parse every token now: a typo in the table fails at import

FEATURES = frozenset({"fp", "asimd"})
