// !vm.buffer ops for every element width. Load/store indices, fill offsets and
// fill lengths count ELEMENTS of the op's width (IREE 3.13); alloc sizes,
// buffer.length, copy/compare/clone/hash offsets and lengths count BYTES.
vm.module @buffers {

  // fresh zeroed mutable buffer of n bytes (ref result owned by the caller)
  vm.export @alloc
  vm.func @alloc(%n : i64) -> !vm.buffer {
    %align = vm.const.i32 16
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    vm.return %b : !vm.buffer
  }

  // byte length of a fresh n-byte buffer (== n)
  vm.export @alloc_length
  vm.func @alloc_length(%n : i64) -> i64 {
    %align = vm.const.i32 8
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    %len = vm.buffer.length %b : !vm.buffer -> i64
    vm.return %len : i64
  }

  // byte length; null traps
  vm.export @length
  vm.func @length(%b : !vm.buffer) -> i64 {
    %len = vm.buffer.length %b : !vm.buffer -> i64
    vm.return %len : i64
  }

  // element i (1-byte elements); out of range traps
  vm.export @load_i8_s
  vm.func @load_i8_s(%b : !vm.buffer, %i : i64) -> i32 {
    %v = vm.buffer.load.i8.s %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps; narrow store keeps the low bits
  vm.export @roundtrip_i8_s
  vm.func @roundtrip_i8_s(%v : i32, %i : i64) -> i32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 16
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i8 %v, %b[%i] : i32 -> !vm.buffer
    %r = vm.buffer.load.i8.s %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // element i (1-byte elements); out of range traps
  vm.export @load_i8_u
  vm.func @load_i8_u(%b : !vm.buffer, %i : i64) -> i32 {
    %v = vm.buffer.load.i8.u %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps; narrow store keeps the low bits
  vm.export @roundtrip_i8_u
  vm.func @roundtrip_i8_u(%v : i32, %i : i64) -> i32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 16
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i8 %v, %b[%i] : i32 -> !vm.buffer
    %r = vm.buffer.load.i8.u %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_i8
  vm.func @store_i8(%b : !vm.buffer, %i : i64, %v : i32) {
    vm.buffer.store.i8 %v, %b[%i] : i32 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_i8
  vm.func @fill_i8(%b : !vm.buffer, %off : i64, %len : i64, %v : i32) {
    vm.buffer.fill.i8 %b, %off, %len, %v : i32 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.i8.s
  vm.export @fill_sum_i8
  vm.func @fill_sum_i8(%n : i64, %v : i32) -> i32 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 1
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.i8 %b, %c0, %n, %v : i32 -> !vm.buffer
    %z = vm.const.i32.zero
    vm.br ^loop(%c0, %z : i64, i32)
  ^loop(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.i8.s %b[%i] : !vm.buffer -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, i32)
  ^exit:
    vm.return %acc : i32
  }

  // element i (2-byte elements); out of range traps
  vm.export @load_i16_s
  vm.func @load_i16_s(%b : !vm.buffer, %i : i64) -> i32 {
    %v = vm.buffer.load.i16.s %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps; narrow store keeps the low bits
  vm.export @roundtrip_i16_s
  vm.func @roundtrip_i16_s(%v : i32, %i : i64) -> i32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 32
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i16 %v, %b[%i] : i32 -> !vm.buffer
    %r = vm.buffer.load.i16.s %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // element i (2-byte elements); out of range traps
  vm.export @load_i16_u
  vm.func @load_i16_u(%b : !vm.buffer, %i : i64) -> i32 {
    %v = vm.buffer.load.i16.u %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps; narrow store keeps the low bits
  vm.export @roundtrip_i16_u
  vm.func @roundtrip_i16_u(%v : i32, %i : i64) -> i32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 32
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i16 %v, %b[%i] : i32 -> !vm.buffer
    %r = vm.buffer.load.i16.u %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_i16
  vm.func @store_i16(%b : !vm.buffer, %i : i64, %v : i32) {
    vm.buffer.store.i16 %v, %b[%i] : i32 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_i16
  vm.func @fill_i16(%b : !vm.buffer, %off : i64, %len : i64, %v : i32) {
    vm.buffer.fill.i16 %b, %off, %len, %v : i32 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.i16.s
  vm.export @fill_sum_i16
  vm.func @fill_sum_i16(%n : i64, %v : i32) -> i32 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 2
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.i16 %b, %c0, %n, %v : i32 -> !vm.buffer
    %z = vm.const.i32.zero
    vm.br ^loop(%c0, %z : i64, i32)
  ^loop(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.i16.s %b[%i] : !vm.buffer -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, i32)
  ^exit:
    vm.return %acc : i32
  }

  // element i (4-byte elements); out of range traps
  vm.export @load_i32
  vm.func @load_i32(%b : !vm.buffer, %i : i64) -> i32 {
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps
  vm.export @roundtrip_i32
  vm.func @roundtrip_i32(%v : i32, %i : i64) -> i32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i32 %v, %b[%i] : i32 -> !vm.buffer
    %r = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %r : i32
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_i32
  vm.func @store_i32(%b : !vm.buffer, %i : i64, %v : i32) {
    vm.buffer.store.i32 %v, %b[%i] : i32 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_i32
  vm.func @fill_i32(%b : !vm.buffer, %off : i64, %len : i64, %v : i32) {
    vm.buffer.fill.i32 %b, %off, %len, %v : i32 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.i32
  vm.export @fill_sum_i32
  vm.func @fill_sum_i32(%n : i64, %v : i32) -> i32 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 4
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.i32 %b, %c0, %n, %v : i32 -> !vm.buffer
    %z = vm.const.i32.zero
    vm.br ^loop(%c0, %z : i64, i32)
  ^loop(%i : i64, %acc : i32):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, i32)
  ^exit:
    vm.return %acc : i32
  }

  // element i (8-byte elements); out of range traps
  vm.export @load_i64
  vm.func @load_i64(%b : !vm.buffer, %i : i64) -> i64 {
    %v = vm.buffer.load.i64 %b[%i] : !vm.buffer -> i64
    vm.return %v : i64
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps
  vm.export @roundtrip_i64
  vm.func @roundtrip_i64(%v : i64, %i : i64) -> i64 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 128
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.i64 %v, %b[%i] : i64 -> !vm.buffer
    %r = vm.buffer.load.i64 %b[%i] : !vm.buffer -> i64
    vm.return %r : i64
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_i64
  vm.func @store_i64(%b : !vm.buffer, %i : i64, %v : i64) {
    vm.buffer.store.i64 %v, %b[%i] : i64 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_i64
  vm.func @fill_i64(%b : !vm.buffer, %off : i64, %len : i64, %v : i64) {
    vm.buffer.fill.i64 %b, %off, %len, %v : i64 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.i64
  vm.export @fill_sum_i64
  vm.func @fill_sum_i64(%n : i64, %v : i64) -> i64 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 8
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.i64 %b, %c0, %n, %v : i64 -> !vm.buffer
    %z = vm.const.i64.zero
    vm.br ^loop(%c0, %z : i64, i64)
  ^loop(%i : i64, %acc : i64):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.i64 %b[%i] : !vm.buffer -> i64
    %acc1 = vm.add.i64 %acc, %e : i64
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, i64)
  ^exit:
    vm.return %acc : i64
  }

  // element i (4-byte elements); out of range traps
  vm.export @load_f32
  vm.func @load_f32(%b : !vm.buffer, %i : i64) -> f32 {
    %v = vm.buffer.load.f32 %b[%i] : !vm.buffer -> f32
    vm.return %v : f32
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps
  vm.export @roundtrip_f32
  vm.func @roundtrip_f32(%v : f32, %i : i64) -> f32 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.f32 %v, %b[%i] : f32 -> !vm.buffer
    %r = vm.buffer.load.f32 %b[%i] : !vm.buffer -> f32
    vm.return %r : f32
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_f32
  vm.func @store_f32(%b : !vm.buffer, %i : i64, %v : f32) {
    vm.buffer.store.f32 %v, %b[%i] : f32 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_f32
  vm.func @fill_f32(%b : !vm.buffer, %off : i64, %len : i64, %v : f32) {
    vm.buffer.fill.f32 %b, %off, %len, %v : f32 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.f32
  vm.export @fill_sum_f32
  vm.func @fill_sum_f32(%n : i64, %v : f32) -> f32 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 4
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.f32 %b, %c0, %n, %v : f32 -> !vm.buffer
    %z = vm.const.f32.zero
    vm.br ^loop(%c0, %z : i64, f32)
  ^loop(%i : i64, %acc : f32):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.f32 %b[%i] : !vm.buffer -> f32
    %acc1 = vm.add.f32 %acc, %e : f32
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, f32)
  ^exit:
    vm.return %acc : f32
  }

  // element i (8-byte elements); out of range traps
  vm.export @load_f64
  vm.func @load_f64(%b : !vm.buffer, %i : i64) -> f64 {
    %v = vm.buffer.load.f64 %b[%i] : !vm.buffer -> f64
    vm.return %v : f64
  }

  // store then load element i of a 16-element scratch buffer; i outside [0, 16) traps
  vm.export @roundtrip_f64
  vm.func @roundtrip_f64(%v : f64, %i : i64) -> f64 {
    %align = vm.const.i32 16
    %bytes = vm.const.i64 128
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    vm.buffer.store.f64 %v, %b[%i] : f64 -> !vm.buffer
    %r = vm.buffer.load.f64 %b[%i] : !vm.buffer -> f64
    vm.return %r : f64
  }

  // element store into a caller buffer; read-only (rodata) buffers trap
  vm.export @store_f64
  vm.func @store_f64(%b : !vm.buffer, %i : i64, %v : f64) {
    vm.buffer.store.f64 %v, %b[%i] : f64 -> !vm.buffer
    vm.return
  }

  // fills len elements starting at element off
  vm.export @fill_f64
  vm.func @fill_f64(%b : !vm.buffer, %off : i64, %len : i64, %v : f64) {
    vm.buffer.fill.f64 %b, %off, %len, %v : f64 -> !vm.buffer
    vm.return
  }

  // fills n fresh elements with v and sums them back via buffer.load.f64
  vm.export @fill_sum_f64
  vm.func @fill_sum_f64(%n : i64, %v : f64) -> f64 {
    %align = vm.const.i32 16
    %sz = vm.const.i64 8
    %bytes = vm.mul.i64 %n, %sz : i64
    %b = vm.buffer.alloc %bytes, %align : !vm.buffer
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    vm.buffer.fill.f64 %b, %c0, %n, %v : f64 -> !vm.buffer
    %z = vm.const.f64.zero
    vm.br ^loop(%c0, %z : i64, f64)
  ^loop(%i : i64, %acc : f64):
    %more = vm.cmp.lt.i64.s %i, %n : i64
    vm.cond_br %more, ^body, ^exit
  ^body:
    %e = vm.buffer.load.f64 %b[%i] : !vm.buffer -> f64
    %acc1 = vm.add.f64 %acc, %e : f64
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^loop(%i1, %acc1 : i64, f64)
  ^exit:
    vm.return %acc : f64
  }

  // memcpy of len bytes (byte offsets); ranges are bounds-checked
  vm.export @copy
  vm.func @copy(%src : !vm.buffer, %src_off : i64, %dst : !vm.buffer, %dst_off : i64, %len : i64) {
    vm.buffer.copy %src, %src_off, %dst, %dst_off, %len : !vm.buffer -> !vm.buffer
    vm.return
  }

  // 1 if the byte ranges are equal, else 0
  vm.export @compare
  vm.func @compare(%a : !vm.buffer, %a_off : i64, %b : !vm.buffer, %b_off : i64, %len : i64) -> i32 {
    %r = vm.buffer.compare %a, %a_off, %b, %b_off, %len : !vm.buffer, !vm.buffer
    vm.return %r : i32
  }

  // mutable copy of bytes [off, off + len)
  vm.export @clone
  vm.func @clone(%src : !vm.buffer, %off : i64, %len : i64) -> !vm.buffer {
    %align = vm.const.i32 16
    %r = vm.buffer.clone %src, %off, %len, %align : !vm.buffer -> !vm.buffer
    vm.return %r : !vm.buffer
  }

  // SipHash-2-4 of bytes [off, off + len)
  vm.export @hash
  vm.func @hash(%b : !vm.buffer, %off : i64, %len : i64) -> i64 {
    %h = vm.buffer.hash %b, %off, %len : !vm.buffer -> i64
    vm.return %h : i64
  }

  // 2 * (copy equals source) + (clone with byte 0 changed equals source); n >= 1
  vm.export @copy_compare
  vm.func @copy_compare(%n : i64, %v : i32) -> i32 {
    %align = vm.const.i32 16
    %c0 = vm.const.i64.zero
    %c1 = vm.const.i64 1
    %a = vm.buffer.alloc %n, %align : !vm.buffer
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    vm.buffer.fill.i8 %a, %c0, %n, %v : i32 -> !vm.buffer
    vm.buffer.copy %a, %c0, %b, %c0, %n : !vm.buffer -> !vm.buffer
    %same = vm.buffer.compare %a, %c0, %b, %c0, %n : !vm.buffer, !vm.buffer
    %c = vm.buffer.clone %b, %c0, %n, %align : !vm.buffer -> !vm.buffer
    %v1 = vm.add.i32 %v, %v : i32
    vm.buffer.store.i8 %v1, %c[%c0] : i32 -> !vm.buffer
    %diff = vm.buffer.compare %a, %c0, %c, %c0, %n : !vm.buffer, !vm.buffer
    %two = vm.const.i32 2
    %s = vm.mul.i32 %same, %two : i32
    %r = vm.add.i32 %s, %diff : i32
    vm.return %r : i32
  }

  // mixes little-endian byte/halfword views of one stored i32
  vm.export @bytes_of_i32
  vm.func @bytes_of_i32(%v : i32) -> i32 {
    %align = vm.const.i32 4
    %c4 = vm.const.i64 4
    %c0 = vm.const.i64.zero
    %c3 = vm.const.i64 3
    %c1 = vm.const.i64 1
    %b = vm.buffer.alloc %c4, %align : !vm.buffer
    vm.buffer.store.i32 %v, %b[%c0] : i32 -> !vm.buffer
    %lo = vm.buffer.load.i8.u %b[%c0] : !vm.buffer -> i32
    %hi = vm.buffer.load.i8.s %b[%c3] : !vm.buffer -> i32
    %h1 = vm.buffer.load.i16.s %b[%c1] : !vm.buffer -> i32
    %sh = vm.const.i32 16
    %hi2 = vm.shl.i32 %hi, %sh : i32
    %x = vm.xor.i32 %hi2, %lo : i32
    %r = vm.add.i32 %x, %h1 : i32
    vm.return %r : i32
  }
}
