// f32 arithmetic: one export per op (ext_f32 opcode set).
vm.module @arith_f32 {

  // IEEE add
  vm.export @add_f32
  vm.func @add_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.add.f32 %a, %b : f32
    vm.return %r : f32
  }

  // IEEE sub
  vm.export @sub_f32
  vm.func @sub_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.sub.f32 %a, %b : f32
    vm.return %r : f32
  }

  // IEEE mul
  vm.export @mul_f32
  vm.func @mul_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.mul.f32 %a, %b : f32
    vm.return %r : f32
  }

  // IEEE div
  vm.export @div_f32
  vm.func @div_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.div.f32 %a, %b : f32
    vm.return %r : f32
  }

  // fmod semantics (sign of a)
  vm.export @rem_f32
  vm.func @rem_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.rem.f32 %a, %b : f32
    vm.return %r : f32
  }

  // fused a * b + c (single rounding)
  vm.export @fma_f32
  vm.func @fma_f32(%a : f32, %b : f32, %c : f32) -> f32 {
    %r = vm.fma.f32 %a, %b, %c : f32
    vm.return %r : f32
  }

  vm.export @abs_f32
  vm.func @abs_f32(%a : f32) -> f32 {
    %r = vm.abs.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @neg_f32
  vm.func @neg_f32(%a : f32) -> f32 {
    %r = vm.neg.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @ceil_f32
  vm.func @ceil_f32(%a : f32) -> f32 {
    %r = vm.ceil.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @floor_f32
  vm.func @floor_f32(%a : f32) -> f32 {
    %r = vm.floor.f32 %a : f32
    vm.return %r : f32
  }

  // round half away from zero
  vm.export @round_f32
  vm.func @round_f32(%a : f32) -> f32 {
    %r = vm.round.f32 %a : f32
    vm.return %r : f32
  }

  // round half to even
  vm.export @round_f32_even
  vm.func @round_f32_even(%a : f32) -> f32 {
    %r = vm.round.f32.even %a : f32
    vm.return %r : f32
  }

  // NaN and -0.0 handling as the runtime defines
  vm.export @min_f32
  vm.func @min_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.min.f32 %a, %b : f32
    vm.return %r : f32
  }

  // NaN and -0.0 handling as the runtime defines
  vm.export @max_f32
  vm.func @max_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.max.f32 %a, %b : f32
    vm.return %r : f32
  }

  // a * 0.5
  vm.export @mul_const_half_f32
  vm.func @mul_const_half_f32(%a : f32) -> f32 {
    %c = vm.const.f32 0.5
    %r = vm.mul.f32 %a, %c : f32
    vm.return %r : f32
  }

  // a * -2.25
  vm.export @mul_const_neg_f32
  vm.func @mul_const_neg_f32(%a : f32) -> f32 {
    %c = vm.const.f32 -2.25
    %r = vm.mul.f32 %a, %c : f32
    vm.return %r : f32
  }

  // a * 1.0e30
  vm.export @mul_const_big_f32
  vm.func @mul_const_big_f32(%a : f32) -> f32 {
    %c = vm.const.f32 1.0e30
    %r = vm.mul.f32 %a, %c : f32
    vm.return %r : f32
  }

  // a * 1.0e-40
  vm.export @mul_const_tiny_f32
  vm.func @mul_const_tiny_f32(%a : f32) -> f32 {
    %c = vm.const.f32 1.0e-40
    %r = vm.mul.f32 %a, %c : f32
    vm.return %r : f32
  }

  // materialises vm.const.f32.zero
  vm.export @const_zero_f32
  vm.func @const_zero_f32() -> f32 {
    %c = vm.const.f32.zero
    vm.return %c : f32
  }

  // 1 + x * (0.5 + x * 0.25) with fma
  vm.export @horner_f32
  vm.func @horner_f32(%x : f32) -> f32 {
    %c1 = vm.const.f32 1.0
    %c2 = vm.const.f32 0.5
    %c3 = vm.const.f32 0.25
    %a = vm.fma.f32 %x, %c3, %c2 : f32
    %b = vm.fma.f32 %x, %a, %c1 : f32
    vm.return %b : f32
  }

  // six float arguments; unfused multiply-adds
  vm.export @dot3_f32
  vm.func @dot3_f32(%a0 : f32, %a1 : f32, %a2 : f32, %b0 : f32, %b1 : f32, %b2 : f32) -> f32 {
    %p0 = vm.mul.f32 %a0, %b0 : f32
    %p1 = vm.mul.f32 %a1, %b1 : f32
    %p2 = vm.mul.f32 %a2, %b2 : f32
    %s0 = vm.add.f32 %p0, %p1 : f32
    %s1 = vm.add.f32 %s0, %p2 : f32
    vm.return %s1 : f32
  }
}
