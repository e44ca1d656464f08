// Failure paths: vm.fail, vm.cond_fail and the vm.check.* family. Every export
// takes the values it checks as arguments, so one export covers both the
// passing path (returns normally) and the failing path (the invocation fails
// with the given status code / message).
vm.module @fail_check {
  // Always fails with status `code` (an iree_status_code_t; 0 == OK is
  // allowed and behaves as the runtime defines).
  vm.export @fail_with
  vm.func @fail_with(%code : i32) {
    vm.fail %code, "fail_with called"
  }

  // Fails with code 9 (FAILED_PRECONDITION) when c != 0, else returns x + 1.
  vm.export @fail_if
  vm.func @fail_if(%c : i32, %x : i32) -> i32 {
    vm.cond_br %c, ^bad, ^good
  ^bad:
    %code = vm.const.i32 9
    vm.fail %code, "fail_if: condition was set"
  ^good:
    %one = vm.const.i32 1
    %r = vm.add.i32 %x, %one : i32
    vm.return %r : i32
  }

  // Pseudo-op: cond_fail expands to a branch around vm.fail.
  vm.export @cond_fail
  vm.func @cond_fail(%c : i32, %code : i32) -> i32 {
    vm.cond_fail %c, %code, "cond_fail: condition was set"
    vm.return %code : i32
  }

  // Fails in the middle of a loop once the running sum exceeds `limit`;
  // otherwise returns 0 + 1 + ... + (n - 1).
  vm.export @fail_in_loop
  vm.func @fail_in_loop(%n : i32, %limit : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %c0 : i32, i32)
  ^loop(%i : i32, %acc : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %acc1 = vm.add.i32 %acc, %i : i32
    %over = vm.cmp.lt.i32.s %limit, %acc1 : i32
    %code = vm.const.i32 11
    vm.cond_fail %over, %code, "fail_in_loop: limit exceeded"
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // Fails while holding live refs (a fresh buffer): cleanup must release them.
  vm.export @fail_holding_ref
  vm.func @fail_holding_ref(%c : i32, %n : i64) -> i64 {
    %align = vm.const.i32 16
    %b = vm.buffer.alloc %n, %align : !vm.buffer
    %code = vm.const.i32 13
    vm.cond_fail %c, %code, "fail_holding_ref"
    %len = vm.buffer.length %b : !vm.buffer -> i64
    vm.return %len : i64
  }

  vm.export @check_eq_i32
  vm.func @check_eq_i32(%a : i32, %b : i32) -> i32 {
    vm.check.eq %a, %b, "check_eq_i32" : i32
    vm.return %a : i32
  }

  vm.export @check_ne_i32
  vm.func @check_ne_i32(%a : i32, %b : i32) -> i32 {
    vm.check.ne %a, %b, "check_ne_i32" : i32
    vm.return %a : i32
  }

  vm.export @check_nz_i32
  vm.func @check_nz_i32(%a : i32) -> i32 {
    vm.check.nz %a, "check_nz_i32" : i32
    vm.return %a : i32
  }

  vm.export @check_eq_i64
  vm.func @check_eq_i64(%a : i64, %b : i64) -> i64 {
    vm.check.eq %a, %b, "check_eq_i64" : i64
    vm.return %a : i64
  }

  vm.export @check_ne_i64
  vm.func @check_ne_i64(%a : i64, %b : i64) -> i64 {
    vm.check.ne %a, %b : i64
    vm.return %a : i64
  }

  vm.export @check_nz_i64
  vm.func @check_nz_i64(%a : i64) -> i64 {
    vm.check.nz %a, "check_nz_i64" : i64
    vm.return %a : i64
  }

  // Float checks: eq/ne are ordered comparisons (NaN never equals NaN).
  vm.export @check_eq_f32
  vm.func @check_eq_f32(%a : f32, %b : f32) -> f32 {
    vm.check.eq %a, %b, "check_eq_f32" : f32
    vm.return %a : f32
  }

  vm.export @check_ne_f32
  vm.func @check_ne_f32(%a : f32, %b : f32) -> f32 {
    vm.check.ne %a, %b, "check_ne_f32" : f32
    vm.return %a : f32
  }

  vm.export @check_nz_f32
  vm.func @check_nz_f32(%a : f32) -> f32 {
    vm.check.nz %a, "check_nz_f32" : f32
    vm.return %a : f32
  }

  vm.export @check_nearly_eq_f32
  vm.func @check_nearly_eq_f32(%a : f32, %b : f32) -> f32 {
    vm.check.nearly_eq %a, %b, "check_nearly_eq_f32" : f32
    vm.return %a : f32
  }

  vm.export @check_eq_f64
  vm.func @check_eq_f64(%a : f64, %b : f64) -> f64 {
    vm.check.eq %a, %b, "check_eq_f64" : f64
    vm.return %a : f64
  }

  vm.export @check_ne_f64
  vm.func @check_ne_f64(%a : f64, %b : f64) -> f64 {
    vm.check.ne %a, %b, "check_ne_f64" : f64
    vm.return %a : f64
  }

  vm.export @check_nz_f64
  vm.func @check_nz_f64(%a : f64) -> f64 {
    vm.check.nz %a, "check_nz_f64" : f64
    vm.return %a : f64
  }

  vm.export @check_nearly_eq_f64
  vm.func @check_nearly_eq_f64(%a : f64, %b : f64) -> f64 {
    vm.check.nearly_eq %a, %b, "check_nearly_eq_f64" : f64
    vm.return %a : f64
  }

  // Ref checks compare identity; nz fails on null. Pass the same buffer twice
  // for the passing eq path.
  vm.export @check_eq_ref
  vm.func @check_eq_ref(%a : !vm.buffer, %b : !vm.buffer) -> i32 {
    vm.check.eq %a, %b, "check_eq_ref" : !vm.buffer
    %one = vm.const.i32 1
    vm.return %one : i32
  }

  vm.export @check_ne_ref
  vm.func @check_ne_ref(%a : !vm.buffer, %b : !vm.buffer) -> i32 {
    vm.check.ne %a, %b, "check_ne_ref" : !vm.buffer
    %one = vm.const.i32 1
    vm.return %one : i32
  }

  vm.export @check_nz_ref
  vm.func @check_nz_ref(%a : !vm.buffer) -> i32 {
    vm.check.nz %a, "check_nz_ref" : !vm.buffer
    %one = vm.const.i32 1
    vm.return %one : i32
  }

  // Several checks in sequence; fails at the first one that does not hold:
  // requires 0 < a, a < b, b != 100.
  vm.export @check_chain
  vm.func @check_chain(%a : i32, %b : i32) -> i32 {
    %zero = vm.const.i32.zero
    %hundred = vm.const.i32 100
    %pos = vm.cmp.lt.i32.s %zero, %a : i32
    vm.check.nz %pos, "a > 0" : i32
    %lt = vm.cmp.lt.i32.s %a, %b : i32
    vm.check.nz %lt, "a < b" : i32
    vm.check.ne %b, %hundred, "b != 100" : i32
    %r = vm.sub.i32 %b, %a : i32
    vm.return %r : i32
  }
}
