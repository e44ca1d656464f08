// Debug-only ops: trace, print and break are kept by default (the compiler
// strips them only with --iree-vm-bytecode-module-strip-debug-ops); with no
// debugger attached break just continues at its successor. vm.cond_break is
// in cond_break.mlir because 3.13 encodes it in a form its own runtime
// rejects; vm.yield is in yield.mlir.
vm.module @debug_ops {
  // Traces its arguments, prints a message, then returns a * b.
  vm.export @trace_print
  vm.func @trace_print(%a : i32, %b : f32) -> f32 {
    vm.trace "trace_print.args"(%a, %b) : i32, f32
    %fa = vm.cast.si32.f32 %a : i32 -> f32
    %r = vm.mul.f32 %fa, %b : f32
    vm.print "trace_print.result"(%r) : f32
    vm.return %r : f32
  }

  // Unconditional debug break (a no-op without a debugger) carrying a block
  // argument: returns x + 1.
  vm.export @break_through
  vm.func @break_through(%x : i32) -> i32 {
    %one = vm.const.i32 1
    %x1 = vm.add.i32 %x, %one : i32
    vm.break ^after(%x1 : i32)
  ^after(%y : i32):
    vm.return %y : i32
  }
}
