/* C reference for tests/corpus/vm/call_imported_func.mlir (+ native_import_module.mlir).
 *
 * add_1 is reached through a volatile function pointer, so every call is a real indirect
 * call that the compiler can neither inline nor fold (the VM's imported call is an indirect
 * call through the module's import table).
 *   call_imported_func(x): 21 chained calls, returns x + 21 (i32 wrap-around).
 *   call_loop(x, n):       n chained calls, returns x + n; for the per-call cost.
 *   noop():                nothing; the floor of a ctypes call from Python.
 */
#include <stdint.h>

__attribute__((noinline)) static int32_t add_1(int32_t x) {
    return (int32_t)((uint32_t)x + 1u);
}

int32_t (*volatile add_1_ptr)(int32_t) = add_1;

int32_t call_imported_func(int32_t x) {
    for (int k = 0; k < 21; k++)
        x = add_1_ptr(x);
    return x;
}

int32_t call_loop(int32_t x, int32_t n) {
    for (int32_t k = 0; k < n; k++)
        x = add_1_ptr(x);
    return x;
}

void noop(void) {}
