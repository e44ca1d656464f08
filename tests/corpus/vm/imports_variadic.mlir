// Imports with tuple, variadic and yieldable signatures, modelled on IREE's
// vmvx and hal import tables. Every import is `optional`, so the module loads
// into a context that provides none of them; each export checks
// vm.import.resolved first and returns a sentinel (-1 / -1.0 / 0) when its
// import is missing.
//
// Import providers: `corpus_host.*` use only fixed-arity signatures, so a
// Python module (iree.runtime.PyModuleInterface) can implement them;
// `corpus_variadic.*` have variadic spans, which PyModuleInterface cannot
// implement, so in the oracle they stay unresolved. Calling conventions as
// encoded by the compiler are noted per import.
vm.module @imports_variadic {
  // "0rIIIrIIIrIIIII_v": tuple<i64, i64> arguments are flattened.
  // out[i, j] = lhs[i, j] + rhs[i, j] over f32 elements with element strides.
  vm.import private optional @corpus_host.add_2d_f32(
    %lhs : !vm.buffer, %lhs_offset : i64, %lhs_strides : tuple<i64, i64>,
    %rhs : !vm.buffer, %rhs_offset : i64, %rhs_strides : tuple<i64, i64>,
    %out : !vm.buffer, %out_offset : i64, %out_strides : tuple<i64, i64>,
    %sizes : tuple<i64, i64>)

  // "0ifIF_F": one argument per register bank.
  vm.import private optional @corpus_host.mix(%a : i32, %b : f32, %c : i64, %d : f64) -> f64

  // "0r_r": ref in, ref out.
  vm.import private optional @corpus_host.echo(%b : !vm.buffer) -> !vm.buffer

  // "0i_ii": two results.
  vm.import private optional @corpus_host.split(%x : i32) -> (i32, i32)

  // A yieldable import: calls to it become vm.call.yieldable.
  vm.import private optional @corpus_host.slow_inc(%x : i32) -> i32 attributes {vm.yield}

  // "0iCiD_i": a fixed i32 then a variadic span of i32.
  vm.import private optional @corpus_variadic.sum_i32(%base : i32, %values : i32 ...) -> i32

  // "0CiDCfD_f": two variadic spans of different banks.
  vm.import private optional @corpus_variadic.dot(%is : i32 ..., %fs : f32 ...) -> f32

  // "0rrIiiiICiDCiirIID_v": shaped like hal.command_buffer.dispatch with
  // variadic push constants and variadic (slot, reserved, buffer, offset,
  // length) binding tuples.
  vm.import private optional @corpus_variadic.dispatch(
    %command_buffer : !vm.ref<?>, %executable : !vm.ref<?>, %entry : i64,
    %x : i32, %y : i32, %z : i32, %flags : i64,
    %constants : i32 ...,
    %bindings : tuple<i32, i32, !vm.buffer, i64, i64> ...)

  // "0iCrD_r": shaped like hal.fence.join (timeout + variadic refs).
  vm.import private optional @corpus_variadic.join(%timeout : i32, %refs : !vm.buffer ...) -> !vm.buffer

  // A yieldable variadic import: calls become vm.call.variadic.yieldable.
  vm.import private optional @corpus_variadic.wait_all(%timeout : i32, %values : i32 ...) -> i32 attributes {vm.yield}

  // Which import providers resolved: bit 0 corpus_host, bit 1 corpus_variadic.
  vm.export @resolved_mask
  vm.func @resolved_mask() -> i32 {
    %h = vm.import.resolved @corpus_host.add_2d_f32 : i32
    %v = vm.import.resolved @corpus_variadic.sum_i32 : i32
    %two = vm.const.i32 2
    %v2 = vm.mul.i32 %v, %two : i32
    %r = vm.or.i32 %h, %v2 : i32
    vm.return %r : i32
  }

  // out = lhs + rhs for dense row-major rows x cols f32 matrices; returns 1,
  // or 0 without calling when the import is missing.
  vm.export @add_2d
  vm.func @add_2d(%lhs : !vm.buffer, %rhs : !vm.buffer, %out : !vm.buffer, %rows : i64, %cols : i64) -> i32 {
    %ok = vm.import.resolved @corpus_host.add_2d_f32 : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    vm.call @corpus_host.add_2d_f32(%lhs, %c0, %cols, %c1, %rhs, %c0, %cols, %c1, %out, %c0, %cols, %c1, %rows, %cols) : (!vm.buffer, i64, i64, i64, !vm.buffer, i64, i64, i64, !vm.buffer, i64, i64, i64, i64, i64) -> ()
    %one = vm.const.i32 1
    vm.return %one : i32
  ^missing:
    %zero = vm.const.i32 0
    vm.return %zero : i32
  }

  vm.export @mix
  vm.func @mix(%a : i32, %b : f32, %c : i64, %d : f64) -> f64 {
    %ok = vm.import.resolved @corpus_host.mix : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %r = vm.call @corpus_host.mix(%a, %b, %c, %d) : (i32, f32, i64, f64) -> f64
    vm.return %r : f64
  ^missing:
    %m1 = vm.const.f64 -1.0
    vm.return %m1 : f64
  }

  vm.export @echo
  vm.func @echo(%b : !vm.buffer) -> !vm.buffer {
    %ok = vm.import.resolved @corpus_host.echo : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %r = vm.call @corpus_host.echo(%b) : (!vm.buffer) -> !vm.buffer
    vm.return %r : !vm.buffer
  ^missing:
    %null = vm.const.ref.zero : !vm.buffer
    vm.return %null : !vm.buffer
  }

  // hi * 1000 + lo from the two-result import.
  vm.export @split
  vm.func @split(%x : i32) -> i32 {
    %ok = vm.import.resolved @corpus_host.split : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %hi, %lo = vm.call @corpus_host.split(%x) : (i32) -> (i32, i32)
    %k = vm.const.i32 1000
    %h = vm.mul.i32 %hi, %k : i32
    %r = vm.add.i32 %h, %lo : i32
    vm.return %r : i32
  ^missing:
    %m1 = vm.const.i32 -1
    vm.return %m1 : i32
  }

  // Three chained yieldable calls.
  vm.export @slow_add3
  vm.func @slow_add3(%x : i32) -> i32 {
    %ok = vm.import.resolved @corpus_host.slow_inc : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %a = vm.call @corpus_host.slow_inc(%x) : (i32) -> i32
    %b = vm.call @corpus_host.slow_inc(%a) : (i32) -> i32
    %c = vm.call @corpus_host.slow_inc(%b) : (i32) -> i32
    vm.return %c : i32
  ^missing:
    %m1 = vm.const.i32 -1
    vm.return %m1 : i32
  }

  // base + a + b + c, and the same with an empty span, added.
  vm.export @sum3
  vm.func @sum3(%base : i32, %a : i32, %b : i32, %c : i32) -> i32 {
    %ok = vm.import.resolved @corpus_variadic.sum_i32 : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %s = vm.call.variadic @corpus_variadic.sum_i32(%base, [%a, %b, %c]) : (i32, i32 ...) -> i32
    %e = vm.call.variadic @corpus_variadic.sum_i32(%base, []) : (i32, i32 ...) -> i32
    %r = vm.add.i32 %s, %e : i32
    vm.return %r : i32
  ^missing:
    %m1 = vm.const.i32 -1
    vm.return %m1 : i32
  }

  vm.export @dot2
  vm.func @dot2(%i0 : i32, %i1 : i32, %f0 : f32, %f1 : f32) -> f32 {
    %ok = vm.import.resolved @corpus_variadic.dot : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %r = vm.call.variadic @corpus_variadic.dot([%i0, %i1], [%f0, %f1]) : (i32 ..., f32 ...) -> f32
    vm.return %r : f32
  ^missing:
    %m1 = vm.const.f32 -1.0
    vm.return %m1 : f32
  }

  // Two bindings and three push constants, like a real HAL dispatch.
  vm.export @dispatch
  vm.func @dispatch(%cb : !vm.ref<?>, %exe : !vm.ref<?>, %buf : !vm.buffer, %n : i32) -> i32 {
    %ok = vm.import.resolved @corpus_variadic.dispatch : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c0_i64 = vm.const.i64 0
    %c64 = vm.const.i64 64
    %entry = vm.const.i64 3
    %flags = vm.const.i64 0
    vm.call.variadic @corpus_variadic.dispatch(%cb, %exe, %entry, %n, %c1, %c1, %flags, [%n, %c0, %c1], [(%c0, %c0, %buf, %c0_i64, %c64), (%c1, %c0, %buf, %c64, %c64)]) : (!vm.ref<?>, !vm.ref<?>, i64, i32, i32, i32, i64, i32 ..., tuple<i32, i32, !vm.buffer, i64, i64> ...)
    %one = vm.const.i32 1
    vm.return %one : i32
  ^missing:
    %zero = vm.const.i32 0
    vm.return %zero : i32
  }

  vm.export @join
  vm.func @join(%a : !vm.buffer, %b : !vm.buffer) -> !vm.buffer {
    %ok = vm.import.resolved @corpus_variadic.join : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %t = vm.const.i32 100
    %r = vm.call.variadic @corpus_variadic.join(%t, [%a, %b, %a]) : (i32, !vm.buffer ...) -> !vm.buffer
    vm.return %r : !vm.buffer
  ^missing:
    %null = vm.const.ref.zero : !vm.buffer
    vm.return %null : !vm.buffer
  }

  vm.export @wait_all
  vm.func @wait_all(%a : i32, %b : i32) -> i32 {
    %ok = vm.import.resolved @corpus_variadic.wait_all : i32
    vm.cond_br %ok, ^call, ^missing
  ^call:
    %t = vm.const.i32 100
    %r = vm.call.variadic @corpus_variadic.wait_all(%t, [%a, %b]) : (i32, i32 ...) -> i32
    vm.return %r : i32
  ^missing:
    %m1 = vm.const.i32 -1
    vm.return %m1 : i32
  }
}
