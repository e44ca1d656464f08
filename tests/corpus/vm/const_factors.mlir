// Multiplications and fused multiply-adds by constant factors and addends, which
// emit_x64 encodes as `imul r, r/m, imm` / `add r, imm` when they fit a sign-extended
// 32-bit field (and loads from a register otherwise): each side, both widths,
// negative, edge and too-wide constants.
vm.module @const_factors {
  vm.export @mul_i32_right_3
  vm.func @mul_i32_right_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_3
  vm.func @mul_i32_left_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_3
  vm.func @fma_i32_second_3(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_3
  vm.func @fma_i32_first_third_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_right_m7
  vm.func @mul_i32_right_m7(%x : i32) -> i32 {
    %c = vm.const.i32 -7
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_m7
  vm.func @mul_i32_left_m7(%x : i32) -> i32 {
    %c = vm.const.i32 -7
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_m7
  vm.func @fma_i32_second_m7(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 -7
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_m7
  vm.func @fma_i32_first_third_m7(%x : i32) -> i32 {
    %c = vm.const.i32 -7
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_right_2147483647
  vm.func @mul_i32_right_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_2147483647
  vm.func @mul_i32_left_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_2147483647
  vm.func @fma_i32_second_2147483647(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_2147483647
  vm.func @fma_i32_first_third_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_right_m2147483648
  vm.func @mul_i32_right_m2147483648(%x : i32) -> i32 {
    %c = vm.const.i32 -2147483648
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_m2147483648
  vm.func @mul_i32_left_m2147483648(%x : i32) -> i32 {
    %c = vm.const.i32 -2147483648
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_m2147483648
  vm.func @fma_i32_second_m2147483648(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 -2147483648
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_m2147483648
  vm.func @fma_i32_first_third_m2147483648(%x : i32) -> i32 {
    %c = vm.const.i32 -2147483648
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_right_1
  vm.func @mul_i32_right_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_1
  vm.func @mul_i32_left_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_1
  vm.func @fma_i32_second_1(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_1
  vm.func @fma_i32_first_third_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_right_0
  vm.func @mul_i32_right_0(%x : i32) -> i32 {
    %c = vm.const.i32 0
    %r = vm.mul.i32 %x, %c : i32
    vm.return %r : i32
  }
  vm.export @mul_i32_left_0
  vm.func @mul_i32_left_0(%x : i32) -> i32 {
    %c = vm.const.i32 0
    %r = vm.mul.i32 %c, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_second_0
  vm.func @fma_i32_second_0(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 0
    %r = vm.fma.i32 %x, %c, %y : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_first_third_0
  vm.func @fma_i32_first_third_0(%x : i32) -> i32 {
    %c = vm.const.i32 0
    %r = vm.fma.i32 %c, %x, %c : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_two_constants
  vm.func @fma_i32_two_constants(%x : i32) -> i32 {
    %c = vm.const.i32 5
    %d = vm.const.i32 -9
    %r = vm.fma.i32 %c, %d, %x : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_addend_only
  vm.func @fma_i32_addend_only(%x : i32, %y : i32) -> i32 {
    %c = vm.const.i32 100
    %r = vm.fma.i32 %x, %y, %c : i32
    vm.return %r : i32
  }
  vm.export @fma_i32_same_operand
  vm.func @fma_i32_same_operand(%x : i32) -> i32 {
    %c = vm.const.i32 12
    %r = vm.fma.i32 %x, %c, %x : i32
    vm.return %r : i32
  }
  vm.export @mul_i64_right_3
  vm.func @mul_i64_right_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_3
  vm.func @mul_i64_left_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_3
  vm.func @fma_i64_second_3(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_3
  vm.func @fma_i64_first_third_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_right_m7
  vm.func @mul_i64_right_m7(%x : i64) -> i64 {
    %c = vm.const.i64 -7
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_m7
  vm.func @mul_i64_left_m7(%x : i64) -> i64 {
    %c = vm.const.i64 -7
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_m7
  vm.func @fma_i64_second_m7(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 -7
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_m7
  vm.func @fma_i64_first_third_m7(%x : i64) -> i64 {
    %c = vm.const.i64 -7
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_right_2147483647
  vm.func @mul_i64_right_2147483647(%x : i64) -> i64 {
    %c = vm.const.i64 2147483647
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_2147483647
  vm.func @mul_i64_left_2147483647(%x : i64) -> i64 {
    %c = vm.const.i64 2147483647
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_2147483647
  vm.func @fma_i64_second_2147483647(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 2147483647
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_2147483647
  vm.func @fma_i64_first_third_2147483647(%x : i64) -> i64 {
    %c = vm.const.i64 2147483647
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_right_m2147483648
  vm.func @mul_i64_right_m2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 -2147483648
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_m2147483648
  vm.func @mul_i64_left_m2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 -2147483648
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_m2147483648
  vm.func @fma_i64_second_m2147483648(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 -2147483648
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_m2147483648
  vm.func @fma_i64_first_third_m2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 -2147483648
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_right_4294967296
  vm.func @mul_i64_right_4294967296(%x : i64) -> i64 {
    %c = vm.const.i64 4294967296
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_4294967296
  vm.func @mul_i64_left_4294967296(%x : i64) -> i64 {
    %c = vm.const.i64 4294967296
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_4294967296
  vm.func @fma_i64_second_4294967296(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 4294967296
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_4294967296
  vm.func @fma_i64_first_third_4294967296(%x : i64) -> i64 {
    %c = vm.const.i64 4294967296
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_right_m1
  vm.func @mul_i64_right_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.mul.i64 %x, %c : i64
    vm.return %r : i64
  }
  vm.export @mul_i64_left_m1
  vm.func @mul_i64_left_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.mul.i64 %c, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_second_m1
  vm.func @fma_i64_second_m1(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.fma.i64 %x, %c, %y : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_first_third_m1
  vm.func @fma_i64_first_third_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.fma.i64 %c, %x, %c : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_two_constants
  vm.func @fma_i64_two_constants(%x : i64) -> i64 {
    %c = vm.const.i64 5
    %d = vm.const.i64 -9
    %r = vm.fma.i64 %c, %d, %x : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_addend_only
  vm.func @fma_i64_addend_only(%x : i64, %y : i64) -> i64 {
    %c = vm.const.i64 100
    %r = vm.fma.i64 %x, %y, %c : i64
    vm.return %r : i64
  }
  vm.export @fma_i64_same_operand
  vm.func @fma_i64_same_operand(%x : i64) -> i64 {
    %c = vm.const.i64 12
    %r = vm.fma.i64 %x, %c, %x : i64
    vm.return %r : i64
  }
}
