// f32 transcendental math ops. Results are libm-grade, not correctly rounded:
// compare against the interpreter with a tolerance, not bit for bit.
vm.module @math_f32 {

  vm.export @atan_f32
  vm.func @atan_f32(%a : f32) -> f32 {
    %r = vm.atan.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @cos_f32
  vm.func @cos_f32(%a : f32) -> f32 {
    %r = vm.cos.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @sin_f32
  vm.func @sin_f32(%a : f32) -> f32 {
    %r = vm.sin.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @exp_f32
  vm.func @exp_f32(%a : f32) -> f32 {
    %r = vm.exp.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @exp2_f32
  vm.func @exp2_f32(%a : f32) -> f32 {
    %r = vm.exp2.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @expm1_f32
  vm.func @expm1_f32(%a : f32) -> f32 {
    %r = vm.expm1.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @log_f32
  vm.func @log_f32(%a : f32) -> f32 {
    %r = vm.log.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @log10_f32
  vm.func @log10_f32(%a : f32) -> f32 {
    %r = vm.log10.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @log1p_f32
  vm.func @log1p_f32(%a : f32) -> f32 {
    %r = vm.log1p.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @log2_f32
  vm.func @log2_f32(%a : f32) -> f32 {
    %r = vm.log2.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @rsqrt_f32
  vm.func @rsqrt_f32(%a : f32) -> f32 {
    %r = vm.rsqrt.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @sqrt_f32
  vm.func @sqrt_f32(%a : f32) -> f32 {
    %r = vm.sqrt.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @tanh_f32
  vm.func @tanh_f32(%a : f32) -> f32 {
    %r = vm.tanh.f32 %a : f32
    vm.return %r : f32
  }

  vm.export @erf_f32
  vm.func @erf_f32(%a : f32) -> f32 {
    %r = vm.erf.f32 %a : f32
    vm.return %r : f32
  }

  // atan2(a = y, b = x)
  vm.export @atan2_f32
  vm.func @atan2_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.atan2.f32 %a, %b : f32
    vm.return %r : f32
  }

  // pow(a, b)
  vm.export @pow_f32
  vm.func @pow_f32(%a : f32, %b : f32) -> f32 {
    %r = vm.pow.f32 %a, %b : f32
    vm.return %r : f32
  }
}
