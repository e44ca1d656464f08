// corpus-inputs: --input=128x128xf32=0.5 --input=128x128xf32=0.25
// The benchmark matmul: 128x128 @ 128x128 f32 with a zero-filled accumulator,
// compiled as a whole program in each form (VMVX scalar, data-tiled with
// microkernels, inline) and for llvm-cpu.
func.func @main(%a: tensor<128x128xf32>, %b: tensor<128x128xf32>) -> tensor<128x128xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x128xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<128x128xf32>) -> tensor<128x128xf32>
  %r = linalg.matmul ins(%a, %b : tensor<128x128xf32>, tensor<128x128xf32>) outs(%f : tensor<128x128xf32>) -> tensor<128x128xf32>
  return %r : tensor<128x128xf32>
}
