// Integer and float comparisons (including compiler pseudo-ops) and selects.
// Comparisons return i32 0 or 1.
vm.module @compare_select {

  // returns 0 or 1
  vm.export @cmp_eq_i32
  vm.func @cmp_eq_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.eq.i32 %a, %b : i32
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_ne_i32
  vm.func @cmp_ne_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.ne.i32 %a, %b : i32
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_lt_i32_s
  vm.func @cmp_lt_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.lt.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_lt_i32_u
  vm.func @cmp_lt_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.lt.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_lte_i32_s
  vm.func @cmp_lte_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.lte.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_lte_i32_u
  vm.func @cmp_lte_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.lte.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gt_i32_s
  vm.func @cmp_gt_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.gt.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gt_i32_u
  vm.func @cmp_gt_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.gt.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gte_i32_s
  vm.func @cmp_gte_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.gte.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gte_i32_u
  vm.func @cmp_gte_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.cmp.gte.i32.u %a, %b : i32
    vm.return %r : i32
  }

  vm.export @cmp_nz_i32
  vm.func @cmp_nz_i32(%a : i32) -> i32 {
    %r = vm.cmp.nz.i32 %a : i32
    vm.return %r : i32
  }

  // any non-zero condition selects a
  vm.export @select_i32
  vm.func @select_i32(%c : i32, %a : i32, %b : i32) -> i32 {
    %r = vm.select.i32 %c, %a, %b : i32
    vm.return %r : i32
  }

  // compare + select chains
  vm.export @clamp_i32_s
  vm.func @clamp_i32_s(%x : i32, %lo : i32, %hi : i32) -> i32 {
    %below = vm.cmp.lt.i32.s %x, %lo : i32
    %x1 = vm.select.i32 %below, %lo, %x : i32
    %above = vm.cmp.lt.i32.s %hi, %x1 : i32
    %x2 = vm.select.i32 %above, %hi, %x1 : i32
    vm.return %x2 : i32
  }

  // returns 0 or 1
  vm.export @cmp_eq_i64
  vm.func @cmp_eq_i64(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.eq.i64 %a, %b : i64
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_ne_i64
  vm.func @cmp_ne_i64(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.ne.i64 %a, %b : i64
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_lt_i64_s
  vm.func @cmp_lt_i64_s(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.lt.i64.s %a, %b : i64
    vm.return %r : i32
  }

  // returns 0 or 1
  vm.export @cmp_lt_i64_u
  vm.func @cmp_lt_i64_u(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.lt.i64.u %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_lte_i64_s
  vm.func @cmp_lte_i64_s(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.lte.i64.s %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_lte_i64_u
  vm.func @cmp_lte_i64_u(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.lte.i64.u %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gt_i64_s
  vm.func @cmp_gt_i64_s(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.gt.i64.s %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gt_i64_u
  vm.func @cmp_gt_i64_u(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.gt.i64.u %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gte_i64_s
  vm.func @cmp_gte_i64_s(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.gte.i64.s %a, %b : i64
    vm.return %r : i32
  }

  // pseudo-op: lowered to cmp.lt with swapped operands and/or an xor
  vm.export @cmp_gte_i64_u
  vm.func @cmp_gte_i64_u(%a : i64, %b : i64) -> i32 {
    %r = vm.cmp.gte.i64.u %a, %b : i64
    vm.return %r : i32
  }

  vm.export @cmp_nz_i64
  vm.func @cmp_nz_i64(%a : i64) -> i32 {
    %r = vm.cmp.nz.i64 %a : i64
    vm.return %r : i32
  }

  // any non-zero condition selects a
  vm.export @select_i64
  vm.func @select_i64(%c : i32, %a : i64, %b : i64) -> i64 {
    %r = vm.select.i64 %c, %a, %b : i64
    vm.return %r : i64
  }

  // compare + select chains
  vm.export @clamp_i64_s
  vm.func @clamp_i64_s(%x : i64, %lo : i64, %hi : i64) -> i64 {
    %below = vm.cmp.lt.i64.s %x, %lo : i64
    %x1 = vm.select.i64 %below, %lo, %x : i64
    %above = vm.cmp.lt.i64.s %hi, %x1 : i64
    %x2 = vm.select.i64 %above, %hi, %x1 : i64
    vm.return %x2 : i64
  }

  // ordered: false if either is NaN
  vm.export @cmp_eq_f32_o
  vm.func @cmp_eq_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.eq.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_eq_f32_u
  vm.func @cmp_eq_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.eq.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_ne_f32_o
  vm.func @cmp_ne_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.ne.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_ne_f32_u
  vm.func @cmp_ne_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.ne.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_lt_f32_o
  vm.func @cmp_lt_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.lt.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_lt_f32_u
  vm.func @cmp_lt_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.lt.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_lte_f32_o
  vm.func @cmp_lte_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.lte.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_lte_f32_u
  vm.func @cmp_lte_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.lte.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; ordered: false if either is NaN
  vm.export @cmp_gt_f32_o
  vm.func @cmp_gt_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.gt.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; unordered: true if either is NaN
  vm.export @cmp_gt_f32_u
  vm.func @cmp_gt_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.gt.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; ordered: false if either is NaN
  vm.export @cmp_gte_f32_o
  vm.func @cmp_gte_f32_o(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.gte.f32.o %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; unordered: true if either is NaN
  vm.export @cmp_gte_f32_u
  vm.func @cmp_gte_f32_u(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.gte.f32.u %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; approximate equality
  vm.export @cmp_eq_f32_near
  vm.func @cmp_eq_f32_near(%a : f32, %b : f32) -> i32 {
    %r = vm.cmp.eq.f32.near %a, %b : f32
    vm.return %r : i32
  }

  // pseudo-op: compare with 0.0
  vm.export @cmp_nz_f32_o
  vm.func @cmp_nz_f32_o(%a : f32) -> i32 {
    %r = vm.cmp.nz.f32.o %a : f32
    vm.return %r : i32
  }

  // pseudo-op: compare with 0.0
  vm.export @cmp_nz_f32_u
  vm.func @cmp_nz_f32_u(%a : f32) -> i32 {
    %r = vm.cmp.nz.f32.u %a : f32
    vm.return %r : i32
  }

  vm.export @cmp_nan_f32
  vm.func @cmp_nan_f32(%a : f32) -> i32 {
    %r = vm.cmp.nan.f32 %a : f32
    vm.return %r : i32
  }

  vm.export @select_f32
  vm.func @select_f32(%c : i32, %a : f32, %b : f32) -> f32 {
    %r = vm.select.f32 %c, %a, %b : f32
    vm.return %r : f32
  }

  // x > 0 ? x : 0 (NaN gives 0)
  vm.export @relu_f32
  vm.func @relu_f32(%x : f32) -> f32 {
    %z = vm.const.f32.zero
    %pos = vm.cmp.lt.f32.o %z, %x : f32
    %r = vm.select.f32 %pos, %x, %z : f32
    vm.return %r : f32
  }

  // ordered: false if either is NaN
  vm.export @cmp_eq_f64_o
  vm.func @cmp_eq_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.eq.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_eq_f64_u
  vm.func @cmp_eq_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.eq.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_ne_f64_o
  vm.func @cmp_ne_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.ne.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_ne_f64_u
  vm.func @cmp_ne_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.ne.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_lt_f64_o
  vm.func @cmp_lt_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.lt.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_lt_f64_u
  vm.func @cmp_lt_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.lt.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // ordered: false if either is NaN
  vm.export @cmp_lte_f64_o
  vm.func @cmp_lte_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.lte.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // unordered: true if either is NaN
  vm.export @cmp_lte_f64_u
  vm.func @cmp_lte_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.lte.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; ordered: false if either is NaN
  vm.export @cmp_gt_f64_o
  vm.func @cmp_gt_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.gt.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; unordered: true if either is NaN
  vm.export @cmp_gt_f64_u
  vm.func @cmp_gt_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.gt.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; ordered: false if either is NaN
  vm.export @cmp_gte_f64_o
  vm.func @cmp_gte_f64_o(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.gte.f64.o %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; unordered: true if either is NaN
  vm.export @cmp_gte_f64_u
  vm.func @cmp_gte_f64_u(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.gte.f64.u %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler; approximate equality
  vm.export @cmp_eq_f64_near
  vm.func @cmp_eq_f64_near(%a : f64, %b : f64) -> i32 {
    %r = vm.cmp.eq.f64.near %a, %b : f64
    vm.return %r : i32
  }

  // pseudo-op: compare with 0.0
  vm.export @cmp_nz_f64_o
  vm.func @cmp_nz_f64_o(%a : f64) -> i32 {
    %r = vm.cmp.nz.f64.o %a : f64
    vm.return %r : i32
  }

  // pseudo-op: compare with 0.0
  vm.export @cmp_nz_f64_u
  vm.func @cmp_nz_f64_u(%a : f64) -> i32 {
    %r = vm.cmp.nz.f64.u %a : f64
    vm.return %r : i32
  }

  vm.export @cmp_nan_f64
  vm.func @cmp_nan_f64(%a : f64) -> i32 {
    %r = vm.cmp.nan.f64 %a : f64
    vm.return %r : i32
  }

  vm.export @select_f64
  vm.func @select_f64(%c : i32, %a : f64, %b : f64) -> f64 {
    %r = vm.select.f64 %c, %a, %b : f64
    vm.return %r : f64
  }

  // x > 0 ? x : 0 (NaN gives 0)
  vm.export @relu_f64
  vm.func @relu_f64(%x : f64) -> f64 {
    %z = vm.const.f64.zero
    %pos = vm.cmp.lt.f64.o %z, %x : f64
    %r = vm.select.f64 %pos, %x, %z : f64
    vm.return %r : f64
  }

  // a compare whose result is both the condition and a value of the select after it
  // (splatjit fuses compare + select into a cmov; the result must still be materialised)
  vm.export @select_condition_as_value
  vm.func @select_condition_as_value(%a : i32, %b : i32) -> i32 {
    %c = vm.cmp.lt.i32.s %a, %b : i32
    %r = vm.select.i32 %c, %c, %b : i32
    vm.return %r : i32
  }

  // compare + select on i64 with the result computed in place (IREE's floor division)
  vm.export @select_floor_fix
  vm.func @select_floor_fix(%q : i64, %r : i64) -> i64 {
    %zero = vm.const.i64.zero
    %neg = vm.cmp.lt.i64.s %r, %zero : i64
    %q1 = vm.add.i64 %q, %r : i64
    %out = vm.select.i64 %neg, %q1, %q : i64
    vm.return %out : i64
  }
}
