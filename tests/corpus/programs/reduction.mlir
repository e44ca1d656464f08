// corpus-inputs: --input=8x16xf32=0.5
// Reductions over each axis of an 8x16 f32 tensor: row sums (over axis 1)
// and column maxima (over axis 0).
func.func @main(%x : tensor<8x16xf32>) -> (tensor<8xf32>, tensor<16xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e8 = tensor.empty() : tensor<8xf32>
  %e16 = tensor.empty() : tensor<16xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %max_init = linalg.fill ins(%ninf : f32) outs(%e16 : tensor<16xf32>) -> tensor<16xf32>
  %sums = linalg.reduce ins(%x : tensor<8x16xf32>) outs(%sum_init : tensor<8xf32>) dimensions = [1]
    (%in : f32, %acc : f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  %maxs = linalg.reduce ins(%x : tensor<8x16xf32>) outs(%max_init : tensor<16xf32>) dimensions = [0]
    (%in : f32, %acc : f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  return %sums, %maxs : tensor<8xf32>, tensor<16xf32>
}
