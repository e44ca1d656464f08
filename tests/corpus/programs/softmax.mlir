// corpus-inputs: --input=4x16xf32=2
// Row-wise softmax over a 4x16 f32 tensor (1/16 everywhere for splat input).
func.func @main(%x : tensor<4x16xf32>) -> tensor<4x16xf32> {
  %empty = tensor.empty() : tensor<4x16xf32>
  %out = linalg.softmax dimension(1) ins(%x : tensor<4x16xf32>) outs(%empty : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %out : tensor<4x16xf32>
}
