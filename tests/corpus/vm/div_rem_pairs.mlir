// Division and remainder of the same operands, which splatjit computes with one divide
// (splatjit/div_rem_pairs.py), next to near misses that must stay two divides.
vm.module @div_rem_pairs {
  vm.export @divrem_i32_s
  vm.func @divrem_i32_s(%x : i32, %y : i32) -> (i32, i32) {
    %q = vm.div.i32.s %x, %y : i32
    %r = vm.rem.i32.s %x, %y : i32
    vm.return %q, %r : i32, i32
  }

  vm.export @divrem_i32_u
  vm.func @divrem_i32_u(%x : i32, %y : i32) -> (i32, i32) {
    %q = vm.div.i32.u %x, %y : i32
    %r = vm.rem.i32.u %x, %y : i32
    vm.return %q, %r : i32, i32
  }

  // rem first, then div, with other work between them
  vm.export @remdiv_i64_s
  vm.func @remdiv_i64_s(%x : i64, %y : i64) -> (i64, i64, i64) {
    %r = vm.rem.i64.s %x, %y : i64
    %t = vm.mul.i64 %x, %y : i64
    %q = vm.div.i64.s %x, %y : i64
    vm.return %q, %r, %t : i64, i64, i64
  }

  vm.export @divrem_i64_u
  vm.func @divrem_i64_u(%x : i64, %y : i64) -> (i64, i64) {
    %q = vm.div.i64.u %x, %y : i64
    %r = vm.rem.i64.u %x, %y : i64
    vm.return %q, %r : i64, i64
  }

  // IREE's floor division: the quotient is used between the two ops
  vm.export @floordiv_i64
  vm.func @floordiv_i64(%x : i64, %y : i64) -> (i64, i64) {
    %zero = vm.const.i64.zero
    %one = vm.const.i64 1
    %q = vm.div.i64.s %x, %y : i64
    %p = vm.mul.i64 %q, %y : i64
    %inexact = vm.cmp.ne.i64 %x, %p : i64
    %xneg = vm.cmp.lt.i64.s %x, %zero : i64
    %yneg = vm.cmp.lt.i64.s %y, %zero : i64
    %signs = vm.cmp.ne.i32 %xneg, %yneg : i32
    %fix = vm.and.i32 %inexact, %signs : i32
    %qm = vm.sub.i64 %q, %one : i64
    %fq = vm.select.i64 %fix, %qm, %q : i64
    %r = vm.rem.i64.s %x, %y : i64
    %rneg = vm.cmp.lt.i64.s %r, %zero : i64
    %ry = vm.add.i64 %r, %y : i64
    %fr = vm.select.i64 %rneg, %ry, %r : i64
    vm.return %fq, %fr : i64, i64
  }

  // near misses: a different dividend, different signedness
  vm.export @no_pair_operand_changes
  vm.func @no_pair_operand_changes(%x : i32, %y : i32) -> (i32, i32) {
    %one = vm.const.i32 1
    %q = vm.div.i32.s %x, %y : i32
    %x1 = vm.add.i32 %x, %one : i32
    %r = vm.rem.i32.s %x1, %y : i32
    vm.return %q, %r : i32, i32
  }

  vm.export @no_pair_mixed_signs
  vm.func @no_pair_mixed_signs(%x : i32, %y : i32) -> (i32, i32) {
    %q = vm.div.i32.s %x, %y : i32
    %r = vm.rem.i32.u %x, %y : i32
    vm.return %q, %r : i32, i32
  }

  // a loop: delinearise k into (k / n, k % n) and sum both, like the data-tiling unpack
  vm.export @delinearize_sum
  vm.func @delinearize_sum(%count : i64, %n : i64) -> i64 {
    %zero = vm.const.i64.zero
    %one = vm.const.i64 1
    vm.br ^loop(%zero, %zero : i64, i64)
  ^loop(%k : i64, %acc : i64):
    %more = vm.cmp.lt.i64.s %k, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %q = vm.div.i64.s %k, %n : i64
    %r = vm.rem.i64.s %k, %n : i64
    %s = vm.mul.i64 %q, %r : i64
    %acc1 = vm.add.i64 %acc, %s : i64
    %k1 = vm.add.i64 %k, %one : i64
    vm.br ^loop(%k1, %acc1 : i64, i64)
  ^done:
    vm.return %acc : i64
  }
}
