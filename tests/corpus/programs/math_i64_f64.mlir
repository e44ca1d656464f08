// i64 and f64 elementwise math: (a * b + 7) and sqrt(|x|) * exp(-x*x).
func.func @main(%a: tensor<32xi64>, %b: tensor<32xi64>, %x: tensor<32xf64>) -> (tensor<32xi64>, tensor<32xf64>) {
  %ei = tensor.empty() : tensor<32xi64>
  %ef = tensor.empty() : tensor<32xf64>
  %ri = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                        iterator_types = ["parallel"]}
      ins(%a, %b : tensor<32xi64>, tensor<32xi64>) outs(%ei : tensor<32xi64>) {
  ^bb0(%p: i64, %q: i64, %o: i64):
    %c7 = arith.constant 7 : i64
    %m = arith.muli %p, %q : i64
    %s = arith.addi %m, %c7 : i64
    linalg.yield %s : i64
  } -> tensor<32xi64>
  %rf = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                        iterator_types = ["parallel"]}
      ins(%x : tensor<32xf64>) outs(%ef : tensor<32xf64>) {
  ^bb0(%v: f64, %o: f64):
    %av = math.absf %v : f64
    %sq = math.sqrt %av : f64
    %vv = arith.mulf %v, %v : f64
    %nv = arith.negf %vv : f64
    %ex = math.exp %nv : f64
    %r = arith.mulf %sq, %ex : f64
    linalg.yield %r : f64
  } -> tensor<32xf64>
  return %ri, %rf : tensor<32xi64>, tensor<32xf64>
}
