// corpus-inputs: --input=4x8xi64=-123456789012 --input=4x8xi64=97 --input=4x8xf64=2.5
// corpus-flags: --iree-input-demote-f64-to-f32=false
// i64 and f64 elementwise math. By default iree-compile demotes f64 to f32
// (and rewrites the public signature to f32); the flag above keeps real f64
// code in the dispatch, so the VMVX executable uses ext_f64 opcodes.
func.func @main(%a : tensor<4x8xi64>, %b : tensor<4x8xi64>, %x : tensor<4x8xf64>) -> (tensor<4x8xi64>, tensor<4x8xf64>) {
  %ei = tensor.empty() : tensor<4x8xi64>
  %ef = tensor.empty() : tensor<4x8xf64>
  %r0, %r1 = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%a, %b, %x : tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xf64>)
      outs(%ei, %ef : tensor<4x8xi64>, tensor<4x8xf64>) {
  ^bb0(%p : i64, %q : i64, %v : f64, %o0 : i64, %o1 : f64):
    %c3 = arith.constant 3 : i64
    %m = arith.muli %p, %q : i64
    %d = arith.divsi %m, %q : i64
    %r = arith.remsi %p, %q : i64
    %sh = arith.shrsi %m, %c3 : i64
    %x1 = arith.xori %sh, %d : i64
    %s = arith.addi %x1, %r : i64
    %mx = arith.maxsi %s, %p : i64
    %fq = arith.sitofp %q : i64 to f64
    %sq = math.sqrt %v : f64
    %ex = math.exp %v : f64
    %sn = math.sin %v : f64
    %pw = math.powf %v, %sq : f64
    %t0 = arith.addf %sq, %ex : f64
    %t1 = arith.mulf %t0, %sn : f64
    %t2 = arith.divf %t1, %fq : f64
    %t3 = arith.subf %t2, %pw : f64
    linalg.yield %mx, %t3 : i64, f64
  } -> (tensor<4x8xi64>, tensor<4x8xf64>)
  return %r0, %r1 : tensor<4x8xi64>, tensor<4x8xf64>
}
