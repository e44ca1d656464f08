// corpus-inputs: --input=16x16xi32=-7 --input=16x16xi32=3
// i32 elementwise integer ops over 16x16: wrapping arithmetic, signed and
// unsigned division/remainder (b must be non-zero), shifts, bitwise logic,
// min/max and compare + select.
func.func @main(%a : tensor<16x16xi32>, %b : tensor<16x16xi32>) -> (tensor<16x16xi32>, tensor<16x16xi32>) {
  %empty = tensor.empty() : tensor<16x16xi32>
  %r0, %r1 = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<16x16xi32>, tensor<16x16xi32>)
      outs(%empty, %empty : tensor<16x16xi32>, tensor<16x16xi32>) {
  ^bb0(%x : i32, %y : i32, %o0 : i32, %o1 : i32):
    %c1 = arith.constant 1 : i32
    %c5 = arith.constant 5 : i32
    %s = arith.addi %x, %y : i32
    %m = arith.muli %s, %x : i32
    %d = arith.divsi %m, %y : i32
    %r = arith.remsi %m, %y : i32
    %du = arith.divui %m, %y : i32
    %ru = arith.remui %m, %y : i32
    %sh = arith.shli %x, %c5 : i32
    %sr = arith.shrsi %x, %c1 : i32
    %su = arith.shrui %x, %c1 : i32
    %an = arith.andi %sh, %y : i32
    %or = arith.ori %sr, %an : i32
    %xo = arith.xori %or, %su : i32
    %mx = arith.maxsi %d, %r : i32
    %mn = arith.minui %du, %ru : i32
    %lt = arith.cmpi slt, %x, %y : i32
    %sel = arith.select %lt, %mx, %mn : i32
    %out0 = arith.subi %xo, %sel : i32
    linalg.yield %out0, %m : i32, i32
  } -> (tensor<16x16xi32>, tensor<16x16xi32>)
  return %r0, %r1 : tensor<16x16xi32>, tensor<16x16xi32>
}
