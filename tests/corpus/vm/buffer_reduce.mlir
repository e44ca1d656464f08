// VMVX RFC benchmark 2: fill a fresh buffer and reduce it with element loads.
// buffer_reduce(n) allocates n i32 elements, fills them with 1 and returns
// their sum (== n for n >= 0). In IREE 3.13 fill lengths and load indices
// count elements, the allocation size counts bytes.
vm.module @buffer_reduce {
  vm.export @buffer_reduce
  vm.func @buffer_reduce(%n : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c0_i64 = vm.const.i64 0
    %c1_i64 = vm.const.i64 1
    %c4_i64 = vm.const.i64 4
    %alignment = vm.const.i32 16
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %bytes = vm.mul.i64 %count, %c4_i64 : i64
    %buf = vm.buffer.alloc %bytes, %alignment : !vm.buffer
    vm.buffer.fill.i32 %buf, %c0_i64, %count, %c1 : i32 -> !vm.buffer
    vm.br ^header(%c0_i64, %c0 : i64, i32)
  ^header(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.i32 %buf[%i] : !vm.buffer -> i32
    %acc_next = vm.add.i32 %acc, %v : i32
    %i_next = vm.add.i64 %i, %c1_i64 : i64
    vm.br ^header(%i_next, %acc_next : i64, i32)
  ^done:
    vm.return %acc : i32
  }
}
