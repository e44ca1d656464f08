// Module globals: i32/i64/f32/f64/ref, immutable and mutable, direct and
// indirect (address-taken) access, and an initializer. Global state persists
// across calls within one VmContext: differential tests must use a fresh
// context per sequence or replay the same call sequence on both sides.
vm.module @globals {
  vm.global.i32 private @k_i32 = 42 : i32
  vm.global.i64 private @k_i64 = -8589934592 : i64
  vm.global.f32 private @k_f32 = 1.5 : f32
  vm.global.f64 private @k_f64 = -2.75 : f64

  vm.global.i32 private mutable @g_i32 = 7 : i32
  vm.global.i32 private mutable @h_i32 : i32
  vm.global.i64 private mutable @g_i64 = 1099511627776 : i64
  vm.global.i64 private mutable @h_i64 : i64
  vm.global.f32 private mutable @g_f32 = 0.25 : f32
  vm.global.f32 private mutable @h_f32 : f32
  vm.global.f64 private mutable @g_f64 = 3.0 : f64
  vm.global.f64 private mutable @h_f64 : f64
  vm.global.ref private mutable @g_buf : !vm.buffer
  vm.global.ref private mutable @h_buf : !vm.buffer
  vm.global.i32 private mutable @init_count : i32

  vm.rodata private @blob dense<[1, 2, 3, 4]> : tensor<4xi32>

  // Runs once when the module is instantiated in a context.
  vm.initializer {
    %one = vm.const.i32 1
    %c = vm.global.load.i32 @init_count : i32
    %c1 = vm.add.i32 %c, %one : i32
    vm.global.store.i32 %c1, @init_count : i32
    %blob = vm.const.ref.rodata @blob : !vm.buffer
    vm.global.store.ref %blob, @h_buf : !vm.buffer
    vm.return
  }

  // 1 after instantiation: the initializer ran exactly once.
  vm.export @initializer_runs
  vm.func @initializer_runs() -> i32 {
    %c = vm.global.load.i32 @init_count : i32
    vm.return %c : i32
  }

  // a + 42 (immutable globals may be folded into constants; mutable ones not).
  vm.export @add_k_i32
  vm.func @add_k_i32(%a : i32) -> i32 {
    %k = vm.global.load.i32 @k_i32 : i32
    %r = vm.add.i32 %a, %k : i32
    vm.return %r : i32
  }

  // Adds a to @g_i32 and returns the new value (initially 7).
  vm.export @accumulate_i32
  vm.func @accumulate_i32(%a : i32) -> i32 {
    %g = vm.global.load.i32 @g_i32 : i32
    %k = vm.global.load.i32 @k_i32 : i32
    %t = vm.add.i32 %g, %a : i32
    vm.global.store.i32 %t, @g_i32 : i32
    %back = vm.global.load.i32 @g_i32 : i32
    %unused = vm.sub.i32 %back, %k : i32
    vm.return %back : i32
  }

  // Adds a to @g_i64 and returns the new value (initially 2^40).
  vm.export @accumulate_i64
  vm.func @accumulate_i64(%a : i64) -> i64 {
    %g = vm.global.load.i64 @g_i64 : i64
    %t = vm.add.i64 %g, %a : i64
    vm.global.store.i64 %t, @g_i64 : i64
    vm.return %t : i64
  }

  // Multiplies @g_f32 by a and returns the new value (initially 0.25).
  vm.export @scale_f32
  vm.func @scale_f32(%a : f32) -> f32 {
    %g = vm.global.load.f32 @g_f32 : f32
    %t = vm.mul.f32 %g, %a : f32
    vm.global.store.f32 %t, @g_f32 : f32
    vm.return %t : f32
  }

  // Adds a to @g_f64 and returns the new value (initially 3.0).
  vm.export @accumulate_f64
  vm.func @accumulate_f64(%a : f64) -> f64 {
    %g = vm.global.load.f64 @g_f64 : f64
    %t = vm.add.f64 %g, %a : f64
    vm.global.store.f64 %t, @g_f64 : f64
    vm.return %t : f64
  }

  // Sum of the four immutable globals as f64: 42 - 2^33 + 1.5 - 2.75.
  vm.export @sum_constants
  vm.func @sum_constants() -> f64 {
    %a = vm.global.load.i32 @k_i32 : i32
    %b = vm.global.load.i64 @k_i64 : i64
    %c = vm.global.load.f32 @k_f32 : f32
    %d = vm.global.load.f64 @k_f64 : f64
    %a64 = vm.ext.i32.i64.s %a : i32 -> i64
    %ab = vm.add.i64 %a64, %b : i64
    %abf = vm.cast.si64.f64 %ab : i64 -> f64
    %cf = vm.ext.f32.f64 %c : f32 -> f64
    %s = vm.add.f64 %abf, %cf : f64
    %r = vm.add.f64 %s, %d : f64
    vm.return %r : f64
  }

  // Indirect access. IREE 3.13 cannot serialize vm.global.address in bytecode
  // (the bytecode target no longer runs ordinal allocation, so the pseudo-op
  // is never rewritten), so addresses come from the caller as plain i32:
  // a byte offset into primitive global storage (i32/f32 globals are 4-byte,
  // i64/f64 8-byte aligned; the layout is compiler-chosen, read it with
  // iree-dump-module) or an ordinal into the ref global table. Offsets past
  // the storage trap.
  vm.export @load_indirect_i32
  vm.func @load_indirect_i32(%addr : i32) -> i32 {
    %r = vm.global.load.indirect.i32 %addr : i32 -> i32
    vm.return %r : i32
  }

  // Stores v at addr and reads it back through the same address.
  vm.export @store_indirect_i32
  vm.func @store_indirect_i32(%addr : i32, %v : i32) -> i32 {
    vm.global.store.indirect.i32 %v, %addr : i32 -> i32
    %r = vm.global.load.indirect.i32 %addr : i32 -> i32
    vm.return %r : i32
  }

  vm.export @load_indirect_i64
  vm.func @load_indirect_i64(%addr : i32) -> i64 {
    %r = vm.global.load.indirect.i64 %addr : i32 -> i64
    vm.return %r : i64
  }

  // Stores v at addr and reads it back through the same address.
  vm.export @store_indirect_i64
  vm.func @store_indirect_i64(%addr : i32, %v : i64) -> i64 {
    vm.global.store.indirect.i64 %v, %addr : i64 -> i32
    %r = vm.global.load.indirect.i64 %addr : i32 -> i64
    vm.return %r : i64
  }

  // load/store_indirect_f32 live in globals_f32_indirect.mlir: IREE 3.13 mis-encodes them.

  vm.export @load_indirect_f64
  vm.func @load_indirect_f64(%addr : i32) -> f64 {
    %r = vm.global.load.indirect.f64 %addr : i32 -> f64
    vm.return %r : f64
  }

  // Stores v at addr and reads it back through the same address.
  vm.export @store_indirect_f64
  vm.func @store_indirect_f64(%addr : i32, %v : f64) -> f64 {
    vm.global.store.indirect.f64 %v, %addr : f64 -> i32
    %r = vm.global.load.indirect.f64 %addr : i32 -> f64
    vm.return %r : f64
  }

  // Stores b into the ref global with ordinal `slot`, reads that slot back
  // and returns the byte length of what it holds (null traps).
  vm.export @indirect_ref
  vm.func @indirect_ref(%slot : i32, %b : !vm.buffer) -> i64 {
    vm.global.store.indirect.ref %b, %slot : !vm.buffer -> i32
    %r = vm.global.load.indirect.ref %slot : i32 -> !vm.buffer
    %n = vm.buffer.length %r : !vm.buffer -> i64
    vm.return %n : i64
  }

  // Returns whether the ref global with ordinal `slot` is non-null.
  vm.export @indirect_ref_nz
  vm.func @indirect_ref_nz(%slot : i32) -> i32 {
    %r = vm.global.load.indirect.ref %slot : i32 -> !vm.buffer
    %nz = vm.cmp.nz.ref %r : !vm.buffer
    vm.return %nz : i32
  }

  // Swaps b with the buffer held in @g_buf (initially null) and returns the old one.
  vm.export @swap_buffer
  vm.func @swap_buffer(%b : !vm.buffer) -> !vm.buffer {
    %old = vm.global.load.ref @g_buf : !vm.buffer
    vm.global.store.ref %b, @g_buf : !vm.buffer
    vm.return %old : !vm.buffer
  }

  // Element i of the rodata blob that the initializer stored into @h_buf
  // (unless an indirect store replaced it).
  vm.export @load_h_buf
  vm.func @load_h_buf(%i : i64) -> i32 {
    %b = vm.global.load.ref @h_buf : !vm.buffer
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }
}
