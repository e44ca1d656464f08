// Division and remainder by constant divisors: powers of two (emit_x64 shifts them),
// other constants, 1 and -1. Each divisor is a vm.const, so the JIT sees a constant
// while IREE's interpreter divides as usual. (iree-compile rejects constant zero.)
vm.module @const_divisors {
  vm.export @div_i32_s_by_1
  vm.func @div_i32_s_by_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_1
  vm.func @div_i32_u_by_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_1
  vm.func @rem_i32_s_by_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_1
  vm.func @rem_i32_u_by_1(%x : i32) -> i32 {
    %c = vm.const.i32 1
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_2
  vm.func @div_i32_s_by_2(%x : i32) -> i32 {
    %c = vm.const.i32 2
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_2
  vm.func @div_i32_u_by_2(%x : i32) -> i32 {
    %c = vm.const.i32 2
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_2
  vm.func @rem_i32_s_by_2(%x : i32) -> i32 {
    %c = vm.const.i32 2
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_2
  vm.func @rem_i32_u_by_2(%x : i32) -> i32 {
    %c = vm.const.i32 2
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_8
  vm.func @div_i32_s_by_8(%x : i32) -> i32 {
    %c = vm.const.i32 8
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_8
  vm.func @div_i32_u_by_8(%x : i32) -> i32 {
    %c = vm.const.i32 8
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_8
  vm.func @rem_i32_s_by_8(%x : i32) -> i32 {
    %c = vm.const.i32 8
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_8
  vm.func @rem_i32_u_by_8(%x : i32) -> i32 {
    %c = vm.const.i32 8
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_1024
  vm.func @div_i32_s_by_1024(%x : i32) -> i32 {
    %c = vm.const.i32 1024
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_1024
  vm.func @div_i32_u_by_1024(%x : i32) -> i32 {
    %c = vm.const.i32 1024
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_1024
  vm.func @rem_i32_s_by_1024(%x : i32) -> i32 {
    %c = vm.const.i32 1024
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_1024
  vm.func @rem_i32_u_by_1024(%x : i32) -> i32 {
    %c = vm.const.i32 1024
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_1073741824
  vm.func @div_i32_s_by_1073741824(%x : i32) -> i32 {
    %c = vm.const.i32 1073741824
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_1073741824
  vm.func @div_i32_u_by_1073741824(%x : i32) -> i32 {
    %c = vm.const.i32 1073741824
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_1073741824
  vm.func @rem_i32_s_by_1073741824(%x : i32) -> i32 {
    %c = vm.const.i32 1073741824
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_1073741824
  vm.func @rem_i32_u_by_1073741824(%x : i32) -> i32 {
    %c = vm.const.i32 1073741824
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_3
  vm.func @div_i32_s_by_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_3
  vm.func @div_i32_u_by_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_3
  vm.func @rem_i32_s_by_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_3
  vm.func @rem_i32_u_by_3(%x : i32) -> i32 {
    %c = vm.const.i32 3
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_7
  vm.func @div_i32_s_by_7(%x : i32) -> i32 {
    %c = vm.const.i32 7
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_7
  vm.func @div_i32_u_by_7(%x : i32) -> i32 {
    %c = vm.const.i32 7
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_7
  vm.func @rem_i32_s_by_7(%x : i32) -> i32 {
    %c = vm.const.i32 7
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_7
  vm.func @rem_i32_u_by_7(%x : i32) -> i32 {
    %c = vm.const.i32 7
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_m1
  vm.func @div_i32_s_by_m1(%x : i32) -> i32 {
    %c = vm.const.i32 -1
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_m1
  vm.func @div_i32_u_by_m1(%x : i32) -> i32 {
    %c = vm.const.i32 -1
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_m1
  vm.func @rem_i32_s_by_m1(%x : i32) -> i32 {
    %c = vm.const.i32 -1
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_m1
  vm.func @rem_i32_u_by_m1(%x : i32) -> i32 {
    %c = vm.const.i32 -1
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_m8
  vm.func @div_i32_s_by_m8(%x : i32) -> i32 {
    %c = vm.const.i32 -8
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_m8
  vm.func @div_i32_u_by_m8(%x : i32) -> i32 {
    %c = vm.const.i32 -8
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_m8
  vm.func @rem_i32_s_by_m8(%x : i32) -> i32 {
    %c = vm.const.i32 -8
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_m8
  vm.func @rem_i32_u_by_m8(%x : i32) -> i32 {
    %c = vm.const.i32 -8
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_s_by_2147483647
  vm.func @div_i32_s_by_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.div.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i32_u_by_2147483647
  vm.func @div_i32_u_by_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.div.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_s_by_2147483647
  vm.func @rem_i32_s_by_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.rem.i32.s %x, %c : i32
    vm.return %r : i32
  }
  vm.export @rem_i32_u_by_2147483647
  vm.func @rem_i32_u_by_2147483647(%x : i32) -> i32 {
    %c = vm.const.i32 2147483647
    %r = vm.rem.i32.u %x, %c : i32
    vm.return %r : i32
  }
  vm.export @div_i64_s_by_1
  vm.func @div_i64_s_by_1(%x : i64) -> i64 {
    %c = vm.const.i64 1
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_1
  vm.func @div_i64_u_by_1(%x : i64) -> i64 {
    %c = vm.const.i64 1
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_1
  vm.func @rem_i64_s_by_1(%x : i64) -> i64 {
    %c = vm.const.i64 1
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_1
  vm.func @rem_i64_u_by_1(%x : i64) -> i64 {
    %c = vm.const.i64 1
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_2
  vm.func @div_i64_s_by_2(%x : i64) -> i64 {
    %c = vm.const.i64 2
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_2
  vm.func @div_i64_u_by_2(%x : i64) -> i64 {
    %c = vm.const.i64 2
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_2
  vm.func @rem_i64_s_by_2(%x : i64) -> i64 {
    %c = vm.const.i64 2
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_2
  vm.func @rem_i64_u_by_2(%x : i64) -> i64 {
    %c = vm.const.i64 2
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_8
  vm.func @div_i64_s_by_8(%x : i64) -> i64 {
    %c = vm.const.i64 8
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_8
  vm.func @div_i64_u_by_8(%x : i64) -> i64 {
    %c = vm.const.i64 8
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_8
  vm.func @rem_i64_s_by_8(%x : i64) -> i64 {
    %c = vm.const.i64 8
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_8
  vm.func @rem_i64_u_by_8(%x : i64) -> i64 {
    %c = vm.const.i64 8
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_64
  vm.func @div_i64_s_by_64(%x : i64) -> i64 {
    %c = vm.const.i64 64
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_64
  vm.func @div_i64_u_by_64(%x : i64) -> i64 {
    %c = vm.const.i64 64
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_64
  vm.func @rem_i64_s_by_64(%x : i64) -> i64 {
    %c = vm.const.i64 64
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_64
  vm.func @rem_i64_u_by_64(%x : i64) -> i64 {
    %c = vm.const.i64 64
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_1073741824
  vm.func @div_i64_s_by_1073741824(%x : i64) -> i64 {
    %c = vm.const.i64 1073741824
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_1073741824
  vm.func @div_i64_u_by_1073741824(%x : i64) -> i64 {
    %c = vm.const.i64 1073741824
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_1073741824
  vm.func @rem_i64_s_by_1073741824(%x : i64) -> i64 {
    %c = vm.const.i64 1073741824
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_1073741824
  vm.func @rem_i64_u_by_1073741824(%x : i64) -> i64 {
    %c = vm.const.i64 1073741824
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_3
  vm.func @div_i64_s_by_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_3
  vm.func @div_i64_u_by_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_3
  vm.func @rem_i64_s_by_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_3
  vm.func @rem_i64_u_by_3(%x : i64) -> i64 {
    %c = vm.const.i64 3
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_10
  vm.func @div_i64_s_by_10(%x : i64) -> i64 {
    %c = vm.const.i64 10
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_10
  vm.func @div_i64_u_by_10(%x : i64) -> i64 {
    %c = vm.const.i64 10
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_10
  vm.func @rem_i64_s_by_10(%x : i64) -> i64 {
    %c = vm.const.i64 10
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_10
  vm.func @rem_i64_u_by_10(%x : i64) -> i64 {
    %c = vm.const.i64 10
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_m1
  vm.func @div_i64_s_by_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_m1
  vm.func @div_i64_u_by_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_m1
  vm.func @rem_i64_s_by_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_m1
  vm.func @rem_i64_u_by_m1(%x : i64) -> i64 {
    %c = vm.const.i64 -1
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_m4
  vm.func @div_i64_s_by_m4(%x : i64) -> i64 {
    %c = vm.const.i64 -4
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_m4
  vm.func @div_i64_u_by_m4(%x : i64) -> i64 {
    %c = vm.const.i64 -4
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_m4
  vm.func @rem_i64_s_by_m4(%x : i64) -> i64 {
    %c = vm.const.i64 -4
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_m4
  vm.func @rem_i64_u_by_m4(%x : i64) -> i64 {
    %c = vm.const.i64 -4
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_s_by_2147483648
  vm.func @div_i64_s_by_2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 2147483648
    %r = vm.div.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @div_i64_u_by_2147483648
  vm.func @div_i64_u_by_2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 2147483648
    %r = vm.div.i64.u %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_s_by_2147483648
  vm.func @rem_i64_s_by_2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 2147483648
    %r = vm.rem.i64.s %x, %c : i64
    vm.return %r : i64
  }
  vm.export @rem_i64_u_by_2147483648
  vm.func @rem_i64_u_by_2147483648(%x : i64) -> i64 {
    %c = vm.const.i64 2147483648
    %r = vm.rem.i64.u %x, %c : i64
    vm.return %r : i64
  }
}
