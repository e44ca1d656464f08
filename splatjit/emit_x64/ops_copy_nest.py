"""`jit.copy.nest` on x86-64: the run-time checks of a `copy_nests.CopyNest` and the nest.

Code shape (the op ends its block; see copy_nests.py for what the checks prove):

    sub rsp, AREA                   ; private scratch: invariants, n / W_top, extremes
    invariants -> [rsp + 8j]        ; sign-extended; each within +-limit, else fallback
    i on entry == 0, 0 < n <= limit, n % W_top == 0
    per guard: its extremes at the digit box's corners (by coefficient sign)
    load / store index extremes inside their buffers (non-null; destination writable)
    the two byte ranges disjoint
    push the allocatable registers the nest uses ... nest ... pop
    add rsp, AREA; done edge (the loop's exit)
  fallback:
    add rsp, AREA; loop edge (the unchanged loop)

No allocatable register is written before the pushes, and every check reads only scratch
registers (rax, rcx, rdx, r10, r11) and the private area, so the fallback enters the loop
with every value where the allocator put it. Nothing here traps or calls. The nest copies
each contiguous run (innermost digits whose load and store coefficients both continue the
run) with 32-byte AVX moves when the CPU has AVX, else 16-byte SSE moves, then 8/4/2/1-byte
moves for what is left.
"""
from __future__ import annotations

from ..copy_nests import CopyNest
from ..runtime import abi
from . import operands as R
from .ops_control import edge
from .operands import qword

#: registers the nest may use for its pointers and counters, scratch first (the others are
#: pushed); rax stays free for wide strides and scalar moves
_NEST_REGS = (R.rsi, R.rdi, R.rcx, R.rdx, R.r10, R.r11, R.r8, R.r9, R.rbx, R.r12, R.r13,
              R.r14, R.r15)
_SCRATCH = frozenset({R.rax, R.rcx, R.rdx, R.r10, R.r11})
#: a run longer than this many bytes is copied by an inner loop of runs of at most this size
MAX_UNROLLED_RUN = 256
_SHIFT = {1: 0, 2: 1, 4: 2, 8: 3}


