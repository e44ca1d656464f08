// Control flow: branch tables, value switches, nested and multi-exit loops,
// block arguments of every register bank, and branch-argument permutations
// that need parallel moves.
vm.module @control_flow {
  // Branch table with block arguments: 0 -> a + b, 1 -> a - b, 2 -> a * b,
  // 3 -> b, anything else (negative too) -> a.
  vm.export @br_table_i32
  vm.func @br_table_i32(%k : i32, %a : i32, %b : i32) -> i32 {
    vm.br_table %k {
      default: ^ret(%a : i32),
      0: ^add,
      1: ^sub,
      2: ^mul,
      3: ^ret(%b : i32)
    }
  ^add:
    %s = vm.add.i32 %a, %b : i32
    vm.br ^ret(%s : i32)
  ^sub:
    %d = vm.sub.i32 %a, %b : i32
    vm.br ^ret(%d : i32)
  ^mul:
    %m = vm.mul.i32 %a, %b : i32
    vm.br ^ret(%m : i32)
  ^ret(%r : i32):
    vm.return %r : i32
  }

  // Dense 8-way branch table passing f64 block arguments: returns x * (k + 1)
  // for 0 <= k < 8, else -x.
  vm.export @br_table_f64
  vm.func @br_table_f64(%k : i32, %x : f64) -> f64 {
    %c2 = vm.const.f64 2.0
    %c3 = vm.const.f64 3.0
    %c4 = vm.const.f64 4.0
    %c5 = vm.const.f64 5.0
    %c6 = vm.const.f64 6.0
    %c7 = vm.const.f64 7.0
    %c8 = vm.const.f64 8.0
    vm.br_table %k {
      default: ^neg,
      0: ^ret(%x : f64),
      1: ^scale(%c2 : f64),
      2: ^scale(%c3 : f64),
      3: ^scale(%c4 : f64),
      4: ^scale(%c5 : f64),
      5: ^scale(%c6 : f64),
      6: ^scale(%c7 : f64),
      7: ^scale(%c8 : f64)
    }
  ^neg:
    %n = vm.neg.f64 %x : f64
    vm.br ^ret(%n : f64)
  ^scale(%f : f64):
    %p = vm.mul.f64 %x, %f : f64
    vm.br ^ret(%p : f64)
  ^ret(%r : f64):
    vm.return %r : f64
  }

  // Value switches: element k of the case list, or the default when k is out
  // of range (k < 0 or k >= count).
  vm.export @switch_i32
  vm.func @switch_i32(%k : i32, %a : i32, %b : i32, %c : i32, %d : i32) -> i32 {
    %r = vm.switch.i32 %k[%a, %b, %c] else %d : i32
    vm.return %r : i32
  }

  // NOTE: the 3.13 interpreter returns the low 32 bits, sign-extended, of the
  // selected case (dispatch.c reads `regs_i32[...]` for switch.i64); the
  // default value comes back intact.
  vm.export @switch_i64
  vm.func @switch_i64(%k : i32, %a : i64, %b : i64, %d : i64) -> i64 {
    %r = vm.switch.i64 %k[%a, %b] else %d : i64
    vm.return %r : i64
  }

  vm.export @switch_f32
  vm.func @switch_f32(%k : i32, %a : f32, %b : f32, %c : f32, %d : f32) -> f32 {
    %r = vm.switch.f32 %k[%a, %b, %c] else %d : f32
    vm.return %r : f32
  }

  vm.export @switch_f64
  vm.func @switch_f64(%k : i32, %a : f64, %b : f64, %d : f64) -> f64 {
    %r = vm.switch.f64 %k[%a, %b] else %d : f64
    vm.return %r : f64
  }

  // Switch over constants: k-th prime for 0 <= k < 6, else 0.
  vm.export @nth_prime
  vm.func @nth_prime(%k : i32) -> i32 {
    %p0 = vm.const.i32 2
    %p1 = vm.const.i32 3
    %p2 = vm.const.i32 5
    %p3 = vm.const.i32 7
    %p4 = vm.const.i32 11
    %p5 = vm.const.i32 13
    %z = vm.const.i32.zero
    %r = vm.switch.i32 %k[%p0, %p1, %p2, %p3, %p4, %p5] else %z : i32
    vm.return %r : i32
  }

  // Nested loops: sum over 0 <= i < n, 0 <= j < m of (i * j) ^ (i + j).
  vm.export @nested_loops
  vm.func @nested_loops(%n : i32, %m : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^outer(%c0, %c0 : i32, i32)
  ^outer(%i : i32, %acc : i32):
    %more_i = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more_i, ^inner_start, ^done
  ^inner_start:
    vm.br ^inner(%c0, %acc : i32, i32)
  ^inner(%j : i32, %acc_j : i32):
    %more_j = vm.cmp.lt.i32.s %j, %m : i32
    vm.cond_br %more_j, ^inner_body, ^outer_next
  ^inner_body:
    %p = vm.mul.i32 %i, %j : i32
    %s = vm.add.i32 %i, %j : i32
    %x = vm.xor.i32 %p, %s : i32
    %acc_j1 = vm.add.i32 %acc_j, %x : i32
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^inner(%j1, %acc_j1 : i32, i32)
  ^outer_next:
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^outer(%i1, %acc_j : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // Loop with an early exit: index of the first k in [0, n) with
  // (k * k) % m == r, or -1. m == 0 traps on the first iteration (n > 0).
  vm.export @find_first
  vm.func @find_first(%n : i32, %m : i32, %r : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %neg1 = vm.const.i32 -1
    vm.br ^loop(%c0 : i32)
  ^loop(%k : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^exit(%neg1 : i32)
  ^body:
    %sq = vm.mul.i32 %k, %k : i32
    %rem = vm.rem.i32.s %sq, %m : i32
    %hit = vm.cmp.eq.i32 %rem, %r : i32
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.cond_br %hit, ^exit(%k : i32), ^loop(%k1 : i32)
  ^exit(%res : i32):
    vm.return %res : i32
  }

  // Collatz step count for x > 0 (capped at 1000 steps, returns -1 then).
  vm.export @collatz
  vm.func @collatz(%x : i64) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %cap = vm.const.i32 1000
    %one = vm.const.i64 1
    %three = vm.const.i64 3
    %neg1 = vm.const.i32 -1
    vm.br ^loop(%x, %c0 : i64, i32)
  ^loop(%v : i64, %steps : i32):
    %is_one = vm.cmp.eq.i64 %v, %one : i64
    vm.cond_br %is_one, ^done(%steps : i32), ^check
  ^check:
    %over = vm.cmp.lt.i32.s %cap, %steps : i32
    vm.cond_br %over, ^done(%neg1 : i32), ^step
  ^step:
    %steps1 = vm.add.i32 %steps, %c1 : i32
    %low = vm.trunc.i64.i32 %v : i64 -> i32
    %odd = vm.and.i32 %low, %c1 : i32
    vm.cond_br %odd, ^odd, ^even
  ^odd:
    %t = vm.mul.i64 %v, %three : i64
    %t1 = vm.add.i64 %t, %one : i64
    vm.br ^loop(%t1, %steps1 : i64, i32)
  ^even:
    %h = vm.shr.i64.u %v, %c1 : i64
    vm.br ^loop(%h, %steps1 : i64, i32)
  ^done(%r : i32):
    vm.return %r : i32
  }

  // Rotates four loop-carried values of four banks n times:
  // (a, b, c, d) -> (d as i32, a as i64, b as f32, c as f64) each step, and
  // returns a + 10 b + 100 c + 1000 d (4321 for n = 4k with 1, 2, 3.0, 4.0).
  // NOTE: 3.13 encodes the entry branch's register moves in an order that is
  // only correct as a parallel copy, but the interpreter applies remap lists
  // sequentially, so IREE returns garbage here (4.6e19 for any n with the
  // inputs above). A faithful reimplementation must apply moves in encoded
  // order to agree with the interpreter.
  vm.export @rotate_banks
  vm.func @rotate_banks(%n : i32, %a : i32, %b : i64, %c : f32, %d : f64) -> f64 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %a, %b, %c, %d : i32, i32, i64, f32, f64)
  ^loop(%i : i32, %va : i32, %vb : i64, %vc : f32, %vd : f64):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %na = vm.cast.f64.si64 %vd : f64 -> i64
    %na32 = vm.trunc.i64.i32 %na : i64 -> i32
    %nb = vm.ext.i32.i64.s %va : i32 -> i64
    %nc = vm.cast.si64.f32 %vb : i64 -> f32
    %nd = vm.ext.f32.f64 %vc : f32 -> f64
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %na32, %nb, %nc, %nd : i32, i32, i64, f32, f64)
  ^done:
    %fa = vm.cast.si32.f32 %va : i32 -> f32
    %fa64 = vm.ext.f32.f64 %fa : f32 -> f64
    %fb = vm.cast.si64.f64 %vb : i64 -> f64
    %fc = vm.ext.f32.f64 %vc : f32 -> f64
    %k10 = vm.const.f64 10.0
    %k100 = vm.const.f64 100.0
    %k1000 = vm.const.f64 1000.0
    %t0 = vm.mul.f64 %fb, %k10 : f64
    %t1 = vm.mul.f64 %fc, %k100 : f64
    %t2 = vm.mul.f64 %vd, %k1000 : f64
    %s0 = vm.add.f64 %fa64, %t0 : f64
    %s1 = vm.add.f64 %s0, %t1 : f64
    %s2 = vm.add.f64 %s1, %t2 : f64
    vm.return %s2 : f64
  }

  // Swaps two loop-carried values every iteration (a parallel-move cycle on
  // the back edge): after n steps returns a - 2b, or b - 2a for odd n.
  vm.export @swap_loop
  vm.func @swap_loop(%n : i32, %a : i32, %b : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %a, %b : i32, i32, i32)
  ^loop(%i : i32, %x : i32, %y : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %y, %x : i32, i32, i32)
  ^done:
    %y2 = vm.add.i32 %y, %y : i32
    %r = vm.sub.i32 %x, %y2 : i32
    vm.return %r : i32
  }

  // Three-way rotation of loop-carried values (a 3-cycle of moves).
  vm.export @rotate3_loop
  vm.func @rotate3_loop(%n : i32, %a : i32, %b : i32, %c : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %c10 = vm.const.i32 10
    %c100 = vm.const.i32 100
    vm.br ^loop(%c0, %a, %b, %c : i32, i32, i32, i32)
  ^loop(%i : i32, %x : i32, %y : i32, %z : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %y, %z, %x : i32, i32, i32, i32)
  ^done:
    %y10 = vm.mul.i32 %y, %c10 : i32
    %z100 = vm.mul.i32 %z, %c100 : i32
    %s = vm.add.i32 %x, %y10 : i32
    %r = vm.add.i32 %s, %z100 : i32
    vm.return %r : i32
  }

  // Diamond with a different value flowing in from each side.
  vm.export @diamond
  vm.func @diamond(%c : i32, %a : f32, %b : f32) -> f32 {
    vm.cond_br %c, ^left, ^right
  ^left:
    %l = vm.mul.f32 %a, %b : f32
    vm.br ^join(%l, %a : f32, f32)
  ^right:
    %r = vm.sub.f32 %a, %b : f32
    vm.br ^join(%b, %r : f32, f32)
  ^join(%p : f32, %q : f32):
    %s = vm.div.f32 %p, %q : f32
    vm.return %s : f32
  }

  // Multiple returns from different blocks, each returning two results.
  vm.export @classify
  vm.func @classify(%x : i64) -> (i32, i64) {
    %zero = vm.const.i64.zero
    %neg = vm.cmp.lt.i64.s %x, %zero : i64
    vm.cond_br %neg, ^negative, ^nonneg
  ^negative:
    %m1 = vm.const.i32 -1
    %nx = vm.sub.i64 %zero, %x : i64
    vm.return %m1, %nx : i32, i64
  ^nonneg:
    %nz = vm.cmp.nz.i64 %x : i64
    vm.return %nz, %x : i32, i64
  }
}
