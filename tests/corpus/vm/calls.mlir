// Internal calls: multiple results, mixed register banks, ref arguments and
// results, register pressure across calls, calls kept only for their trap.
// Helpers are private and #util.inline.never so the inliner keeps the vm.call.
// Recursive calls live in recursion.mlir (the 3.13 vm pipeline hangs on them).
vm.module @calls {
  // Returns (a / b, a % b) signed; b == 0 traps.
  vm.func private @divmod(%a : i32, %b : i32) -> (i32, i32) attributes {inlining_policy = #util.inline.never} {
    %q = vm.div.i32.s %a, %b : i32
    %r = vm.rem.i32.s %a, %b : i32
    vm.return %q, %r : i32, i32
  }

  // Both results of an internal two-result call, returned as two results.
  vm.export @divmod2
  vm.func @divmod2(%a : i32, %b : i32) -> (i32, i32) {
    %q, %r = vm.call @divmod(%a, %b) : (i32, i32) -> (i32, i32)
    vm.return %q, %r : i32, i32
  }

  // q * 1000 + r from the two-result helper.
  vm.export @divmod_packed
  vm.func @divmod_packed(%a : i32, %b : i32) -> i32 {
    %q, %r = vm.call @divmod(%a, %b) : (i32, i32) -> (i32, i32)
    %k = vm.const.i32 1000
    %qk = vm.mul.i32 %q, %k : i32
    %s = vm.add.i32 %qk, %r : i32
    vm.return %s : i32
  }

  // One value of each bank in, permuted out.
  vm.func private @rotate4(%a : i32, %b : i64, %c : f32, %d : f64) -> (f64, i32, i64, f32) attributes {inlining_policy = #util.inline.never} {
    vm.return %d, %a, %b, %c : f64, i32, i64, f32
  }

  vm.export @mixed_banks
  vm.func @mixed_banks(%a : i32, %b : i64, %c : f32, %d : f64) -> (i32, i64, f32, f64) {
    %d1, %a1, %b1, %c1 = vm.call @rotate4(%a, %b, %c, %d) : (i32, i64, f32, f64) -> (f64, i32, i64, f32)
    vm.return %a1, %b1, %c1, %d1 : i32, i64, f32, f64
  }

  // Weighted sum of ten arguments: sum(k * x_k) for k = 1..10.
  vm.func private @weigh10(%x1 : i32, %x2 : i32, %x3 : i32, %x4 : i32, %x5 : i32,
                           %x6 : i32, %x7 : i32, %x8 : i32, %x9 : i32, %x10 : i32) -> i32 attributes {inlining_policy = #util.inline.never} {
    %c2 = vm.const.i32 2
    %c3 = vm.const.i32 3
    %c4 = vm.const.i32 4
    %c5 = vm.const.i32 5
    %c6 = vm.const.i32 6
    %c7 = vm.const.i32 7
    %c8 = vm.const.i32 8
    %c9 = vm.const.i32 9
    %c10 = vm.const.i32 10
    %s1 = vm.fma.i32 %x2, %c2, %x1 : i32
    %s2 = vm.fma.i32 %x3, %c3, %s1 : i32
    %s3 = vm.fma.i32 %x4, %c4, %s2 : i32
    %s4 = vm.fma.i32 %x5, %c5, %s3 : i32
    %s5 = vm.fma.i32 %x6, %c6, %s4 : i32
    %s6 = vm.fma.i32 %x7, %c7, %s5 : i32
    %s7 = vm.fma.i32 %x8, %c8, %s6 : i32
    %s8 = vm.fma.i32 %x9, %c9, %s7 : i32
    %s9 = vm.fma.i32 %x10, %c10, %s8 : i32
    vm.return %s9 : i32
  }

  // Calls weigh10 with the arguments in two orders; values live across both
  // calls. Returns weigh10(a..j) - weigh10(j..a) = 9 * (j - a) + 7 * (i - b) + ...
  vm.export @many_args
  vm.func @many_args(%a : i32, %b : i32, %c : i32, %d : i32, %e : i32,
                     %f : i32, %g : i32, %h : i32, %i : i32, %j : i32) -> i32 {
    %x = vm.call @weigh10(%a, %b, %c, %d, %e, %f, %g, %h, %i, %j) : (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32
    %y = vm.call @weigh10(%j, %i, %h, %g, %f, %e, %d, %c, %b, %a) : (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32
    %r = vm.sub.i32 %x, %y : i32
    vm.return %r : i32
  }

  // Sum of i*i for i < n via a helper called in a loop; f32 accumulator.
  vm.func private @square_f32(%x : f32) -> f32 attributes {inlining_policy = #util.inline.never} {
    %r = vm.mul.f32 %x, %x : f32
    vm.return %r : f32
  }

  vm.export @sum_squares_f32
  vm.func @sum_squares_f32(%n : i32) -> f32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %z = vm.const.f32.zero
    vm.br ^loop(%c0, %z : i32, f32)
  ^loop(%i : i32, %acc : f32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %fi = vm.cast.si32.f32 %i : i32 -> f32
    %sq = vm.call @square_f32(%fi) : (f32) -> f32
    %acc1 = vm.add.f32 %acc, %sq : f32
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %acc1 : i32, f32)
  ^done:
    vm.return %acc : f32
  }

  // Ref arguments and results through a call: returns the longer buffer
  // (the first on ties).
  vm.func private @longer(%a : !vm.buffer, %b : !vm.buffer) -> !vm.buffer attributes {inlining_policy = #util.inline.never} {
    %la = vm.buffer.length %a : !vm.buffer -> i64
    %lb = vm.buffer.length %b : !vm.buffer -> i64
    %shorter = vm.cmp.lt.i64.s %la, %lb : i64
    %r = vm.select.ref %shorter, %b, %a : !vm.buffer
    vm.return %r : !vm.buffer
  }

  // Allocates buffers of n and m bytes and returns the length of the longer.
  vm.export @longer_length
  vm.func @longer_length(%n : i64, %m : i64) -> i64 {
    %align = vm.const.i32 16
    %a = vm.buffer.alloc %n, %align : !vm.buffer
    %b = vm.buffer.alloc %m, %align : !vm.buffer
    %r = vm.call @longer(%a, %b) : (!vm.buffer, !vm.buffer) -> !vm.buffer
    %l = vm.buffer.length %r : !vm.buffer -> i64
    vm.return %l : i64
  }

  // Passes caller buffers straight through the helper.
  vm.export @longer_of
  vm.func @longer_of(%a : !vm.buffer, %b : !vm.buffer) -> !vm.buffer {
    %r = vm.call @longer(%a, %b) : (!vm.buffer, !vm.buffer) -> !vm.buffer
    vm.return %r : !vm.buffer
  }

  // A call whose results are all discarded but which may trap: the call stays.
  vm.export @call_for_effect
  vm.func @call_for_effect(%a : i32, %b : i32) -> i32 {
    %q, %r = vm.call @divmod(%a, %b) : (i32, i32) -> (i32, i32)
    vm.return %a : i32
  }

  // No arguments, no results.
  vm.func private @nothing() attributes {inlining_policy = #util.inline.never} {
    vm.return
  }

  vm.export @call_void
  vm.func @call_void(%a : i32) -> i32 {
    vm.call @nothing() : () -> ()
    vm.return %a : i32
  }
}
