// corpus-expect: load-fails
// vm.cond_break alone. IREE 3.13 serializes it as opcode + branch target only
// (the condition operand is not encoded, see VM_CondBreakOp's `encoding` in
// VMOps.td) while the 3.13 runtime verifier expects the condition register
// first, so loading this module fails with "bytecode data overrun". Kept as a
// robustness input: a loader must reject it with an error, not crash.
vm.module @cond_break {
  // Would return x + 1 with a debug break when c != 0.
  vm.export @cond_break
  vm.func @cond_break(%c : i32, %x : i32) -> i32 {
    %one = vm.const.i32 1
    %x1 = vm.add.i32 %x, %one : i32
    vm.cond_break %c, ^after(%x1 : i32)
  ^after(%y : i32):
    vm.return %y : i32
  }
}
