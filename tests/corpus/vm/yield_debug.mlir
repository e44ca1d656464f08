// Fiber yields and debug-only ops. vm.yield suspends the invocation and
// resumes at its successor (iree_vm_invoke resumes transparently). trace,
// print and break are kept by default (the compiler strips them only with
// --iree-vm-bytecode-module-strip-debug-ops); with no debugger attached
// break just continues at its successor. vm.cond_break is in cond_break.mlir
// because 3.13 encodes it in a form its own runtime rejects.
vm.module @yield_debug {
  // Yields n times in a loop, carrying an accumulator across each yield;
  // returns 0 + 1 + ... + (n - 1).
  vm.export @yield_loop
  vm.func @yield_loop(%n : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %c0 : i32, i32)
  ^loop(%i : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %acc1 = vm.add.i32 %acc, %i : i32
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.yield ^loop(%i1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // A single yield between two halves of a computation with live values of
  // every bank: returns (a + b) + (c + d) in f64.
  vm.export @yield_mixed
  vm.func @yield_mixed(%a : i32, %b : i64, %c : f32, %d : f64) -> f64 {
    %fa = vm.cast.si32.f32 %a : i32 -> f32
    %fb = vm.cast.si64.f64 %b : i64 -> f64
    vm.yield ^resume
  ^resume:
    %fa64 = vm.ext.f32.f64 %fa : f32 -> f64
    %fc64 = vm.ext.f32.f64 %c : f32 -> f64
    %s0 = vm.add.f64 %fa64, %fb : f64
    %s1 = vm.add.f64 %fc64, %d : f64
    %r = vm.add.f64 %s0, %s1 : f64
    vm.return %r : f64
  }

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
