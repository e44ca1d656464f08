// Importer for tests/test_ref_groups.py: keeps a buffer that buffer_maker allocated in a
// ref global (keep), returns it (get), reads it (first_byte), and churns buffer_maker's
// allocations without keeping them (churn: n buffers of 4096 bytes); keep_across_tick
// holds the buffer in a register across a call of the Python import keeper_host.tick.
vm.module @buffer_keeper {
  vm.import private @buffer_maker.make(%n : i64, %v : i32) -> !vm.buffer
  vm.import private @keeper_host.tick(%x : i32) -> i32
  vm.global.ref private mutable @kept : !vm.buffer
  vm.export @keep
  vm.func @keep(%n : i64, %v : i32) {
    %b = vm.call @buffer_maker.make(%n, %v) : (i64, i32) -> !vm.buffer
    vm.global.store.ref %b, @kept : !vm.buffer
    vm.return
  }
  vm.export @keep_across_tick
  vm.func @keep_across_tick(%n : i64, %v : i32) -> i32 {
    %b = vm.call @buffer_maker.make(%n, %v) : (i64, i32) -> !vm.buffer
    %t = vm.call @keeper_host.tick(%v) : (i32) -> i32
    vm.global.store.ref %b, @kept : !vm.buffer
    vm.return %t : i32
  }
  vm.export @get
  vm.func @get() -> !vm.buffer {
    %b = vm.global.load.ref @kept : !vm.buffer
    vm.return %b : !vm.buffer
  }
  vm.export @churn
  vm.func @churn(%n : i32) {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %size = vm.const.i64 4096
    vm.br ^loop(%c0 : i32)
  ^loop(%i : i32):
    %b = vm.call @buffer_maker.make(%size, %i) : (i64, i32) -> !vm.buffer
    %i2 = vm.add.i32 %i, %c1 : i32
    %more = vm.cmp.lt.i32.s %i2, %n : i32
    vm.cond_br %more, ^loop(%i2 : i32), ^done
  ^done:
    vm.return
  }
  vm.export @first_byte
  vm.func @first_byte() -> i32 {
    %b = vm.global.load.ref @kept : !vm.buffer
    %c0 = vm.const.i64.zero
    %x = vm.buffer.load.i8.u %b[%c0] : !vm.buffer -> i32
    vm.return %x : i32
  }
}
