/* C reference for tests/corpus/vm/loop_sum.mlir.
 *
 * loop_sum(n) = 0 + 1 + ... + (n - 1) in i32 wrap-around arithmetic; n <= 0 gives 0.
 * The loop has the VM code's shape (guard, then a do-while carrying i and acc), with
 * unsigned arithmetic for the wrap-around. The empty asm keeps the accumulator a real
 * per-iteration add: without it the compiler may vectorise the reduction or replace it
 * with a closed form, which would measure something the VM code cannot do.
 */
#include <stdint.h>

int32_t loop_sum(int32_t n) {
    uint32_t i = 0, acc = 0;
    if (n <= 0)
        return 0;
    do {
        acc += i;
        __asm__ volatile("" : "+r"(acc));
        i += 1;
    } while ((int32_t)i < n);
    return (int32_t)acc;
}
