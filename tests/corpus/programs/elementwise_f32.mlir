// corpus-inputs: --input=16x16xf32=1.5 --input=16x16xf32=-0.75 --input=16x16xf32=2
// A fused chain of f32 elementwise ops over 16x16: relu(a * b + c), then
// exp/tanh/sqrt/floor mixes, a compare + select and a division.
func.func @main(%a : tensor<16x16xf32>, %b : tensor<16x16xf32>, %c : tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %empty = tensor.empty() : tensor<16x16xf32>
  %r0, %r1 = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%a, %b, %c : tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>)
      outs(%empty, %empty : tensor<16x16xf32>, tensor<16x16xf32>) {
  ^bb0(%x : f32, %y : f32, %z : f32, %o0 : f32, %o1 : f32):
    %zero = arith.constant 0.0 : f32
    %half = arith.constant 0.5 : f32
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %m, %z : f32
    %relu = arith.maximumf %s, %zero : f32
    %e = math.exp %y : f32
    %t = math.tanh %x : f32
    %q = math.sqrt %z : f32
    %f = math.floor %s : f32
    %lt = arith.cmpf olt, %x, %y : f32
    %sel = arith.select %lt, %e, %t : f32
    %d = arith.divf %sel, %z : f32
    %n = arith.negf %f : f32
    %ab = math.absf %n : f32
    %u = arith.addf %d, %q : f32
    %v = arith.mulf %u, %half : f32
    %w = arith.subf %v, %ab : f32
    %mn = arith.minimumf %w, %relu : f32
    linalg.yield %relu, %mn : f32, f32
  } -> (tensor<16x16xf32>, tensor<16x16xf32>)
  return %r0, %r1 : tensor<16x16xf32>, tensor<16x16xf32>
}
