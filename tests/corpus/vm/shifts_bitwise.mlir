// Shifts, bitwise logic and ctlz for i32 and i64.
vm.module @shifts_bitwise {

  // shift amount is i32 and taken modulo 32 by the runtime
  vm.export @shl_i32
  vm.func @shl_i32(%a : i32, %n : i32) -> i32 {
    %r = vm.shl.i32 %a, %n : i32
    vm.return %r : i32
  }

  // shift amount is i32 and taken modulo 32 by the runtime
  vm.export @shr_i32_s
  vm.func @shr_i32_s(%a : i32, %n : i32) -> i32 {
    %r = vm.shr.i32.s %a, %n : i32
    vm.return %r : i32
  }

  // shift amount is i32 and taken modulo 32 by the runtime
  vm.export @shr_i32_u
  vm.func @shr_i32_u(%a : i32, %n : i32) -> i32 {
    %r = vm.shr.i32.u %a, %n : i32
    vm.return %r : i32
  }

  vm.export @and_i32
  vm.func @and_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.and.i32 %a, %b : i32
    vm.return %r : i32
  }

  vm.export @or_i32
  vm.func @or_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.or.i32 %a, %b : i32
    vm.return %r : i32
  }

  vm.export @xor_i32
  vm.func @xor_i32(%a : i32, %b : i32) -> i32 {
    %r = vm.xor.i32 %a, %b : i32
    vm.return %r : i32
  }

  vm.export @not_i32
  vm.func @not_i32(%a : i32) -> i32 {
    %r = vm.not.i32 %a : i32
    vm.return %r : i32
  }

  // count leading zeros; ctlz(0) == 32
  vm.export @ctlz_i32
  vm.func @ctlz_i32(%a : i32) -> i32 {
    %r = vm.ctlz.i32 %a : i32
    vm.return %r : i32
  }

  // shift by a constant amount
  vm.export @shl_const_i32
  vm.func @shl_const_i32(%a : i32) -> i32 {
    %n = vm.const.i32 3
    %r = vm.shl.i32 %a, %n : i32
    vm.return %r : i32
  }

  // rotate left built from shifts (0 < n < width for a true rotate)
  vm.export @rotl_i32
  vm.func @rotl_i32(%a : i32, %n : i32) -> i32 {
    %w = vm.const.i32 32
    %m = vm.sub.i32 %w, %n : i32
    %hi = vm.shl.i32 %a, %n : i32
    %lo = vm.shr.i32.u %a, %m : i32
    %r = vm.or.i32 %hi, %lo : i32
    vm.return %r : i32
  }

  // (a ^ b) | ~(a & b)
  vm.export @bitmix_i32
  vm.func @bitmix_i32(%a : i32, %b : i32) -> i32 {
    %x = vm.xor.i32 %a, %b : i32
    %y = vm.and.i32 %a, %b : i32
    %z = vm.not.i32 %y : i32
    %r = vm.or.i32 %x, %z : i32
    vm.return %r : i32
  }

  // shift amount is i32 and taken modulo 64 by the runtime
  vm.export @shl_i64
  vm.func @shl_i64(%a : i64, %n : i32) -> i64 {
    %r = vm.shl.i64 %a, %n : i64
    vm.return %r : i64
  }

  // shift amount is i32 and taken modulo 64 by the runtime
  vm.export @shr_i64_s
  vm.func @shr_i64_s(%a : i64, %n : i32) -> i64 {
    %r = vm.shr.i64.s %a, %n : i64
    vm.return %r : i64
  }

  // shift amount is i32 and taken modulo 64 by the runtime
  vm.export @shr_i64_u
  vm.func @shr_i64_u(%a : i64, %n : i32) -> i64 {
    %r = vm.shr.i64.u %a, %n : i64
    vm.return %r : i64
  }

  vm.export @and_i64
  vm.func @and_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.and.i64 %a, %b : i64
    vm.return %r : i64
  }

  vm.export @or_i64
  vm.func @or_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.or.i64 %a, %b : i64
    vm.return %r : i64
  }

  vm.export @xor_i64
  vm.func @xor_i64(%a : i64, %b : i64) -> i64 {
    %r = vm.xor.i64 %a, %b : i64
    vm.return %r : i64
  }

  vm.export @not_i64
  vm.func @not_i64(%a : i64) -> i64 {
    %r = vm.not.i64 %a : i64
    vm.return %r : i64
  }

  // count leading zeros; ctlz(0) == 64
  vm.export @ctlz_i64
  vm.func @ctlz_i64(%a : i64) -> i64 {
    %r = vm.ctlz.i64 %a : i64
    vm.return %r : i64
  }

  // shift by a constant amount
  vm.export @shl_const_i64
  vm.func @shl_const_i64(%a : i64) -> i64 {
    %n = vm.const.i32 3
    %r = vm.shl.i64 %a, %n : i64
    vm.return %r : i64
  }

  // rotate left built from shifts (0 < n < width for a true rotate)
  vm.export @rotl_i64
  vm.func @rotl_i64(%a : i64, %n : i32) -> i64 {
    %w = vm.const.i32 64
    %m = vm.sub.i32 %w, %n : i32
    %hi = vm.shl.i64 %a, %n : i64
    %lo = vm.shr.i64.u %a, %m : i64
    %r = vm.or.i64 %hi, %lo : i64
    vm.return %r : i64
  }

  // (a ^ b) | ~(a & b)
  vm.export @bitmix_i64
  vm.func @bitmix_i64(%a : i64, %b : i64) -> i64 {
    %x = vm.xor.i64 %a, %b : i64
    %y = vm.and.i64 %a, %b : i64
    %z = vm.not.i64 %y : i64
    %r = vm.or.i64 %x, %z : i64
    vm.return %r : i64
  }
}
