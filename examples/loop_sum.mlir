vm.module @module {
  vm.func @loop_sum(%count : i32) -> i32 {
    %c1 = vm.const.i32 1
    %i0 = vm.const.i32.zero
    vm.br ^loop(%i0, %i0 : i32, i32)
  ^loop(%i : i32, %sum : i32):
    %sum_next = vm.add.i32 %sum, %i : i32
    %i_next = vm.add.i32 %i, %c1 : i32
    %cmp = vm.cmp.lt.i32.s %i_next, %count : i32
    vm.cond_br %cmp, ^loop(%i_next, %sum_next : i32, i32), ^loop_exit(%sum_next : i32)
  ^loop_exit(%result : i32):
    vm.return %result : i32
  }
  vm.export @loop_sum
}
