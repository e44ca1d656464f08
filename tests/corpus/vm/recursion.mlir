// corpus-flags: --compile-from=vm
// Recursive calls. IREE 3.13's `--compile-mode=vm` pipeline never finishes on
// a recursive call graph (iree-util-verify-initialization-order loops; see
// COVERAGE.md), so this module is serialized with `--compile-from=vm`, which
// skips the VM transformation pipeline (no inlining, no canonicalization) and
// only encodes the module as written.
vm.module @recursion {
  // fib(n) by naive double recursion; n <= 1 returns n. Depth is n.
  vm.export @fib
  vm.func @fib(%n : i32) -> i32 {
    %c2 = vm.const.i32 2
    %small = vm.cmp.lt.i32.s %n, %c2 : i32
    vm.cond_br %small, ^base, ^recurse
  ^base:
    vm.return %n : i32
  ^recurse:
    %c1 = vm.const.i32 1
    %n1 = vm.sub.i32 %n, %c1 : i32
    %n2 = vm.sub.i32 %n, %c2 : i32
    %a = vm.call @fib(%n1) : (i32) -> i32
    %b = vm.call @fib(%n2) : (i32) -> i32
    %r = vm.add.i32 %a, %b : i32
    vm.return %r : i32
  }

  // n! in i64 (wrapping past 20!); n <= 0 returns 1.
  vm.export @factorial
  vm.func @factorial(%n : i64) -> i64 {
    %c1 = vm.const.i64 1
    %done = vm.cmp.lt.i64.s %n, %c1 : i64
    vm.cond_br %done, ^base, ^recurse
  ^base:
    vm.return %c1 : i64
  ^recurse:
    %m = vm.sub.i64 %n, %c1 : i64
    %f = vm.call @factorial(%m) : (i64) -> i64
    %r = vm.mul.i64 %n, %f : i64
    vm.return %r : i64
  }

  // Mutual recursion: is_even(n) for n >= 0 (depth n).
  vm.export @is_even
  vm.func @is_even(%n : i32) -> i32 {
    %z = vm.cmp.nz.i32 %n : i32
    vm.cond_br %z, ^step, ^yes
  ^yes:
    %one = vm.const.i32 1
    vm.return %one : i32
  ^step:
    %c1 = vm.const.i32 1
    %m = vm.sub.i32 %n, %c1 : i32
    %r = vm.call @is_odd(%m) : (i32) -> i32
    vm.return %r : i32
  }

  vm.func private @is_odd(%n : i32) -> i32 {
    %z = vm.cmp.nz.i32 %n : i32
    vm.cond_br %z, ^step, ^no
  ^no:
    %zero = vm.const.i32 0
    vm.return %zero : i32
  ^step:
    %c1 = vm.const.i32 1
    %m = vm.sub.i32 %n, %c1 : i32
    %r = vm.call @is_even(%m) : (i32) -> i32
    vm.return %r : i32
  }

  // Ackermann(m, n) for small m, n (deep recursion: A(2, 3) = 9, A(3, 3) = 61).
  vm.export @ackermann
  vm.func @ackermann(%m : i32, %n : i32) -> i32 {
    %c1 = vm.const.i32 1
    %mz = vm.cmp.nz.i32 %m : i32
    vm.cond_br %mz, ^m_pos, ^m_zero
  ^m_zero:
    %r0 = vm.add.i32 %n, %c1 : i32
    vm.return %r0 : i32
  ^m_pos:
    %m1 = vm.sub.i32 %m, %c1 : i32
    %nz = vm.cmp.nz.i32 %n : i32
    vm.cond_br %nz, ^n_pos, ^n_zero
  ^n_zero:
    %r1 = vm.call @ackermann(%m1, %c1) : (i32, i32) -> i32
    vm.return %r1 : i32
  ^n_pos:
    %n1 = vm.sub.i32 %n, %c1 : i32
    %inner = vm.call @ackermann(%m, %n1) : (i32, i32) -> i32
    %r2 = vm.call @ackermann(%m1, %inner) : (i32, i32) -> i32
    vm.return %r2 : i32
  }
}
