/* C reference for bench/matmul_scalar.mlir: a scalar f32 matmul C = A * B.
 *
 * A is m x k, B is k x n, C is m x n, all row-major f32. Each C element is accumulated from
 * 0.0f in k order as acc + a * b with two roundings. iree-compile folds the module's
 * vm.mul.f32 + vm.add.f32 into vm.fma.f32, but the 3.13 interpreter evaluates vm.fma.f32
 * unfused (a * b rounded, then + c), and that is the semantics splatjit follows; built with
 * -ffp-contract=off so the compiler does not fuse them either: results match bit for bit.
 */
#include <stdint.h>

void matmul(const float *a, const float *b, float *c, int32_t m, int32_t n, int32_t k) {
    for (int32_t i = 0; i < m; i++) {
        for (int32_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int32_t p = 0; p < k; p++)
                acc = acc + a[(int64_t)i * k + p] * b[(int64_t)p * n + j];
            c[(int64_t)i * n + j] = acc;
        }
    }
}
