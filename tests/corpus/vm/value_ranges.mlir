// Loops and branches whose signed division, remainder and sign fixups splatjit proves
// non-negative (splatjit/value_ranges.py, range_folding.py: unsigned div / rem, fixups
// folded), next to near misses that must keep the signed code: negative starts, unknown
// signs, steps that wrap, bounds that admit -1. Loops stop after a few hundred steps.
vm.module @value_ranges {
  // IREE's floor division and remainder of a loop index by 8, as data tiling emits them:
  // k counts up from 0 while k < min(n, 300), so every fixup is dead.
  vm.export @floordiv_index_by_8
  vm.func @floordiv_index_by_8(%n : i64) -> i64 {
    %zero = vm.const.i64.zero
    %one = vm.const.i64 1
    %mone = vm.const.i64 -1
    %c8 = vm.const.i64 8
    %cap = vm.const.i64 300
    %k1000 = vm.const.i64 1000
    %bound = vm.min.i64.s %n, %cap : i64
    vm.br ^loop(%zero, %zero : i64, i64)
  ^loop(%k : i64, %acc : i64):
    %more = vm.cmp.lt.i64.s %k, %bound : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i64.s %k, %c8 : i64
    %p = vm.mul.i64 %q, %c8 : i64
    %inexact = vm.cmp.ne.i64 %k, %p : i64
    %kneg = vm.cmp.lt.i64.s %k, %zero : i64
    %dneg = vm.cmp.lt.i64.s %c8, %zero : i64
    %signs = vm.cmp.ne.i32 %kneg, %dneg : i32
    %fix = vm.and.i32 %inexact, %signs : i32
    %qm = vm.add.i64 %q, %mone : i64
    %fq = vm.select.i64 %fix, %qm, %q : i64
    %r = vm.rem.i64.s %k, %c8 : i64
    %rneg = vm.cmp.lt.i64.s %r, %zero : i64
    %ry = vm.add.i64 %r, %c8 : i64
    %fr = vm.select.i64 %rneg, %ry, %r : i64
    %t = vm.fma.i64 %fq, %k1000, %fr : i64
    %acc1 = vm.add.i64 %acc, %t : i64
    %k1 = vm.add.i64 %k, %one : i64
    vm.br ^loop(%k1, %acc1 : i64, i64)
  ^done:
    vm.return %acc : i64
  }

  // i32 index, divisor 6 (not a power of two), remainder taken of the quotient too
  vm.export @delinearize_by_6_i32
  vm.func @delinearize_by_6_i32(%n : i32) -> i32 {
    %zero = vm.const.i32.zero
    %one = vm.const.i32 1
    %c6 = vm.const.i32 6
    %c5 = vm.const.i32 5
    %cap = vm.const.i32 250
    %bound = vm.min.i32.s %n, %cap : i32
    vm.br ^loop(%zero, %zero : i32, i32)
  ^loop(%k : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %k, %bound : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i32.s %k, %c6 : i32
    %r = vm.rem.i32.s %k, %c6 : i32
    %qq = vm.rem.i32.s %q, %c5 : i32
    %rneg = vm.cmp.lt.i32.s %qq, %zero : i32
    %qq5 = vm.add.i32 %qq, %c5 : i32
    %fq = vm.select.i32 %rneg, %qq5, %qq : i32
    %s = vm.mul.i32 %fq, %r : i32
    %acc1 = vm.add.i32 %acc, %s : i32
    %k1 = vm.add.i32 %k, %one : i32
    vm.br ^loop(%k1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // the divisor's sign is unknown: only the dividend's fixups fold, the divisor's stay
  vm.export @floordiv_index_by_unknown
  vm.func @floordiv_index_by_unknown(%n : i64, %d : i64) -> i64 {
    %zero = vm.const.i64.zero
    %one = vm.const.i64 1
    %mone = vm.const.i64 -1
    %cap = vm.const.i64 200
    %bound = vm.min.i64.s %n, %cap : i64
    vm.br ^loop(%zero, %zero : i64, i64)
  ^loop(%k : i64, %acc : i64):
    %more = vm.cmp.lt.i64.s %k, %bound : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i64.s %k, %d : i64
    %p = vm.mul.i64 %q, %d : i64
    %inexact = vm.cmp.ne.i64 %k, %p : i64
    %kneg = vm.cmp.lt.i64.s %k, %zero : i64
    %dneg = vm.cmp.lt.i64.s %d, %zero : i64
    %signs = vm.cmp.ne.i32 %kneg, %dneg : i32
    %fix = vm.and.i32 %inexact, %signs : i32
    %qm = vm.add.i64 %q, %mone : i64
    %fq = vm.select.i64 %fix, %qm, %q : i64
    %r = vm.rem.i64.s %k, %d : i64
    %rneg = vm.cmp.lt.i64.s %r, %zero : i64
    %rd = vm.add.i64 %r, %d : i64
    %fr = vm.select.i64 %rneg, %rd, %r : i64
    %t = vm.mul.i64 %fq, %fr : i64
    %acc1 = vm.add.i64 %acc, %t : i64
    %k1 = vm.add.i64 %k, %one : i64
    vm.br ^loop(%k1, %acc1 : i64, i64)
  ^done:
    vm.return %acc : i64
  }

  // near miss: the index starts negative (-37), so k / 4 and k % 4 stay signed
  vm.export @negative_start
  vm.func @negative_start(%n : i32) -> i32 {
    %start = vm.const.i32 -37
    %one = vm.const.i32 1
    %c4 = vm.const.i32 4
    %cap = vm.const.i32 100
    %c1000 = vm.const.i32 1000
    %bound = vm.min.i32.s %n, %cap : i32
    vm.br ^loop(%start, %start : i32, i32)
  ^loop(%k : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %k, %bound : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i32.s %k, %c4 : i32
    %r = vm.rem.i32.s %k, %c4 : i32
    %t = vm.fma.i32 %q, %c1000, %r : i32
    %acc1 = vm.add.i32 %acc, %t : i32
    %k1 = vm.add.i32 %k, %one : i32
    vm.br ^loop(%k1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // near miss: the step is an argument (negative steps make k negative)
  vm.export @unknown_step
  vm.func @unknown_step(%step : i32) -> i32 {
    %zero = vm.const.i32.zero
    %one = vm.const.i32 1
    %c8 = vm.const.i32 8
    %count = vm.const.i32 40
    vm.br ^loop(%zero, %zero, %zero : i32, i32, i32)
  ^loop(%i : i32, %k : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %i, %count : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i32.s %k, %c8 : i32
    %r = vm.rem.i32.s %k, %c8 : i32
    %rneg = vm.cmp.lt.i32.s %r, %zero : i32
    %r8 = vm.add.i32 %r, %c8 : i32
    %fr = vm.select.i32 %rneg, %r8, %r : i32
    %t = vm.xor.i32 %q, %fr : i32
    %acc1 = vm.add.i32 %acc, %t : i32
    %k1 = vm.add.i32 %k, %step : i32
    %i1 = vm.add.i32 %i, %one : i32
    vm.br ^loop(%i1, %k1, %acc1 : i32, i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // near miss: a positive constant step that wraps: k runs 0, 2**28, ... and turns
  // negative after 8 steps (the loop is bounded by k != n and an iteration count)
  vm.export @wrapping_step
  vm.func @wrapping_step(%n : i32) -> i32 {
    %zero = vm.const.i32.zero
    %one = vm.const.i32 1
    %c16 = vm.const.i32 16
    %c3 = vm.const.i32 3
    %step = vm.const.i32 268435456
    %count = vm.const.i32 20
    vm.br ^loop(%zero, %zero, %zero : i32, i32, i32)
  ^loop(%i : i32, %k : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %i, %count : i32
    %other = vm.cmp.ne.i32 %k, %n : i32
    %go = vm.and.i32 %more, %other : i32
    vm.cond_br %go, ^body, ^done
  ^body:
    %q = vm.div.i32.s %k, %c16 : i32
    %r = vm.rem.i32.s %k, %c16 : i32
    %kneg = vm.cmp.lt.i32.s %k, %zero : i32
    %t = vm.add.i32 %q, %r : i32
    %t2 = vm.add.i32 %t, %kneg : i32
    %acc3 = vm.mul.i32 %acc, %c3 : i32
    %acc1 = vm.add.i32 %acc3, %t2 : i32
    %k1 = vm.add.i32 %k, %step : i32
    %i1 = vm.add.i32 %i, %one : i32
    vm.br ^loop(%i1, %k1, %acc1 : i32, i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // branch facts: x >= 0 on one edge (unsigned there), x >= -1 on another (-1 / 4 and
  // -1 % 4 must stay signed), x <u 100 (so 0 <= x < 100)
  vm.export @guarded_divisions
  vm.func @guarded_divisions(%x : i32) -> (i32, i32, i32) {
    %zero = vm.const.i32.zero
    %mone = vm.const.i32 -1
    %c4 = vm.const.i32 4
    %c100 = vm.const.i32 100
    %isneg = vm.cmp.lt.i32.s %x, %zero : i32
    vm.cond_br %isneg, ^neg, ^pos
  ^pos:
    %q = vm.div.i32.s %x, %c4 : i32
    vm.br ^next(%q : i32)
  ^neg:
    vm.br ^next(%mone : i32)
  ^next(%a : i32):
    %lt = vm.cmp.lt.i32.s %x, %mone : i32
    vm.cond_br %lt, ^small, ^atleast
  ^atleast:
    %q2 = vm.div.i32.s %x, %c4 : i32
    %r2 = vm.rem.i32.s %x, %c4 : i32
    %b = vm.add.i32 %q2, %r2 : i32
    vm.br ^third(%b : i32)
  ^small:
    vm.br ^third(%zero : i32)
  ^third(%b2 : i32):
    %in = vm.cmp.lt.i32.u %x, %c100 : i32
    vm.cond_br %in, ^inside, ^outside
  ^inside:
    %r3 = vm.rem.i32.s %x, %c4 : i32
    %rneg = vm.cmp.lt.i32.s %r3, %zero : i32
    %c = vm.sub.i32 %r3, %rneg : i32
    vm.return %a, %b2, %c : i32, i32, i32
  ^outside:
    vm.return %a, %b2, %mone : i32, i32, i32
  }

  // arithmetic facts: masks, unsigned extension, shifts, rem by 1, min / max
  vm.export @arithmetic_facts
  vm.func @arithmetic_facts(%x : i32, %y : i64) -> (i64, i32, i32, i64, i32) {
    %zero = vm.const.i32.zero
    %zero64 = vm.const.i64.zero
    %one64 = vm.const.i64 1
    %mask = vm.const.i32 255
    %c3 = vm.const.i32 3
    %c16 = vm.const.i64 16
    %c7 = vm.const.i32 7
    %c9 = vm.const.i32 -9
    %m = vm.and.i32 %x, %mask : i32
    %e = vm.ext.i32.i64.u %x : i32 -> i64
    %q = vm.div.i64.s %e, %c16 : i64
    %s = vm.shr.i32.u %x, %c3 : i32
    %sneg = vm.cmp.lt.i32.s %s, %zero : i32
    %r = vm.rem.i32.s %m, %c7 : i32
    %mneg = vm.cmp.lt.i32.s %m, %zero : i32
    %t = vm.add.i32 %r, %mneg : i32
    %r1 = vm.rem.i64.s %y, %one64 : i64
    %big = vm.max.i32.s %x, %c7 : i32
    %rb = vm.rem.i32.s %big, %c9 : i32
    %w = vm.add.i64 %q, %r1 : i64
    vm.return %w, %t, %sneg, %r1, %rb : i64, i32, i32, i64, i32
  }

  // near misses of the arithmetic: a signed extension of an argument, a mask that keeps
  // the sign bit, an arithmetic shift, a min that may be negative
  vm.export @arithmetic_near_misses
  vm.func @arithmetic_near_misses(%x : i32) -> (i64, i32, i32, i32) {
    %zero = vm.const.i32.zero
    %signmask = vm.const.i32 -2147483393
    %c3 = vm.const.i32 3
    %c16 = vm.const.i64 16
    %c7 = vm.const.i32 7
    %c5 = vm.const.i32 5
    %e = vm.ext.i32.i64.s %x : i32 -> i64
    %q = vm.div.i64.s %e, %c16 : i64
    %m = vm.and.i32 %x, %signmask : i32
    %r = vm.rem.i32.s %m, %c7 : i32
    %s = vm.shr.i32.s %x, %c3 : i32
    %sneg = vm.cmp.lt.i32.s %s, %zero : i32
    %lo = vm.min.i32.s %x, %c5 : i32
    %lq = vm.div.i32.s %lo, %c5 : i32
    %t = vm.add.i32 %lq, %sneg : i32
    vm.return %q, %r, %s, %t : i64, i32, i32, i32
  }

  // an i64 index carried through a remap as two halves, compared unsigned against a bound
  // and nested in an outer loop (the inner index restarts at 0 on each outer step)
  vm.export @nested_unpack
  vm.func @nested_unpack(%rows : i64, %cols : i64) -> i64 {
    %zero = vm.const.i64.zero
    %one = vm.const.i64 1
    %c4 = vm.const.i64 4
    %cap = vm.const.i64 12
    %rb = vm.min.i64.u %rows, %cap : i64
    %cb = vm.min.i64.u %cols, %cap : i64
    vm.br ^outer(%zero, %zero : i64, i64)
  ^outer(%i : i64, %acc : i64):
    %more = vm.cmp.lt.i64.u %i, %rb : i64
    vm.cond_br %more, ^inner_start, ^done
  ^inner_start:
    vm.br ^inner(%zero, %acc : i64, i64)
  ^inner(%j : i64, %acc2 : i64):
    %go = vm.cmp.lt.i64.s %j, %cb : i64
    vm.cond_br %go, ^body, ^next
  ^body:
    %lin = vm.fma.i64 %i, %cb, %j : i64
    %q = vm.div.i64.s %lin, %c4 : i64
    %r = vm.rem.i64.s %lin, %c4 : i64
    %rneg = vm.cmp.lt.i64.s %r, %zero : i64
    %r4 = vm.add.i64 %r, %c4 : i64
    %fr = vm.select.i64 %rneg, %r4, %r : i64
    %t = vm.fma.i64 %q, %c4, %fr : i64
    %acc3 = vm.add.i64 %acc2, %t : i64
    %j1 = vm.add.i64 %j, %one : i64
    vm.br ^inner(%j1, %acc3 : i64, i64)
  ^next:
    %i1 = vm.add.i64 %i, %one : i64
    vm.br ^outer(%i1, %acc2 : i64, i64)
  ^done:
    vm.return %acc : i64
  }

  // an `and` condition proves both sides on its true edge only: on the false edge x may
  // still be negative
  vm.export @and_condition_false_edge
  vm.func @and_condition_false_edge(%x : i32, %y : i32) -> i32 {
    %zero = vm.const.i32.zero
    %c4 = vm.const.i32 4
    %xneg = vm.cmp.lt.i32.s %x, %zero : i32
    %yneg = vm.cmp.lt.i32.s %y, %zero : i32
    %both = vm.and.i32 %xneg, %yneg : i32
    vm.cond_br %both, ^negative, ^other
  ^negative:
    vm.return %zero : i32
  ^other:
    %q = vm.div.i32.s %x, %c4 : i32
    %r = vm.rem.i32.s %x, %c4 : i32
    %t = vm.fma.i32 %q, %c4, %r : i32
    %s = vm.add.i32 %t, %q : i32
    vm.return %s : i32
  }

  // x in [-1, 5]; x != 3 excludes only 3 (-1 stays possible)
  vm.export @not_equal_edge
  vm.func @not_equal_edge(%a : i32) -> (i32, i32) {
    %mone = vm.const.i32 -1
    %c2 = vm.const.i32 2
    %c3 = vm.const.i32 3
    %c4 = vm.const.i32 4
    %c5 = vm.const.i32 5
    %lo = vm.max.i32.s %a, %mone : i32
    %x = vm.min.i32.s %lo, %c5 : i32
    %ne = vm.cmp.ne.i32 %x, %c3 : i32
    vm.cond_br %ne, ^other, ^three
  ^other:
    %r = vm.rem.i32.s %x, %c4 : i32
    %q = vm.div.i32.s %x, %c2 : i32
    vm.return %r, %q : i32, i32
  ^three:
    vm.return %x, %x : i32, i32
  }

  // decided and undecided compares: a value at most -1 is never below 10 unsigned, a
  // select of an unknown condition is either constant (the analysis runs in functions
  // with a signed division: here of that select)
  vm.export @decided_compares
  vm.func @decided_compares(%a : i32, %b : i64) -> (i32, i32, i32, i64, i32) {
    %mone = vm.const.i32 -1
    %zero = vm.const.i32.zero
    %c10 = vm.const.i32 10
    %c5 = vm.const.i32 5
    %c7 = vm.const.i32 7
    %c255 = vm.const.i64 255
    %c300 = vm.const.i64 300
    %neg = vm.min.i32.s %a, %mone : i32
    %below = vm.cmp.lt.i32.u %neg, %c10 : i32
    %sbelow = vm.cmp.lt.i32.s %neg, %c10 : i32
    %c = vm.cmp.lt.i32.s %a, %zero : i32
    %s = vm.select.i32 %c, %c5, %c7 : i32
    %low = vm.and.i64 %b, %c255 : i64
    %small = vm.cmp.lt.i64.s %low, %c300 : i64
    %w = vm.ext.i32.i64.u %small : i32 -> i64
    %lw = vm.add.i64 %low, %w : i64
    %h = vm.div.i32.s %s, %c5 : i32
    vm.return %below, %sbelow, %s, %lw, %h : i32, i32, i32, i64, i32
  }

  // non-negative operands whose divisor may be zero: unsigned division, same trap
  vm.export @nonneg_by_unknown
  vm.func @nonneg_by_unknown(%x : i32, %d : i32) -> (i32, i32) {
    %mask = vm.const.i32 4095
    %one = vm.const.i32 1
    %a = vm.and.i32 %x, %mask : i32
    %b = vm.shr.i32.u %d, %one : i32
    %q = vm.div.i32.s %a, %b : i32
    %r = vm.rem.i32.s %a, %b : i32
    vm.return %q, %r : i32, i32
  }

  // edges of compares whose operands are not constants: x != 0 (cmp.nz), x < y and
  // x <u y with y unknown (x <u -1 holds for negative x too)
  vm.export @edges_of_unknowns
  vm.func @edges_of_unknowns(%a : i32, %y : i32) -> (i32, i32, i32) {
    %c4 = vm.const.i32 4
    %c5 = vm.const.i32 5
    %c10 = vm.const.i32 10
    %c15 = vm.const.i32 15
    %zero = vm.const.i32.zero
    %nz = vm.cmp.nz.i32 %a : i32
    vm.cond_br %nz, ^nonzero, ^zero
  ^nonzero:
    vm.br ^second(%c4 : i32)
  ^zero:
    %t = vm.add.i32 %a, %c5 : i32
    vm.br ^second(%t : i32)
  ^second(%first : i32):
    %low = vm.and.i32 %a, %c15 : i32
    %x = vm.add.i32 %low, %c10 : i32
    %lt = vm.cmp.lt.i32.s %x, %y : i32
    vm.cond_br %lt, ^below, ^notbelow
  ^below:
    vm.br ^third(%zero : i32)
  ^notbelow:
    %q = vm.div.i32.s %y, %c4 : i32
    %r = vm.rem.i32.s %y, %c4 : i32
    %qr = vm.add.i32 %q, %r : i32
    vm.br ^third(%qr : i32)
  ^third(%second : i32):
    %ult = vm.cmp.lt.i32.u %a, %y : i32
    vm.cond_br %ult, ^ubelow, ^uabove
  ^ubelow:
    %uq = vm.div.i32.s %a, %c4 : i32
    vm.return %first, %second, %uq : i32, i32, i32
  ^uabove:
    vm.return %first, %second, %zero : i32, i32, i32
  }

  // identities: min of ranges that do not overlap, a boolean compared with zero, and a
  // non-boolean compared with zero (which is no identity)
  vm.export @identities
  vm.func @identities(%a : i32, %b : i32) -> (i32, i32, i32, i32) {
    %zero = vm.const.i32.zero
    %c7 = vm.const.i32 7
    %c100 = vm.const.i32 100
    %x = vm.and.i32 %a, %c7 : i32
    %bl = vm.and.i32 %b, %c7 : i32
    %y = vm.add.i32 %bl, %c100 : i32
    %m = vm.min.i32.s %y, %x : i32
    %big = vm.max.i32.s %x, %y : i32
    %neg = vm.cmp.lt.i32.s %a, %zero : i32
    %isneg = vm.cmp.ne.i32 %neg, %zero : i32
    %nz = vm.cmp.ne.i32 %a, %zero : i32
    %q = vm.div.i32.s %big, %c7 : i32
    %t = vm.add.i32 %m, %q : i32
    vm.return %t, %big, %isneg, %nz : i32, i32, i32, i32
  }
}
