// Loop-carried values passed through branch remaps, for regalloc/coalesce.py. Each back
// edge copies a value computed in the loop body into a block argument's register; in each
// function something forbids computing it straight into that register early: the old value
// is still read after the new one is made, two values swap, or a wide value does both.
vm.module @remaps {
  // acc' = acc + k while side' = side ^ (acc * 3) still reads the old acc
  vm.export @read_after_def
  vm.func @read_after_def(%n : i32, %seed : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c3 = vm.const.i32 3
    vm.br ^header(%c0, %seed, %c0 : i32, i32, i32)
  ^header(%k : i32, %acc : i32, %side : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %next = vm.add.i32 %acc, %k : i32
    %t = vm.mul.i32 %acc, %c3 : i32
    %side2 = vm.xor.i32 %side, %t : i32
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^header(%k1, %next, %side2 : i32, i32, i32)
  ^done:
    %r = vm.xor.i32 %acc, %side : i32
    vm.return %r : i32
  }

  // (a, b) -> (b + k, a) every iteration; returns a * 7 - b
  vm.export @swap
  vm.func @swap(%n : i32, %a0 : i32, %b0 : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c7 = vm.const.i32 7
    vm.br ^header(%c0, %a0, %b0 : i32, i32, i32)
  ^header(%k : i32, %a : i32, %b : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %a2 = vm.add.i32 %b, %k : i32
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^header(%k1, %a2, %a : i32, i32, i32)
  ^done:
    %m = vm.mul.i32 %a, %c7 : i32
    %r = vm.sub.i32 %m, %b : i32
    vm.return %r : i32
  }

  // i64: acc' = acc * x + k while mix' = mix + (acc >> 7) still reads the old acc
  vm.export @wide
  vm.func @wide(%n : i32, %x : i64) -> i64 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c7 = vm.const.i32 7
    %z = vm.const.i64 0
    %one = vm.const.i64 1
    vm.br ^header(%c0, %one, %z : i32, i64, i64)
  ^header(%k : i32, %acc : i64, %mix : i64):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %k64 = vm.ext.i32.i64.s %k : i32 -> i64
    %p = vm.mul.i64 %acc, %x : i64
    %next = vm.add.i64 %p, %k64 : i64
    %s = vm.shr.i64.u %acc, %c7 : i64
    %mix2 = vm.add.i64 %mix, %s : i64
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^header(%k1, %next, %mix2 : i32, i64, i64)
  ^done:
    %r = vm.xor.i64 %acc, %mix : i64
    vm.return %r : i64
  }
}
