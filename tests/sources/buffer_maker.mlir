// Provider module for tests/test_ref_groups.py: make(n, v) allocates an n-byte buffer
// filled with the byte v and returns it (to Python, or natively to buffer_keeper);
// scratch(n) allocates without handing the buffer out.
vm.module @buffer_maker {
  vm.export @make
  vm.func @make(%n : i64, %v : i32) -> !vm.buffer {
    %c16 = vm.const.i32 16
    %c0 = vm.const.i64.zero
    %b = vm.buffer.alloc %n, %c16 : !vm.buffer
    vm.buffer.fill.i8 %b, %c0, %n, %v : i32 -> !vm.buffer
    vm.return %b : !vm.buffer
  }
  // A scalar export (a CPython builtin) that allocates: n bytes of 0xEE, first byte back.
  vm.export @scratch
  vm.func @scratch(%n : i64) -> i32 {
    %c16 = vm.const.i32 16
    %c0 = vm.const.i64.zero
    %ee = vm.const.i32 238
    %b = vm.buffer.alloc %n, %c16 : !vm.buffer
    vm.buffer.fill.i8 %b, %c0, %n, %ee : i32 -> !vm.buffer
    %x = vm.buffer.load.i8.u %b[%c0] : !vm.buffer -> i32
    vm.return %x : i32
  }
}
