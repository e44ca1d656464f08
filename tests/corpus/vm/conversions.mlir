// Integer truncation/extension, float<->int casts, f32<->f64 and bitcasts.
// Narrow integers live in i32 registers: trunc.i32.i8 returns an i32 whose
// upper bits are the runtime's choice (IREE zero-extends).
vm.module @conversions {

  vm.export @trunc_i32_i8
  vm.func @trunc_i32_i8(%a : i32) -> i32 {
    %r = vm.trunc.i32.i8 %a : i32 -> i32
    vm.return %r : i32
  }

  vm.export @trunc_i32_i16
  vm.func @trunc_i32_i16(%a : i32) -> i32 {
    %r = vm.trunc.i32.i16 %a : i32 -> i32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler
  vm.export @trunc_i16_i8
  vm.func @trunc_i16_i8(%a : i32) -> i32 {
    %r = vm.trunc.i16.i8 %a : i32 -> i32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler
  vm.export @trunc_i64_i8
  vm.func @trunc_i64_i8(%a : i64) -> i32 {
    %r = vm.trunc.i64.i8 %a : i64 -> i32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler
  vm.export @trunc_i64_i16
  vm.func @trunc_i64_i16(%a : i64) -> i32 {
    %r = vm.trunc.i64.i16 %a : i64 -> i32
    vm.return %r : i32
  }

  vm.export @trunc_i64_i32
  vm.func @trunc_i64_i32(%a : i64) -> i32 {
    %r = vm.trunc.i64.i32 %a : i64 -> i32
    vm.return %r : i32
  }

  vm.export @ext_i8_i32_s
  vm.func @ext_i8_i32_s(%a : i32) -> i32 {
    %r = vm.ext.i8.i32.s %a : i32 -> i32
    vm.return %r : i32
  }

  vm.export @ext_i8_i32_u
  vm.func @ext_i8_i32_u(%a : i32) -> i32 {
    %r = vm.ext.i8.i32.u %a : i32 -> i32
    vm.return %r : i32
  }

  vm.export @ext_i16_i32_s
  vm.func @ext_i16_i32_s(%a : i32) -> i32 {
    %r = vm.ext.i16.i32.s %a : i32 -> i32
    vm.return %r : i32
  }

  vm.export @ext_i16_i32_u
  vm.func @ext_i16_i32_u(%a : i32) -> i32 {
    %r = vm.ext.i16.i32.u %a : i32 -> i32
    vm.return %r : i32
  }

  // pseudo-op, expanded by the compiler
  vm.export @ext_i8_i64_s
  vm.func @ext_i8_i64_s(%a : i32) -> i64 {
    %r = vm.ext.i8.i64.s %a : i32 -> i64
    vm.return %r : i64
  }

  // pseudo-op, expanded by the compiler
  vm.export @ext_i8_i64_u
  vm.func @ext_i8_i64_u(%a : i32) -> i64 {
    %r = vm.ext.i8.i64.u %a : i32 -> i64
    vm.return %r : i64
  }

  // pseudo-op, expanded by the compiler
  vm.export @ext_i16_i64_s
  vm.func @ext_i16_i64_s(%a : i32) -> i64 {
    %r = vm.ext.i16.i64.s %a : i32 -> i64
    vm.return %r : i64
  }

  // pseudo-op, expanded by the compiler
  vm.export @ext_i16_i64_u
  vm.func @ext_i16_i64_u(%a : i32) -> i64 {
    %r = vm.ext.i16.i64.u %a : i32 -> i64
    vm.return %r : i64
  }

  vm.export @ext_i32_i64_s
  vm.func @ext_i32_i64_s(%a : i32) -> i64 {
    %r = vm.ext.i32.i64.s %a : i32 -> i64
    vm.return %r : i64
  }

  vm.export @ext_i32_i64_u
  vm.func @ext_i32_i64_u(%a : i32) -> i64 {
    %r = vm.ext.i32.i64.u %a : i32 -> i64
    vm.return %r : i64
  }

  vm.export @trunc_f64_f32
  vm.func @trunc_f64_f32(%a : f64) -> f32 {
    %r = vm.trunc.f64.f32 %a : f64 -> f32
    vm.return %r : f32
  }

  vm.export @ext_f32_f64
  vm.func @ext_f32_f64(%a : f32) -> f64 {
    %r = vm.ext.f32.f64 %a : f32 -> f64
    vm.return %r : f64
  }

  vm.export @cast_si32_f32
  vm.func @cast_si32_f32(%a : i32) -> f32 {
    %r = vm.cast.si32.f32 %a : i32 -> f32
    vm.return %r : f32
  }

  vm.export @cast_ui32_f32
  vm.func @cast_ui32_f32(%a : i32) -> f32 {
    %r = vm.cast.ui32.f32 %a : i32 -> f32
    vm.return %r : f32
  }

  vm.export @cast_si64_f32
  vm.func @cast_si64_f32(%a : i64) -> f32 {
    %r = vm.cast.si64.f32 %a : i64 -> f32
    vm.return %r : f32
  }

  vm.export @cast_ui64_f32
  vm.func @cast_ui64_f32(%a : i64) -> f32 {
    %r = vm.cast.ui64.f32 %a : i64 -> f32
    vm.return %r : f32
  }

  vm.export @cast_si64_f64
  vm.func @cast_si64_f64(%a : i64) -> f64 {
    %r = vm.cast.si64.f64 %a : i64 -> f64
    vm.return %r : f64
  }

  vm.export @cast_ui64_f64
  vm.func @cast_ui64_f64(%a : i64) -> f64 {
    %r = vm.cast.ui64.f64 %a : i64 -> f64
    vm.return %r : f64
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f32_si32
  vm.func @cast_f32_si32(%a : f32) -> i32 {
    %r = vm.cast.f32.si32 %a : f32 -> i32
    vm.return %r : i32
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f32_ui32
  vm.func @cast_f32_ui32(%a : f32) -> i32 {
    %r = vm.cast.f32.ui32 %a : f32 -> i32
    vm.return %r : i32
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f32_si64
  vm.func @cast_f32_si64(%a : f32) -> i64 {
    %r = vm.cast.f32.si64 %a : f32 -> i64
    vm.return %r : i64
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f32_ui64
  vm.func @cast_f32_ui64(%a : f32) -> i64 {
    %r = vm.cast.f32.ui64 %a : f32 -> i64
    vm.return %r : i64
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f64_si64
  vm.func @cast_f64_si64(%a : f64) -> i64 {
    %r = vm.cast.f64.si64 %a : f64 -> i64
    vm.return %r : i64
  }

  // float->int casts of NaN/out-of-range values are runtime-defined
  vm.export @cast_f64_ui64
  vm.func @cast_f64_ui64(%a : f64) -> i64 {
    %r = vm.cast.f64.ui64 %a : f64 -> i64
    vm.return %r : i64
  }

  vm.export @bitcast_i32_f32
  vm.func @bitcast_i32_f32(%a : i32) -> f32 {
    %r = vm.bitcast.i32.f32 %a : i32 -> f32
    vm.return %r : f32
  }

  vm.export @bitcast_f32_i32
  vm.func @bitcast_f32_i32(%a : f32) -> i32 {
    %r = vm.bitcast.f32.i32 %a : f32 -> i32
    vm.return %r : i32
  }

  vm.export @bitcast_i64_f64
  vm.func @bitcast_i64_f64(%a : i64) -> f64 {
    %r = vm.bitcast.i64.f64 %a : i64 -> f64
    vm.return %r : f64
  }

  vm.export @bitcast_f64_i64
  vm.func @bitcast_f64_i64(%a : f64) -> i64 {
    %r = vm.bitcast.f64.i64 %a : f64 -> i64
    vm.return %r : i64
  }

  // f32 bits -> f64 -> f32 bits: exact except NaN quieting; lets callers pass exact NaN payloads
  vm.export @f32_roundtrip_bits
  vm.func @f32_roundtrip_bits(%bits : i32) -> i32 {
    %f = vm.bitcast.i32.f32 %bits : i32 -> f32
    %d = vm.ext.f32.f64 %f : f32 -> f64
    %g = vm.trunc.f64.f32 %d : f64 -> f32
    %r = vm.bitcast.f32.i32 %g : f32 -> i32
    vm.return %r : i32
  }

  // f32 add on raw bit patterns (exact NaN payload propagation)
  vm.export @f32_add_bits
  vm.func @f32_add_bits(%a : i32, %b : i32) -> i32 {
    %x = vm.bitcast.i32.f32 %a : i32 -> f32
    %y = vm.bitcast.i32.f32 %b : i32 -> f32
    %s = vm.add.f32 %x, %y : f32
    %r = vm.bitcast.f32.i32 %s : f32 -> i32
    vm.return %r : i32
  }

  // f64 mul on raw bit patterns
  vm.export @f64_mul_bits
  vm.func @f64_mul_bits(%a : i64, %b : i64) -> i64 {
    %x = vm.bitcast.i64.f64 %a : i64 -> f64
    %y = vm.bitcast.i64.f64 %b : i64 -> f64
    %s = vm.mul.f64 %x, %y : f64
    %r = vm.bitcast.f64.i64 %s : f64 -> i64
    vm.return %r : i64
  }
}
