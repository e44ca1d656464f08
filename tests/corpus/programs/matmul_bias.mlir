// corpus-inputs: --input=4x8xf32=0.5 --input=8x16xf32=0.25 --input=16xf32=1
// f32 matmul followed by a broadcast bias add: (4x8) @ (8x16) + (16).
// With the splat inputs above every output element is 8 * 0.125 + 1 = 2.
func.func @main(%a : tensor<4x8xf32>, %b : tensor<8x16xf32>, %bias : tensor<16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x16xf32>) -> tensor<4x16xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<4x16xf32>) -> tensor<4x16xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<4x16xf32>, tensor<16xf32>) outs(%empty : tensor<4x16xf32>) {
  ^bb0(%x : f32, %y : f32, %o : f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}
