// corpus-hazard: invoke-hangs
// Fiber yields. vm.yield branches to its successor and suspends the
// invocation; iree_vm_invoke is meant to resume it transparently. With
// iree.runtime 3.13 (Python VmContext.invoke and iree-run-module alike) any
// export that executes a vm.yield never returns, so these exports must only
// be run out of process with a timeout. The module itself compiles and loads.
vm.module @yield {
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
}
