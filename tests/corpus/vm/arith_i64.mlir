// i64 integer arithmetic: one export per op, operands taken as arguments so
// nothing folds. Division/remainder by zero traps in iree.runtime.
vm.module @arith_i64 {

  // wrapping add (two's complement)
  vm.export @add_i64
  vm.func @add_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.add.i64 %a, %b : i64
    vm.return %r : i64
  }

  // wrapping sub (two's complement)
  vm.export @sub_i64
  vm.func @sub_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.sub.i64 %a, %b : i64
    vm.return %r : i64
  }

  // wrapping mul (two's complement)
  vm.export @mul_i64
  vm.func @mul_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.mul.i64 %a, %b : i64
    vm.return %r : i64
  }

  // signed div; b == 0 traps in the interpreter, INT_MIN / -1 is target-defined
  vm.export @div_i64_s
  vm.func @div_i64_s(%a : i64, %b : i64) -> i64 {
    %r = vm.div.i64.s %a, %b : i64
    vm.return %r : i64
  }

  // unsigned div; b == 0 traps in the interpreter
  vm.export @div_i64_u
  vm.func @div_i64_u(%a : i64, %b : i64) -> i64 {
    %r = vm.div.i64.u %a, %b : i64
    vm.return %r : i64
  }

  // signed rem; b == 0 traps in the interpreter, INT_MIN / -1 is target-defined
  vm.export @rem_i64_s
  vm.func @rem_i64_s(%a : i64, %b : i64) -> i64 {
    %r = vm.rem.i64.s %a, %b : i64
    vm.return %r : i64
  }

  // unsigned rem; b == 0 traps in the interpreter
  vm.export @rem_i64_u
  vm.func @rem_i64_u(%a : i64, %b : i64) -> i64 {
    %r = vm.rem.i64.u %a, %b : i64
    vm.return %r : i64
  }

  // a * b + c, wrapping
  vm.export @fma_i64
  vm.func @fma_i64(%a : i64, %b : i64, %c : i64) -> i64 {
    %r = vm.fma.i64 %a, %b, %c : i64
    vm.return %r : i64
  }

  // abs(INT_MIN) == INT_MIN
  vm.export @abs_i64
  vm.func @abs_i64(%a : i64) -> i64 {
    %r = vm.abs.i64 %a : i64
    vm.return %r : i64
  }

  vm.export @min_i64_s
  vm.func @min_i64_s(%a : i64, %b : i64) -> i64 {
    %r = vm.min.i64.s %a, %b : i64
    vm.return %r : i64
  }

  vm.export @min_i64_u
  vm.func @min_i64_u(%a : i64, %b : i64) -> i64 {
    %r = vm.min.i64.u %a, %b : i64
    vm.return %r : i64
  }

  vm.export @max_i64_s
  vm.func @max_i64_s(%a : i64, %b : i64) -> i64 {
    %r = vm.max.i64.s %a, %b : i64
    vm.return %r : i64
  }

  vm.export @max_i64_u
  vm.func @max_i64_u(%a : i64, %b : i64) -> i64 {
    %r = vm.max.i64.u %a, %b : i64
    vm.return %r : i64
  }

  // a + 0 (add of zero folds away; see const_zero_{t})
  vm.export @add_const_zero_i64
  vm.func @add_const_zero_i64(%a : i64) -> i64 {
    %c = vm.const.i64 0
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + 7
  vm.export @add_const_small_i64
  vm.func @add_const_small_i64(%a : i64) -> i64 {
    %c = vm.const.i64 7
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + -1
  vm.export @add_const_neg_i64
  vm.func @add_const_neg_i64(%a : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + -9223372036854775808
  vm.export @add_const_min_i64
  vm.func @add_const_min_i64(%a : i64) -> i64 {
    %c = vm.const.i64 -9223372036854775808
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + 9223372036854775807
  vm.export @add_const_max_i64
  vm.func @add_const_max_i64(%a : i64) -> i64 {
    %c = vm.const.i64 9223372036854775807
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + 1311768467463790320
  vm.export @add_const_wide_i64
  vm.func @add_const_wide_i64(%a : i64) -> i64 {
    %c = vm.const.i64 1311768467463790320
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // a + -1147797409030816545
  vm.export @add_const_wideneg_i64
  vm.func @add_const_wideneg_i64(%a : i64) -> i64 {
    %c = vm.const.i64 -1147797409030816545
    %r = vm.add.i64 %a, %c : i64
    vm.return %r : i64
  }

  // materialises vm.const.{t}.zero
  vm.export @const_zero_i64
  vm.func @const_zero_i64() -> i64 {
    %c = vm.const.i64.zero
    vm.return %c : i64
  }

  // 3x^2 - 5x - 11, wrapping; several live values at once
  vm.export @poly_i64
  vm.func @poly_i64(%x : i64) -> i64 {
    %c3 = vm.const.i64 3
    %c5 = vm.const.i64 -5
    %c11 = vm.const.i64 11
    %x2 = vm.mul.i64 %x, %x : i64
    %a = vm.mul.i64 %x2, %c3 : i64
    %b = vm.mul.i64 %x, %c5 : i64
    %s = vm.add.i64 %a, %b : i64
    %r = vm.sub.i64 %s, %c11 : i64
    vm.return %r : i64
  }
}
