// Loops over buffer elements, for the loop-invariant buffer facts of
// splatjit/buffer_cache.py: the traps must come from the same op at the same
// iteration as in the interpreter (out of bounds on the last iteration, a
// read-only target, a buffer switched inside the loop). Buffers from the
// harness are 64 bytes (16 i32 elements).
vm.module @buffer_loops {
  vm.rodata private @words dense<[1, 2, 3, 4, 5, 6, 7, 8]> : tensor<8xi32>

  // sum of elements [0, n) of b (i32); n > 16 traps out of bounds at element 16
  vm.export @sum_prefix
  vm.func @sum_prefix(%b : !vm.buffer, %n : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0_i64, %c0 : i64, i32)
  ^header(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %acc_next = vm.add.i32 %acc, %v : i32
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^header(%i_next, %acc_next : i64, i32)
  ^done:
    vm.return %acc : i32
  }

  // b[i] = b[i] * 3 + x for i in [0, n); returns b[0] afterwards
  vm.export @scale_prefix
  vm.func @scale_prefix(%b : !vm.buffer, %n : i32, %x : i32) -> i32 {
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %c3 = vm.const.i32 3
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0_i64 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %m = vm.mul.i32 %v, %c3 : i32
    %w = vm.add.i32 %m, %x : i32
    vm.buffer.store.i32 %w, %b[%i] : i32 -> !vm.buffer
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^header(%i_next : i64)
  ^done:
    %r = vm.buffer.load.i32 %b[%c0_i64] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // the same loop on rodata: with n > 0 the first store traps (read-only)
  vm.export @scale_rodata
  vm.func @scale_rodata(%n : i32) -> i32 {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %c0 = vm.const.i32 0
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0_i64, %c0 : i64, i32)
  ^header(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %acc_next = vm.add.i32 %acc, %v : i32
    vm.buffer.store.i32 %acc_next, %b[%i] : i32 -> !vm.buffer
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^header(%i_next, %acc_next : i64, i32)
  ^done:
    vm.return %acc : i32
  }

  // alternates between b and the rodata words inside the loop (the ref changes per
  // iteration, so nothing about it is loop invariant); sums element i of each
  vm.export @alternate
  vm.func @alternate(%b : !vm.buffer, %n : i32) -> i32 {
    %r = vm.const.ref.rodata @words : !vm.buffer
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0_i64, %c0, %b, %r : i64, i32, !vm.buffer, !vm.buffer)
  ^header(%i : i64, %acc : i32, %cur : !vm.buffer, %other : !vm.buffer):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %cur[%i] : !vm.buffer -> i32
    %acc_next = vm.add.i32 %acc, %v : i32
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^header(%i_next, %acc_next, %other, %cur : i64, i32, !vm.buffer, !vm.buffer)
  ^done:
    vm.return %acc : i32
  }

  // nested loops: t[i] += s[j] for i < n, j < m (two buffers, both invariant)
  vm.export @nested
  vm.func @nested(%s : !vm.buffer, %t : !vm.buffer, %n : i32, %m : i32) -> i32 {
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %ni = vm.ext.i32.i64.s %n : i32 -> i64
    %mi = vm.ext.i32.i64.s %m : i32 -> i64
    vm.br ^outer(%c0_i64 : i64)
  ^outer(%i : i64):
    %more_i = vm.cmp.lt.i64.s %i, %ni : i64
    vm.cond_br %more_i, ^inner_entry, ^done
  ^inner_entry:
    vm.br ^inner(%c0_i64 : i64)
  ^inner(%j : i64):
    %more_j = vm.cmp.lt.i64.s %j, %mi : i64
    vm.cond_br %more_j, ^inner_body, ^outer_next
  ^inner_body:
    %sv = vm.buffer.load.i32 %s[%j] : !vm.buffer -> i32
    %tv = vm.buffer.load.i32 %t[%i] : !vm.buffer -> i32
    %sum = vm.add.i32 %sv, %tv : i32
    vm.buffer.store.i32 %sum, %t[%i] : i32 -> !vm.buffer
    %j_next = vm.add.i64 %j, %c1_i64 : i64
    vm.br ^inner(%j_next : i64)
  ^outer_next:
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^outer(%i_next : i64)
  ^done:
    %r = vm.buffer.load.i32 %t[%c0_i64] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // Element promotion (splatjit/element_promotion.py) targets: loops whose only store
  // writes one loop-invariant element that the loop also loads.

  // b[i] += b[k] for k in [0, n) (i32); returns b[i] (0 when n == 0 and i is out of
  // range). When k == i the loop reads the promoted element through its other load, so
  // memory must stay current; i out of range traps at the first load of b[i] only if
  // n > 0, and n > 16 traps at the load of b[16] (when i is in range)
  vm.export @accumulate_self
  vm.func @accumulate_self(%b : !vm.buffer, %n : i32, %i32 : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %i = vm.ext.i32.i64.u %i32 : i32 -> i64
    vm.br ^header(%c0_i64, %c0 : i64, i32)
  ^header(%k : i64, %last : i32):
    %more = vm.cmp.lt.i64.s %k, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %b[%k] : !vm.buffer -> i32
    %t = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %sum = vm.add.i32 %t, %v : i32
    vm.buffer.store.i32 %sum, %b[%i] : i32 -> !vm.buffer
    %k_next = vm.add.i64 %k, %c1_i64 : i64
    vm.br ^header(%k_next, %sum : i64, i32)
  ^done:
    vm.return %last : i32
  }

  // t[i] = t[i] * s[k] + 1.0 for k in [0, n), f64 elements (8 per 64-byte buffer); returns
  // t[i] as left in the register of the last iteration
  vm.export @accumulate_f64
  vm.func @accumulate_f64(%s : !vm.buffer, %t : !vm.buffer, %n : i32, %i32 : i32) -> f64 {
    %zero = vm.const.f64 0.0
    %one = vm.const.f64 1.0
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %i = vm.ext.i32.i64.u %i32 : i32 -> i64
    vm.br ^header(%c0_i64, %zero : i64, f64)
  ^header(%k : i64, %last : f64):
    %more = vm.cmp.lt.i64.s %k, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %acc = vm.buffer.load.f64 %t[%i] : !vm.buffer -> f64
    %x = vm.buffer.load.f64 %s[%k] : !vm.buffer -> f64
    %m = vm.mul.f64 %acc, %x : f64
    %next = vm.add.f64 %m, %one : f64
    vm.buffer.store.f64 %next, %t[%i] : f64 -> !vm.buffer
    %k_next = vm.add.i64 %k, %c1_i64 : i64
    vm.br ^header(%k_next, %next : i64, f64)
  ^done:
    vm.return %last : f64
  }

  // words[0] += k for k in [0, n) on rodata: loads pass, the first store traps (read-only)
  vm.export @accumulate_rodata
  vm.func @accumulate_rodata(%n : i32) -> i32 {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %c0 = vm.const.i32 0
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0_i64 : i64)
  ^header(%k : i64):
    %more = vm.cmp.lt.i64.s %k, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %b[%c0_i64] : !vm.buffer -> i32
    %k32 = vm.trunc.i64.i32 %k : i64 -> i32
    %sum = vm.add.i32 %v, %k32 : i32
    vm.buffer.store.i32 %sum, %b[%c0_i64] : i32 -> !vm.buffer
    %k_next = vm.add.i64 %k, %c1_i64 : i64
    vm.br ^header(%k_next : i64)
  ^done:
    %r = vm.buffer.load.i32 %b[%c0_i64] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // b[i] += 1 and b[j] += 2 for k in [0, n): two stored elements that are the same one
  // when i == j, so neither may live in a register; returns b[i]
  vm.export @accumulate_two
  vm.func @accumulate_two(%b : !vm.buffer, %n : i32, %i32 : i32, %j32 : i32) -> i32 {
    %c1 = vm.const.i32 1
    %c2 = vm.const.i32 2
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %i = vm.ext.i32.i64.u %i32 : i32 -> i64
    %j = vm.ext.i32.i64.u %j32 : i32 -> i64
    vm.br ^header(%c0_i64 : i64)
  ^header(%k : i64):
    %more = vm.cmp.lt.i64.s %k, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %x = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %x1 = vm.add.i32 %x, %c1 : i32
    vm.buffer.store.i32 %x1, %b[%i] : i32 -> !vm.buffer
    %y = vm.buffer.load.i32 %b[%j] : !vm.buffer -> i32
    %y2 = vm.add.i32 %y, %c2 : i32
    vm.buffer.store.i32 %y2, %b[%j] : i32 -> !vm.buffer
    %k_next = vm.add.i64 %k, %c1_i64 : i64
    vm.br ^header(%k_next : i64)
  ^done:
    %r = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }
}
