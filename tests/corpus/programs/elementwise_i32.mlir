// out = ((a + b) * 3) xor (a >> 2), select(a < b, a, b) added, on 4x16 i32.
func.func @main(%a: tensor<4x16xi32>, %b: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %empty = tensor.empty() : tensor<4x16xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<4x16xi32>, tensor<4x16xi32>) outs(%empty : tensor<4x16xi32>) {
  ^bb0(%x: i32, %y: i32, %o: i32):
    %c3 = arith.constant 3 : i32
    %c2 = arith.constant 2 : i32
    %s = arith.addi %x, %y : i32
    %m = arith.muli %s, %c3 : i32
    %sh = arith.shrsi %x, %c2 : i32
    %xo = arith.xori %m, %sh : i32
    %lt = arith.cmpi slt, %x, %y : i32
    %mn = arith.select %lt, %x, %y : i32
    %r = arith.addi %xo, %mn : i32
    linalg.yield %r : i32
  } -> tensor<4x16xi32>
  return %r : tensor<4x16xi32>
}
