// Bench-only: a scalar f32 matmul "dispatch" written directly in the vm dialect.
// matmul_scalar(A, B, C, M, N, K) stores C[i, j] = sum_p A[i, p] * B[p, j] for row-major
// A (M x K), B (K x N), C (M x N) f32 buffers. Each element is accumulated from 0.0 in p
// order. iree-compile 3.13 folds the vm.mul.f32 + vm.add.f32 below into one vm.fma.f32, which
// its interpreter evaluates unfused (two roundings), so bench/c_ref/matmul.c's acc + a * b
// (built with -ffp-contract=off) matches bit for bit. Element indices are i64 (IREE 3.13
// load/store indices count elements); the dot loop carries the A and B indices.
vm.module @matmul_scalar {
  vm.export @matmul_scalar
  vm.func @matmul_scalar(%a : !vm.buffer, %b : !vm.buffer, %c : !vm.buffer,
                         %m32 : i32, %n32 : i32, %k32 : i32) {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %zero = vm.const.f32 0.0
    %m = vm.ext.i32.i64.s %m32 : i32 -> i64
    %n = vm.ext.i32.i64.s %n32 : i32 -> i64
    %k = vm.ext.i32.i64.s %k32 : i32 -> i64
    vm.br ^rows(%c0 : i64)
  ^rows(%i : i64):
    %row_more = vm.cmp.lt.i64.s %i, %m : i64
    vm.cond_br %row_more, ^row_body, ^done
  ^row_body:
    %a_row = vm.mul.i64 %i, %k : i64
    %c_row = vm.mul.i64 %i, %n : i64
    vm.br ^cols(%c0 : i64)
  ^cols(%j : i64):
    %col_more = vm.cmp.lt.i64.s %j, %n : i64
    vm.cond_br %col_more, ^col_body, ^row_next
  ^col_body:
    vm.br ^dot(%c0, %a_row, %j, %zero : i64, i64, i64, f32)
  ^dot(%p : i64, %ai : i64, %bi : i64, %acc : f32):
    %dot_more = vm.cmp.lt.i64.s %p, %k : i64
    vm.cond_br %dot_more, ^dot_body, ^store
  ^dot_body:
    %x = vm.buffer.load.f32 %a[%ai] : !vm.buffer -> f32
    %y = vm.buffer.load.f32 %b[%bi] : !vm.buffer -> f32
    %xy = vm.mul.f32 %x, %y : f32
    %acc_next = vm.add.f32 %acc, %xy : f32
    %p_next = vm.add.i64 %p, %c1 : i64
    %ai_next = vm.add.i64 %ai, %c1 : i64
    %bi_next = vm.add.i64 %bi, %n : i64
    vm.br ^dot(%p_next, %ai_next, %bi_next, %acc_next : i64, i64, i64, f32)
  ^store:
    %ci = vm.add.i64 %c_row, %j : i64
    vm.buffer.store.f32 %acc, %c[%ci] : f32 -> !vm.buffer
    %j_next = vm.add.i64 %j, %c1 : i64
    vm.br ^cols(%j_next : i64)
  ^row_next:
    %i_next = vm.add.i64 %i, %c1 : i64
    vm.br ^rows(%i_next : i64)
  ^done:
    vm.return
  }
}