class _Emitter:
    def __init__(self, L, ins):
        self.L, self.a, self.ins = L, L.a, ins
        self.plan: CopyNest = ins.args["plan"]
        self.ops = ins.args["operands"]
        p = self.plan
        n_inv = len(p.invariants)
        # private area: invariants, top count, top max digit, load min/max, store min/max
        self.inv_off = 0
        self.count_off = 8 * n_inv
        self.hi_off = self.count_off + 8
        self.ext_off = self.hi_off + 8  # load min, load max, store min, store max
        self.area = (self.ext_off + 32 + 15) // 16 * 16
        self.pushed = 0  # bytes pushed below the area (rsp-relative addresses shift)

    # ------------------------------------------------------------------ helpers
    def slot(self, off: int):
        return qword[R.rsp + (off + self.pushed)]

    def add_const(self, reg, value: int, scratch=None) -> None:
        """reg += value; a value beyond imm32 goes through `scratch` (default r11, or r10
        when reg is r11)."""
        a = self.a
        if not value:
            return
        if -(1 << 31) <= value < (1 << 31):
            a.add(reg, value)
        else:
            if scratch is None:
                scratch = R.r11 if reg != R.r11 else R.r10
            a.mov(scratch, value)
            a.add(reg, scratch)

    def mul_add(self, acc, src_mem, coef: int) -> None:
        """acc += coef * [src_mem] (rcx clobbered; rdx too for a wide coefficient)."""
        a = self.a
        if coef == 1:
            a.add(acc, src_mem)
            return
        a.mov(R.rcx, src_mem)
        if -(1 << 31) <= coef < (1 << 31):
            a.imul(R.rcx, R.rcx, coef)
        else:
            a.mov(R.rdx, coef)
            a.imul(R.rcx, R.rdx)
        a.add(acc, R.rcx)

    def form(self, f, which: str, into=R.rax) -> None:
        """into = f at the box corner minimising ("min") / maximising ("max") it, or at the
        all-zero digits ("base"). Exact: the limit checks bound every term and sum."""
        a, p = self.a, self.plan
        a.mov(into, f.const) if f.const else a.xor(into.view(32), into.view(32))
        static = 0
        for atom, c in sorted(f.terms.items()):
            kind, k = atom
            if kind == "v":
                self.mul_add(into, self.slot(self.inv_off + 8 * k), c)
                continue
            if which == "base" or (which == "max") != (c > 0):
                continue
            if k == 0:
                self.mul_add(into, self.slot(self.hi_off), c)
            else:
                static += c * (p.radices[k - 1] - 1)
        self.add_const(into, static)

    # ------------------------------------------------------------------ checks
    def checks(self, fail) -> None:
        a, L, p = self.a, self.L, self.plan
        a.sub(R.rsp, self.area)
        limit = p.limit
        for j, op_index in enumerate(p.invariants):
            reg = self.ops[op_index]
            v = L.read_gpr(reg, R.rax)
            if reg.type == "i32":
                a.movsxd(R.rax, v)
            elif v != R.rax:
                a.mov(R.rax, v)
            a.mov(self.slot(self.inv_off + 8 * j), R.rax)
            a.mov(R.rcx, limit)
            a.cmp(R.rax, R.rcx)
            a.jg(fail)
            a.neg(R.rcx)
            a.cmp(R.rax, R.rcx)
            a.jl(fail)
        start = L.read_gpr(self.ops[p.start], R.rax)
        a.test(start, start)
        a.jnz(fail)
        # n: positive, at most the limit, a multiple of the top digit's weight
        self.form(p.bound, "base")
        a.test(R.rax, R.rax)
        a.jle(fail)
        a.mov(R.rcx, limit)
        a.cmp(R.rax, R.rcx)
        a.jg(fail)
        w = p.top_weight
        if w & (w - 1) == 0:
            if w > 1:
                if w - 1 < (1 << 31):
                    a.test(R.rax, w - 1)
                else:
                    a.mov(R.rcx, w - 1)
                    a.test(R.rax, R.rcx)
                a.jnz(fail)
                a.shr(R.rax, w.bit_length() - 1)
        else:
            a.xor(R.edx, R.edx)
            a.mov(R.rcx, w)
            a.div(R.rcx)
            a.test(R.rdx, R.rdx)
            a.jnz(fail)
        a.mov(self.slot(self.count_off), R.rax)
        a.dec(R.rax)
        a.mov(self.slot(self.hi_off), R.rax)
        for g in p.guards:  # left < right (or <=) at every point of the box
            if not g.signed:  # unsigned: both sides non-negative, then as signed
                self.form(g.left, "min")
                a.test(R.rax, R.rax)
                a.js(fail)
            self.form(g.left, "max", R.r10)
            self.form(g.right, "min")
            a.cmp(R.r10, R.rax)
            (a.jge if g.strict else a.jg)(fail)
        for k, (f, operand, writable) in enumerate(((p.load, p.src, False), (p.store, p.dst, True))):
            self.form(f, "min")
            a.test(R.rax, R.rax)
            a.js(fail)
            a.mov(self.slot(self.ext_off + 16 * k), R.rax)
            self.form(f, "max")
            a.mov(self.slot(self.ext_off + 16 * k + 8), R.rax)
            b = L.read_ref(self.ops[operand], R.r10)
            a.test(b, b)
            a.jz(fail)
            if writable:
                a.test(R.byte[b + abi.BUF_ACCESS], abi.ACCESS_MUTABLE)
                a.jz(fail)
            a.mov(R.rcx, qword[b + abi.BUF_LENGTH])
            if _SHIFT[p.size]:
                a.shr(R.rcx, _SHIFT[p.size])
            a.cmp(R.rax, R.rcx)
            a.jae(fail)
        # byte ranges [lo, hi) of both sides must not overlap
        for k, operand, lo, hi in ((0, p.src, R.r10, R.r11), (1, p.dst, R.rdx, R.rcx)):
            a.mov(R.rax, self.slot(self.ext_off + 16 * k))
            a.shl(R.rax, _SHIFT[p.size]) if _SHIFT[p.size] else None
            b = L.read_ref(self.ops[operand], lo)
            a.mov(lo, qword[b + abi.BUF_DATA])
            a.mov(hi, lo)
            a.add(lo, R.rax)
            a.mov(R.rax, self.slot(self.ext_off + 16 * k + 8))
            a.inc(R.rax)
            a.shl(R.rax, _SHIFT[p.size]) if _SHIFT[p.size] else None
            a.add(hi, R.rax)
        ok = R.Label()
        a.cmp(R.r11, R.rdx)  # src_hi <= dst_lo
        a.jbe(ok)
        a.cmp(R.rcx, R.r10)  # dst_hi <= src_lo
        a.ja(fail)
        a.label(ok)

    # ------------------------------------------------------------------ the nest
    def levels(self):
        """(count or None for the run-time top count, load stride, store stride) in
        elements, outermost first, and the run length in elements."""
        p = self.plan
        coef = [(p.load.terms.get(("d", k), 0), p.store.terms.get(("d", k), 0))
                for k in range(p.digits)]
        counts = [None] + list(p.radices)
        run = 1
        k = p.digits - 1
        while k >= 1 and coef[k] == (run, run):
            run *= counts[k]
            k -= 1
        levels = [[counts[j], coef[j][0], coef[j][1]] for j in range(k + 1)]
        merged = [levels[-1]] if levels else []
        for lv in reversed(levels[:-1]):  # an outer digit continuing the next one's stride
            inner = merged[0]
            if inner[0] is not None and lv[1] == inner[0] * inner[1] and lv[2] == inner[0] * inner[2]:
                merged[0] = [None if lv[0] is None else lv[0] * inner[0], inner[1], inner[2],
                             inner[0]]
            else:
                merged.insert(0, lv)
        return merged, run

    def nest(self) -> None:
        a, L, p = self.a, self.L, self.plan
        levels, run = self.levels()
        size = p.size
        run_bytes = run * size
        chunk = run_bytes
        if run_bytes > MAX_UNROLLED_RUN:  # the run itself becomes a loop of smaller runs
            chunk = max(c for c in range(1, MAX_UNROLLED_RUN + 1) if run_bytes % c == 0
                        and c % size == 0)
            levels.append([run_bytes // chunk, chunk // size, chunk // size])
        regs = list(_NEST_REGS[:2 + len(levels)])
        saved = [r for r in regs if r not in _SCRATCH]
        # pointers at the all-zero digit corner, kept in the area (the extremes are done)
        for k, (f, operand) in enumerate(((p.load, p.src), (p.store, p.dst))):
            self.form(f, "base")
            a.shl(R.rax, _SHIFT[size]) if _SHIFT[size] else None
            a.mov(R.r10, L.ref_mem(self.ops[operand]))
            a.add(R.rax, qword[R.r10 + abi.BUF_DATA])
            a.mov(self.slot(self.ext_off + 8 * k), R.rax)
        for r in saved:
            a.push(r)
            self.pushed += 8
        src, dst = regs[0], regs[1]
        a.mov(src, self.slot(self.ext_off))
        a.mov(dst, self.slot(self.ext_off + 8))
        top = levels[0]
        if top[0] is None:  # n / W_top, times the static digits merged into it
            a.mov(regs[2], self.slot(self.count_off))
            if len(top) > 3 and top[3] != 1:
                a.imul(regs[2], regs[2], top[3])
        used_ymm = self._level(levels, 0, regs[2:], src, dst, chunk)
        for r in reversed(saved):
            a.pop(r)
            self.pushed -= 8
        if used_ymm:
            a.vzeroupper()

    def _level(self, levels, i: int, counters, src, dst, chunk: int) -> bool:
        """Emit levels[i:]; returns whether ymm registers were used. Each level's loop
        leaves the pointers advanced by count * stride."""
        a, size = self.a, self.plan.size
        if i == len(levels):
            return self._copy(src, dst, chunk)
        count, sf, sg = levels[i][:3]
        c = counters[i]
        if count is not None:
            a.mov(c, count)
        top = R.Label()
        a.label(top)
        used = self._level(levels, i + 1, counters, src, dst, chunk)
        inner = levels[i + 1] if i + 1 < len(levels) else None
        moved_f = inner[0] * inner[1] if inner else 0
        moved_g = inner[0] * inner[2] if inner else 0
        self.add_const(src, (sf - moved_f) * size, R.rax)
        self.add_const(dst, (sg - moved_g) * size, R.rax)
        a.dec(c)
        a.jnz(top)
        return used

    def _copy(self, src, dst, nbytes: int) -> bool:
        """Copy nbytes from [src] to [dst] (disjoint), unrolled; True when ymm was used."""
        a = self.a
        avx = "avx" in a.features
        off, used = 0, False
        moves = ((32, "ymm"), (16, "xmm"), (8, 64), (4, 32), (2, 16), (1, 8))
        k = 0
        for width, kind in moves:
            if kind == "ymm" and not avx:
                continue
            while nbytes - off >= width:
                if kind == "ymm":
                    y = (R.ymm0, R.ymm1)[k & 1]
                    a.vmovups(y, R.ymmword[src + off])
                    a.vmovups(R.ymmword[dst + off], y)
                    used = True
                elif kind == "xmm":
                    x = (R.xmm0, R.xmm1)[k & 1]
                    a.movups(x, R.xmmword[src + off])
                    a.movups(R.xmmword[dst + off], x)
                else:
                    t = R.rax.view(kind)
                    a.mov(t, R.SizeSpec(kind)[src + off])
                    a.mov(R.SizeSpec(kind)[dst + off], t)
                off += width
                k += 1
        return used


def copy_nest(L, ins) -> None:
    a = L.a
    e = _Emitter(L, ins)
    fail = R.Label()
    e.checks(fail)
    e.nest()
    a.add(R.rsp, e.area)
    done = ins.args["done_pc"]
    edge(L, done)
    a.jmp(L.block_labels[done.block])
    a.label(fail)
    a.add(R.rsp, e.area)
    loop = ins.args["loop_pc"]
    edge(L, loop)
    L.jump(loop.block)
    L.flags = None


HANDLERS = {"jit.copy.nest": copy_nest}
