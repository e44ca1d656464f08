// Divisions by the results of a pure import called with constants (like IREE's data-tiling
// kernels and vmvx.query_tile_sizes.2d). tests/test_constant_folding.py serves m.tiles from
// Python, marked pure or not, and compares the folded code against the unfolded code.
vm.module @pure_import_divisors {
  vm.import private @m.tiles(%size : i64, %flags : i32) -> (i64, i64)
  vm.import private @m.tiles32(%flags : i32) -> (i32, i32)

  vm.export @split
  vm.func @split(%x : i64) -> (i64, i64, i64, i64, i64, i64) {
    %c8 = vm.const.i64 8
    %f = vm.const.i32 3
    %t0, %t1 = vm.call @m.tiles(%c8, %f) : (i64, i32) -> (i64, i64)
    %p = vm.mul.i64 %t0, %t1 : i64
    %q = vm.div.i64.s %x, %t0 : i64
    %r = vm.rem.i64.s %x, %t0 : i64
    %u = vm.div.i64.u %x, %p : i64
    %v = vm.rem.i64.u %x, %t1 : i64
    %w = vm.div.i64.s %x, %p : i64
    %z = vm.rem.i64.s %x, %p : i64
    vm.return %q, %r, %u, %v, %w, %z : i64, i64, i64, i64, i64, i64
  }

  vm.export @split32
  vm.func @split32(%x : i32) -> (i32, i32, i32, i32) {
    %f = vm.const.i32 3
    %a, %b = vm.call @m.tiles32(%f) : (i32) -> (i32, i32)
    %q = vm.div.i32.s %x, %a : i32
    %r = vm.rem.i32.s %x, %a : i32
    %u = vm.div.i32.u %x, %b : i32
    %v = vm.rem.i32.u %x, %b : i32
    vm.return %q, %r, %u, %v : i32, i32, i32, i32
  }
}
