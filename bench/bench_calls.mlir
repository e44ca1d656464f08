// Bench-only: per-call cost of imported and internal calls, and per-invocation overhead.
// Import native_import_module.add_1 from tests/corpus/vm/native_import_module.mlir.
//   noop():                 nothing; the cost of one call from the host.
//   import_loop(x, n):      n chained calls of the imported add_1, returns x + n.
//   internal_loop(x, n):    n chained calls of a private, never-inlined add_1, returns x + n.
vm.module @bench_calls {
  vm.import private @native_import_module.add_1(%x : i32) -> i32

  vm.export @noop
  vm.func @noop() {
    vm.return
  }

  vm.export @import_loop
  vm.func @import_loop(%x : i32, %n : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %x : i32, i32)
  ^loop(%k : i32, %v : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %v1 = vm.call @native_import_module.add_1(%v) : (i32) -> i32
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^loop(%k1, %v1 : i32, i32)
  ^done:
    vm.return %v : i32
  }

  vm.func private @add_1(%x : i32) -> i32 attributes {inlining_policy = #util.inline.never} {
    %one = vm.const.i32 1
    %y = vm.add.i32 %x, %one : i32
    vm.return %y : i32
  }

  vm.export @internal_loop
  vm.func @internal_loop(%x : i32, %n : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %x : i32, i32)
  ^loop(%k : i32, %v : i32):
    %more = vm.cmp.lt.i32.s %k, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %v1 = vm.call @add_1(%v) : (i32) -> i32
    %k1 = vm.add.i32 %k, %c1 : i32
    vm.br ^loop(%k1, %v1 : i32, i32)
  ^done:
    vm.return %v : i32
  }
}
