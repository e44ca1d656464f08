// Read-only data: module-level vm.rodata blobs of every element width, inline
// rodata, rodata tables, and what may (loads, clone, compare, hash) and may not
// (stores: they trap) be done with the resulting immutable !vm.buffer.
vm.module @rodata {
  vm.rodata private @bytes dense<[0, 1, 127, -128, -1, 42, 7, -7]> : tensor<8xi8>
  vm.rodata private @halves dense<[0, 1, 32767, -32768, -1, 1234]> : tensor<6xi16>
  vm.rodata private @words dense<[0, 1, 2147483647, -2147483648, -1, 305419896]> : tensor<6xi32>
  vm.rodata private @dwords dense<[0, 1, 9223372036854775807, -9223372036854775808, -1, 81985529216486895]> : tensor<6xi64>
  vm.rodata private @singles dense<[0.0, -0.0, 1.5, -2.25, 3.40282347e+38, 1.17549435e-38, 1.0e-45, 0x7FC00000, 0x7F800000, 0xFF800000]> : tensor<10xf32>
  vm.rodata private @doubles dense<[0.0, -0.0, 1.5, -2.25, 1.7976931348623157e+308, 2.2250738585072014e-308, 4.9406564584124654e-324, 0x7FF8000000000000, 0x7FF0000000000000]> : tensor<9xf64>
  // The alignment property has no custom syntax in 3.13 (strict properties), so
  // this blob is spelled in generic form.
  "vm.rodata"() <{sym_visibility = "private", sym_name = "aligned", value = dense<[1, 2, 3, 4]> : tensor<4xi32>, alignment = 64 : i64}> : () -> ()
  vm.rodata private @text "splatjit rodata\00"

  // Element i of each blob (indices count elements; out of range traps).
  vm.export @byte_s
  vm.func @byte_s(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @bytes : !vm.buffer
    %v = vm.buffer.load.i8.s %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  vm.export @byte_u
  vm.func @byte_u(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @bytes : !vm.buffer
    %v = vm.buffer.load.i8.u %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  vm.export @half_s
  vm.func @half_s(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @halves : !vm.buffer
    %v = vm.buffer.load.i16.s %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  vm.export @half_u
  vm.func @half_u(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @halves : !vm.buffer
    %v = vm.buffer.load.i16.u %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  vm.export @word
  vm.func @word(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  vm.export @dword
  vm.func @dword(%i : i64) -> i64 {
    %b = vm.const.ref.rodata @dwords : !vm.buffer
    %v = vm.buffer.load.i64 %b[%i] : !vm.buffer -> i64
    vm.return %v : i64
  }

  // Raw bits of f32 element i (NaN/inf/denormal entries included).
  vm.export @single_bits
  vm.func @single_bits(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @singles : !vm.buffer
    %v = vm.buffer.load.f32 %b[%i] : !vm.buffer -> f32
    %bits = vm.bitcast.f32.i32 %v : f32 -> i32
    vm.return %bits : i32
  }

  vm.export @single
  vm.func @single(%i : i64) -> f32 {
    %b = vm.const.ref.rodata @singles : !vm.buffer
    %v = vm.buffer.load.f32 %b[%i] : !vm.buffer -> f32
    vm.return %v : f32
  }

  vm.export @double
  vm.func @double(%i : i64) -> f64 {
    %b = vm.const.ref.rodata @doubles : !vm.buffer
    %v = vm.buffer.load.f64 %b[%i] : !vm.buffer -> f64
    vm.return %v : f64
  }

  // Byte i of the 64-byte-aligned blob.
  vm.export @aligned_byte
  vm.func @aligned_byte(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @aligned : !vm.buffer
    %v = vm.buffer.load.i8.u %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // Sum of all blob byte lengths: 8 + 12 + 24 + 48 + 40 + 72 + 16 + 16 = 236.
  vm.export @total_length
  vm.func @total_length() -> i64 {
    %a = vm.const.ref.rodata @bytes : !vm.buffer
    %b = vm.const.ref.rodata @halves : !vm.buffer
    %c = vm.const.ref.rodata @words : !vm.buffer
    %d = vm.const.ref.rodata @dwords : !vm.buffer
    %e = vm.const.ref.rodata @singles : !vm.buffer
    %f = vm.const.ref.rodata @doubles : !vm.buffer
    %g = vm.const.ref.rodata @aligned : !vm.buffer
    %h = vm.const.ref.rodata @text : !vm.buffer
    %la = vm.buffer.length %a : !vm.buffer -> i64
    %lb = vm.buffer.length %b : !vm.buffer -> i64
    %lc = vm.buffer.length %c : !vm.buffer -> i64
    %ld = vm.buffer.length %d : !vm.buffer -> i64
    %le = vm.buffer.length %e : !vm.buffer -> i64
    %lf = vm.buffer.length %f : !vm.buffer -> i64
    %lg = vm.buffer.length %g : !vm.buffer -> i64
    %lh = vm.buffer.length %h : !vm.buffer -> i64
    %s0 = vm.add.i64 %la, %lb : i64
    %s1 = vm.add.i64 %s0, %lc : i64
    %s2 = vm.add.i64 %s1, %ld : i64
    %s3 = vm.add.i64 %s2, %le : i64
    %s4 = vm.add.i64 %s3, %lf : i64
    %s5 = vm.add.i64 %s4, %lg : i64
    %s6 = vm.add.i64 %s5, %lh : i64
    vm.return %s6 : i64
  }

  // Returns the text blob itself (an immutable buffer that outlives the call).
  vm.export @get_text
  vm.func @get_text() -> !vm.buffer {
    %t = vm.const.ref.rodata @text : !vm.buffer
    vm.return %t : !vm.buffer
  }

  // Stores into rodata always trap (the buffer is not mutable).
  vm.export @store_to_rodata
  vm.func @store_to_rodata(%v : i32) {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %c0 = vm.const.i64.zero
    vm.buffer.store.i32 %v, %b[%c0] : i32 -> !vm.buffer
    vm.return
  }

  // Clones the word blob into a mutable buffer, overwrites element i with v
  // and returns the sum of all six (wrapping).
  // load word i, then store it + 1 back: the store still traps (read-only) although
  // the same element was just loaded (range-check elimination must keep that check)
  vm.export @increment_rodata_word
  vm.func @increment_rodata_word(%i : i64) -> i32 {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    %one = vm.const.i32 1
    %w = vm.add.i32 %v, %one : i32
    vm.buffer.store.i32 %w, %b[%i] : i32 -> !vm.buffer
    vm.return %w : i32
  }

  vm.export @clone_and_patch
  vm.func @clone_and_patch(%i : i64, %v : i32) -> i32 {
    %b = vm.const.ref.rodata @words : !vm.buffer
    %c0 = vm.const.i64.zero
    %len = vm.buffer.length %b : !vm.buffer -> i64
    %align = vm.const.i32 4
    %m = vm.buffer.clone %b, %c0, %len, %align : !vm.buffer -> !vm.buffer
    vm.buffer.store.i32 %v, %m[%i] : i32 -> !vm.buffer
    %c1 = vm.const.i64 1
    %c2 = vm.const.i64 2
    %c3 = vm.const.i64 3
    %c4 = vm.const.i64 4
    %c5 = vm.const.i64 5
    %e0 = vm.buffer.load.i32 %m[%c0] : !vm.buffer -> i32
    %e1 = vm.buffer.load.i32 %m[%c1] : !vm.buffer -> i32
    %e2 = vm.buffer.load.i32 %m[%c2] : !vm.buffer -> i32
    %e3 = vm.buffer.load.i32 %m[%c3] : !vm.buffer -> i32
    %e4 = vm.buffer.load.i32 %m[%c4] : !vm.buffer -> i32
    %e5 = vm.buffer.load.i32 %m[%c5] : !vm.buffer -> i32
    %s0 = vm.add.i32 %e0, %e1 : i32
    %s1 = vm.add.i32 %s0, %e2 : i32
    %s2 = vm.add.i32 %s1, %e3 : i32
    %s3 = vm.add.i32 %s2, %e4 : i32
    %s4 = vm.add.i32 %s3, %e5 : i32
    vm.return %s4 : i32
  }

  // 1 if bytes [off, off + len) of the i32 and i64 blobs are equal.
  vm.export @words_vs_dwords
  vm.func @words_vs_dwords(%off : i64, %len : i64) -> i32 {
    %a = vm.const.ref.rodata @words : !vm.buffer
    %b = vm.const.ref.rodata @dwords : !vm.buffer
    %r = vm.buffer.compare %a, %off, %b, %off, %len : !vm.buffer, !vm.buffer
    vm.return %r : i32
  }

  // SipHash of the first n bytes of the text blob.
  vm.export @text_hash
  vm.func @text_hash(%n : i64) -> i64 {
    %t = vm.const.ref.rodata @text : !vm.buffer
    %c0 = vm.const.i64.zero
    %h = vm.buffer.hash %t, %c0, %n : !vm.buffer -> i64
    vm.return %h : i64
  }

  // Inline rodata is hoisted to a module-level blob by the compiler.
  vm.export @inline_word
  vm.func @inline_word(%i : i64) -> i32 {
    %b = vm.rodata.inline "inline_words" : !vm.buffer = dense<[10, 20, 30, 40]> : tensor<4xi32>
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.return %v : i32
  }

  // A rodata table: an i32 (offset, size) pair per string plus the packed
  // data. Returns the size of string i plus 1000 * its first byte.
  vm.export @table_entry
  vm.func @table_entry(%i : i64) -> i32 {
    %table, %data = vm.rodata.table.inline i32 : !vm.buffer, !vm.buffer = ["alpha", "be", "gamma!"]
    %c2 = vm.const.i64 2
    %c1 = vm.const.i64 1
    %slot = vm.mul.i64 %i, %c2 : i64
    %size_slot = vm.add.i64 %slot, %c1 : i64
    %off = vm.buffer.load.i32 %table[%slot] : !vm.buffer -> i32
    %size = vm.buffer.load.i32 %table[%size_slot] : !vm.buffer -> i32
    %off64 = vm.ext.i32.i64.u %off : i32 -> i64
    %first = vm.buffer.load.i8.u %data[%off64] : !vm.buffer -> i32
    %k = vm.const.i32 1000
    %scaled = vm.mul.i32 %first, %k : i32
    %r = vm.add.i32 %scaled, %size : i32
    vm.return %r : i32
  }
}
