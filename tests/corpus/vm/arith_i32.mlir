// i32 integer arithmetic: one export per op, operands taken as arguments so
// nothing folds. Division/remainder by zero traps in iree.runtime.
vm.module @arith_i32 {

  // wrapping add (two's complement)
  vm.export @add_i32
  vm.func @add_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.add.i32 %a, %b : i32
    vm.return %r : i32
  }

  // wrapping sub (two's complement)
  vm.export @sub_i32
  vm.func @sub_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.sub.i32 %a, %b : i32
    vm.return %r : i32
  }

  // wrapping mul (two's complement)
  vm.export @mul_i32
  vm.func @mul_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.mul.i32 %a, %b : i32
    vm.return %r : i32
  }

  // signed div; b == 0 traps in the interpreter, INT_MIN / -1 is target-defined
  vm.export @div_i32_s
  vm.func @div_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.div.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // unsigned div; b == 0 traps in the interpreter
  vm.export @div_i32_u
  vm.func @div_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.div.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // signed rem; b == 0 traps in the interpreter, INT_MIN / -1 is target-defined
  vm.export @rem_i32_s
  vm.func @rem_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.rem.i32.s %a, %b : i32
    vm.return %r : i32
  }

  // unsigned rem; b == 0 traps in the interpreter
  vm.export @rem_i32_u
  vm.func @rem_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.rem.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // a * b + c, wrapping
  vm.export @fma_i32
  vm.func @fma_i32(%a : i32, %b : i32, %c : i32) -> i32 {
    %r = vm.fma.i32 %a, %b, %c : i32
    vm.return %r : i32
  }

  // abs(INT_MIN) == INT_MIN
  vm.export @abs_i32
  vm.func @abs_i32(%a : i32) -> i32 {
    %r = vm.abs.i32 %a : i32
    vm.return %r : i32
  }

  vm.export @min_i32_s
  vm.func @min_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.min.i32.s %a, %b : i32
    vm.return %r : i32
  }

  vm.export @min_i32_u
  vm.func @min_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.min.i32.u %a, %b : i32
    vm.return %r : i32
  }

  vm.export @max_i32_s
  vm.func @max_i32_s(%a : i32, %b : i32) -> i32 {
    %r = vm.max.i32.s %a, %b : i32
    vm.return %r : i32
  }

  vm.export @max_i32_u
  vm.func @max_i32_u(%a : i32, %b : i32) -> i32 {
    %r = vm.max.i32.u %a, %b : i32
    vm.return %r : i32
  }

  // a + 0 (add of zero folds away; see const_zero_{t})
  vm.export @add_const_zero_i32
  vm.func @add_const_zero_i32(%a : i32) -> i32 {
    %c = vm.const.i32 0
    %r = vm.add.i32 %a, %c : i32
    vm.return %r : i32
  }

  // a + 7
  vm.export @add_const_small_i32
  vm.func @add_const_small_i32(%a : i32) -> i32 {
    %c = vm.const.i32 7
    %r = vm.add.i32 %a, %c : i32
    vm.return %r : i32
  }

  // a + -1
  vm.export @add_const_neg_i32
  vm.func @add_const_neg_i32(%a : i32) -> i32 {
    %c = vm.const.i32 -1
    %r = vm.add.i32 %a, %c : i32
    vm.return %r : i32
  }

  // a + -2147483648
  vm.export @add_const_min_i32
  vm.func @add_const_min_i32(%a : i32) -> i32 {
    %c = vm.const.i32 -2147483648
    %r = vm.add.i32 %a, %c : i32
    vm.return %r : i32
  }

  // a + 2147483647
  vm.export @add_const_max_i32
  vm.func @add_const_max_i32(%a : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.add.i32 %a, %c : i32
    vm.return %r : i32
  }

  // materialises vm.const.{t}.zero
  vm.export @const_zero_i32
  vm.func @const_zero_i32() -> i32 {
    %c = vm.const.i32.zero
    vm.return %c : i32
  }

  // 3x^2 - 5x - 11, wrapping; several live values at once
  vm.export @poly_i32
  vm.func @poly_i32(%x : i32) -> i32 {
    %c3 = vm.const.i32 3
    %c5 = vm.const.i32 -5
    %c11 = vm.const.i32 11
    %x2 = vm.mul.i32 %x, %x : i32
    %a = vm.mul.i32 %x2, %c3 : i32
    %b = vm.mul.i32 %x, %c5 : i32
    %s = vm.add.i32 %a, %b : i32
    %r = vm.sub.i32 %s, %c11 : i32
    vm.return %r : i32
  }
}
