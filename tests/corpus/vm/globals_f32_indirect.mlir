// corpus-expect: verify-fails
// IREE 3.13 encodes vm.global.load.indirect.f32 with the *f64* opcode and an odd register
// (iree-dump-module shows `%i1:2 = vm.global.load.indirect.f64`); the 3.13 interpreter runs
// it and returns the wrong bits. splatjit's verifier rejects the module (odd f64 register).
vm.module @globals_f32_indirect {
  vm.global.f32 private mutable @g_f32 = 0.5 : f32

  vm.export @load_indirect_f32
  vm.func @load_indirect_f32(%addr : i32) -> f32 {
    %r = vm.global.load.indirect.f32 %addr : i32 -> f32
    vm.return %r : f32
  }

  // Stores v at addr and reads it back through the same address.
  vm.export @store_indirect_f32
  vm.func @store_indirect_f32(%addr : i32, %v : f32) -> f32 {
    vm.global.store.indirect.f32 %v, %addr : f32 -> i32
    %r = vm.global.load.indirect.f32 %addr : i32 -> f32
    vm.return %r : f32
  }

}
