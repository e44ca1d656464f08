// f64 transcendental math ops. Results are libm-grade, not correctly rounded:
// compare against the interpreter with a tolerance, not bit for bit.
vm.module @math_f64 {

  vm.export @atan_f64
  vm.func @atan_f64(%a : f64) -> f64 {
    %r = vm.atan.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @cos_f64
  vm.func @cos_f64(%a : f64) -> f64 {
    %r = vm.cos.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @sin_f64
  vm.func @sin_f64(%a : f64) -> f64 {
    %r = vm.sin.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @exp_f64
  vm.func @exp_f64(%a : f64) -> f64 {
    %r = vm.exp.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @exp2_f64
  vm.func @exp2_f64(%a : f64) -> f64 {
    %r = vm.exp2.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @expm1_f64
  vm.func @expm1_f64(%a : f64) -> f64 {
    %r = vm.expm1.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @log_f64
  vm.func @log_f64(%a : f64) -> f64 {
    %r = vm.log.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @log10_f64
  vm.func @log10_f64(%a : f64) -> f64 {
    %r = vm.log10.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @log1p_f64
  vm.func @log1p_f64(%a : f64) -> f64 {
    %r = vm.log1p.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @log2_f64
  vm.func @log2_f64(%a : f64) -> f64 {
    %r = vm.log2.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @rsqrt_f64
  vm.func @rsqrt_f64(%a : f64) -> f64 {
    %r = vm.rsqrt.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @sqrt_f64
  vm.func @sqrt_f64(%a : f64) -> f64 {
    %r = vm.sqrt.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @tanh_f64
  vm.func @tanh_f64(%a : f64) -> f64 {
    %r = vm.tanh.f64 %a : f64
    vm.return %r : f64
  }

  vm.export @erf_f64
  vm.func @erf_f64(%a : f64) -> f64 {
    %r = vm.erf.f64 %a : f64
    vm.return %r : f64
  }

  // atan2(a = y, b = x)
  vm.export @atan2_f64
  vm.func @atan2_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.atan2.f64 %a, %b : f64
    vm.return %r : f64
  }

  // pow(a, b)
  vm.export @pow_f64
  vm.func @pow_f64(%a : f64, %b : f64) -> f64 {
    %r = vm.pow.f64 %a, %b : f64
    vm.return %r : f64
  }
}
