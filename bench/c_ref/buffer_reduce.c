/* C reference for tests/corpus/vm/buffer_reduce.mlir.
 *
 * buffer_reduce(n) allocates n zeroed i32 elements (calloc: 16-byte aligned and zeroed, like
 * vm.buffer.alloc), fills them with 1 (vm.buffer.fill.i32) and returns their i32 wrap-around
 * sum (== n for n >= 0). Returns -1 if the allocation fails. The fill and the reduction are
 * separate loops, like the VM code; the reduction indexes with i64 as the VM code does.
 */
#include <stdint.h>
#include <stdlib.h>

int32_t buffer_reduce(int32_t n) {
    int64_t count = n;
    if (count < 0)
        count = 0;
    uint32_t *buf = calloc(count ? (size_t)count : 1, 4);
    if (!buf)
        return -1;
    for (int64_t i = 0; i < count; i++)
        buf[i] = 1;
    uint32_t acc = 0;
    for (int64_t i = 0; i < count; i++) {
        acc += buf[i];
        __asm__ volatile("" : "+r"(acc));
    }
    free(buf);
    return (int32_t)acc;
}
