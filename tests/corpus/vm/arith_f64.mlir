// f64 arithmetic: one export per op (ext_f64 opcode set).
vm.module @arith_f64 {

  // IEEE add
  vm.export @add_f64
  vm.func @add_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.add.f64 %a, %b : f64
    vm.return %r : f64
  }

  // IEEE sub
  vm.export @sub_f64
  vm.func @sub_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.sub.f64 %a, %b : f64
    vm.return %r : f64
  }

  // IEEE mul
  vm.export @mul_f64
  vm.func @mul_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.mul.f64 %a, %b : f64
    vm.return %r : f64
  }

  // IEEE div
  vm.export @div_f64
  vm.func @div_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.div.f64 %a, %b : f64
    vm.return %r : f64
  }

  // fmod semantics (sign of a)
  vm.export @rem_f64
  vm.func @rem_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.rem.f64 %a, %b : f64
    vm.return %r : f64
  }

  // fused a * b + c (single rounding)
  vm.export @fma_f64
  vm.func @fma_f64(%a : f64, %b : f64, %c : f64) -> f64 {
    %r = vm.fma.f64 %a, %b, %c : f64
    vm.return %r : f64
  }

  vm.export @abs_f64
  vm.func @abs_f64(%a : f64) -> f64 {
    %r = vm.abs.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @neg_f64
  vm.func @neg_f64(%a : f64) -> f64 {
    %r = vm.neg.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @ceil_f64
  vm.func @ceil_f64(%a : f64) -> f64 {
    %r = vm.ceil.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @floor_f64
  vm.func @floor_f64(%a : f64) -> f64 {
    %r = vm.floor.f64 %a : f64
    vm.return %r : f64
  }

  // round half away from zero
  vm.export @round_f64
  vm.func @round_f64(%a : f64) -> f64 {
    %r = vm.round.f64 %a : f64
    vm.return %r : f64
  }

  // round half to even
  vm.export @round_f64_even
  vm.func @round_f64_even(%a : f64) -> f64 {
    %r = vm.round.f64.even %a : f64
    vm.return %r : f64
  }

  // NaN and -0.0 handling as the runtime defines
  vm.export @min_f64
  vm.func @min_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.min.f64 %a, %b : f64
    vm.return %r : f64
  }

  // NaN and -0.0 handling as the runtime defines
  vm.export @max_f64
  vm.func @max_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.max.f64 %a, %b : f64
    vm.return %r : f64
  }

  // a * 0.5
  vm.export @mul_const_half_f64
  vm.func @mul_const_half_f64(%a : f64) -> f64 {
    %c = vm.const.f64 0.5
    %r = vm.mul.f64 %a, %c : f64
    vm.return %r : f64
  }

  // a * -2.25
  vm.export @mul_const_neg_f64
  vm.func @mul_const_neg_f64(%a : f64) -> f64 {
    %c = vm.const.f64 -2.25
    %r = vm.mul.f64 %a, %c : f64
    vm.return %r : f64
  }

  // a * 1.0e300
  vm.export @mul_const_big_f64
  vm.func @mul_const_big_f64(%a : f64) -> f64 {
    %c = vm.const.f64 1.0e300
    %r = vm.mul.f64 %a, %c : f64
    vm.return %r : f64
  }

  // a * 5.0e-324
  vm.export @mul_const_tiny_f64
  vm.func @mul_const_tiny_f64(%a : f64) -> f64 {
    %c = vm.const.f64 5.0e-324
    %r = vm.mul.f64 %a, %c : f64
    vm.return %r : f64
  }

  // materialises vm.const.f64.zero
  vm.export @const_zero_f64
  vm.func @const_zero_f64() -> f64 {
    %c = vm.const.f64.zero
    vm.return %c : f64
  }

  // 1 + x * (0.5 + x * 0.25) with fma
  vm.export @horner_f64
  vm.func @horner_f64(%x : f64) -> f64 {
    %c1 = vm.const.f64 1.0
    %c2 = vm.const.f64 0.5
    %c3 = vm.const.f64 0.25
    %a = vm.fma.f64 %x, %c3, %c2 : f64
    %b = vm.fma.f64 %x, %a, %c1 : f64
    vm.return %b : f64
  }

  // six float arguments; unfused multiply-adds
  vm.export @dot3_f64
  vm.func @dot3_f64(%a0 : f64, %a1 : f64, %a2 : f64, %b0 : f64, %b1 : f64, %b2 : f64) -> f64 {
    %p0 = vm.mul.f64 %a0, %b0 : f64
    %p1 = vm.mul.f64 %a1, %b1 : f64
    %p2 = vm.mul.f64 %a2, %b2 : f64
    %s0 = vm.add.f64 %p0, %p1 : f64
    %s1 = vm.add.f64 %s0, %p2 : f64
    vm.return %s1 : f64
  }
}
