// VMVX RFC benchmark 1: a counted loop carried through block arguments.
// loop_sum(n) = 0 + 1 + ... + (n - 1) with i32 wraparound; n <= 0 gives 0.
vm.module @loop_sum {
  vm.export @loop_sum
  vm.func @loop_sum(%n : i32) -> i32 {
    %zero = vm.const.i32 0
    %one = vm.const.i32 1
    vm.br ^header(%zero, %zero : i32, i32)
  ^header(%i : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %acc_next = vm.add.i32 %acc, %i : i32
    %i_next = vm.add.i32 %i, %one : i32
    vm.br ^header(%i_next, %acc_next : i32, i32)
  ^done:
    vm.return %acc : i32
  }
}
