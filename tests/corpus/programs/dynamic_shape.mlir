// corpus-inputs: --input=5x16xf32=-1.5
// A dynamic leading dimension: |x| + 1 elementwise over ?x16, plus the sum
// over the dynamic dimension (shape-dependent loop bounds at run time).
func.func @main(%x : tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<16xf32>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x16xf32>
  %empty = tensor.empty(%n) : tensor<?x16xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x16xf32>) outs(%empty : tensor<?x16xf32>) {
  ^bb0(%v : f32, %o : f32):
    %a = math.absf %v : f32
    %s = arith.addf %a, %one : f32
    linalg.yield %s : f32
  } -> tensor<?x16xf32>
  %e16 = tensor.empty() : tensor<16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e16 : tensor<16xf32>) -> tensor<16xf32>
  %sum = linalg.reduce ins(%y : tensor<?x16xf32>) outs(%init : tensor<16xf32>) dimensions = [0]
    (%in : f32, %acc : f32) {
      %t = arith.addf %in, %acc : f32
      linalg.yield %t : f32
    }
  return %y, %sum : tensor<?x16xf32>, tensor<16xf32>
}
