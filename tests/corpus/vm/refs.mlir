// Reference-typed values: null refs, identity comparisons, ref selects and
// switches, casts between !vm.ref<?> and typed refs, and ref moves/releases.
// Ref results are owned by the caller.
vm.module @refs {
  // 1 when b is non-null.
  vm.export @is_nonnull
  vm.func @is_nonnull(%b : !vm.buffer) -> i32 {
    %r = vm.cmp.nz.ref %b : !vm.buffer
    vm.return %r : i32
  }

  // Identity (not content) comparisons.
  vm.export @same
  vm.func @same(%a : !vm.buffer, %b : !vm.buffer) -> i32 {
    %r = vm.cmp.eq.ref %a, %b : !vm.buffer
    vm.return %r : i32
  }

  vm.export @different
  vm.func @different(%a : !vm.buffer, %b : !vm.buffer) -> i32 {
    %r = vm.cmp.ne.ref %a, %b : !vm.buffer
    vm.return %r : i32
  }

  // Returns a null buffer ref.
  vm.export @null
  vm.func @null() -> !vm.buffer {
    %z = vm.const.ref.zero : !vm.buffer
    vm.return %z : !vm.buffer
  }

  // 1 when b is null (compares against a materialised null).
  vm.export @is_null
  vm.func @is_null(%b : !vm.buffer) -> i32 {
    %z = vm.const.ref.zero : !vm.buffer
    %r = vm.cmp.eq.ref %b, %z : !vm.buffer
    vm.return %r : i32
  }

  // c ? a : b on refs.
  vm.export @select
  vm.func @select(%c : i32, %a : !vm.buffer, %b : !vm.buffer) -> !vm.buffer {
    %r = vm.select.ref %c, %a, %b : !vm.buffer
    vm.return %r : !vm.buffer
  }

  // c ? a : null, then its byte length or -1 for null.
  vm.export @select_or_null_length
  vm.func @select_or_null_length(%c : i32, %a : !vm.buffer) -> i64 {
    %z = vm.const.ref.zero : !vm.buffer
    %r = vm.select.ref %c, %a, %z : !vm.buffer
    %nz = vm.cmp.nz.ref %r : !vm.buffer
    vm.cond_br %nz, ^len, ^none
  ^len:
    %l = vm.buffer.length %r : !vm.buffer -> i64
    vm.return %l : i64
  ^none:
    %m1 = vm.const.i64 -1
    vm.return %m1 : i64
  }

  // Element k of [a, b, c], or d when out of range. vm.switch.ref has no
  // custom assembly format, hence the generic form.
  vm.export @switch
  vm.func @switch(%k : i32, %a : !vm.buffer, %b : !vm.buffer, %c : !vm.buffer, %d : !vm.buffer) -> !vm.buffer {
    %r = "vm.switch.ref"(%k, %d, %a, %b, %c) : (i32, !vm.buffer, !vm.buffer, !vm.buffer, !vm.buffer) -> !vm.buffer
    vm.return %r : !vm.buffer
  }

  // Runtime-checked downcast of an opaque ref: a buffer passes, a list (or
  // any other ref type) traps, null passes through.
  vm.export @as_buffer_length
  vm.func @as_buffer_length(%any : !vm.ref<?>) -> i64 {
    %b = vm.cast.any.ref %any : !vm.ref<?> -> !vm.buffer
    %nz = vm.cmp.nz.ref %b : !vm.buffer
    vm.cond_br %nz, ^len, ^null
  ^len:
    %l = vm.buffer.length %b : !vm.buffer -> i64
    vm.return %l : i64
  ^null:
    %m1 = vm.const.i64 -1
    vm.return %m1 : i64
  }

  // Same for lists: returns the list size.
  vm.export @as_list_size
  vm.func @as_list_size(%any : !vm.ref<?>) -> i32 {
    %l = vm.cast.any.ref %any : !vm.ref<?> -> !vm.list<?>
    %n = vm.list.size %l : (!vm.list<?>) -> i32
    vm.return %n : i32
  }

  // Widening cast to an opaque ref and back (compile-time widening, runtime
  // checked narrowing); returns the same object.
  vm.export @widen_narrow
  vm.func @widen_narrow(%b : !vm.buffer) -> !vm.buffer {
    %any = vm.cast.ref.any %b : !vm.buffer -> !vm.ref<?>
    %back = vm.cast.any.ref %any : !vm.ref<?> -> !vm.buffer
    vm.return %back : !vm.buffer
  }

  // Explicit ref copy plus an early release of the original register.
  vm.export @assign_and_discard
  vm.func @assign_and_discard(%b : !vm.buffer) -> i64 {
    %copy = vm.assign.ref %b : !vm.buffer -> !vm.buffer
    %l0 = vm.buffer.length %b : !vm.buffer -> i64
    vm.discard.refs %b : !vm.buffer
    %l1 = vm.buffer.length %copy : !vm.buffer -> i64
    %r = vm.add.i64 %l0, %l1 : i64
    vm.return %r : i64
  }

  // Returns the same ref twice and a third fresh one: caller gets three refs.
  vm.export @fan_out
  vm.func @fan_out(%b : !vm.buffer) -> (!vm.buffer, !vm.buffer, !vm.buffer) {
    %c0 = vm.const.i64.zero
    %l = vm.buffer.length %b : !vm.buffer -> i64
    %align = vm.const.i32 8
    %copy = vm.buffer.clone %b, %c0, %l, %align : !vm.buffer -> !vm.buffer
    vm.return %b, %b, %copy : !vm.buffer, !vm.buffer, !vm.buffer
  }

  // Refs carried through loop block arguments: swaps a and b n times and
  // returns the first (a for even n).
  vm.export @swap_refs
  vm.func @swap_refs(%n : i32, %a : !vm.buffer, %b : !vm.buffer) -> !vm.buffer {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0, %a, %b : i32, !vm.buffer, !vm.buffer)
  ^loop(%i : i32, %x : !vm.buffer, %y : !vm.buffer):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %y, %x : i32, !vm.buffer, !vm.buffer)
  ^done:
    vm.return %x : !vm.buffer
  }

  // Allocates and drops n buffers of `size` bytes in a loop (ref churn);
  // returns the total bytes allocated.
  vm.export @churn
  vm.func @churn(%n : i32, %size : i64) -> i64 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %z = vm.const.i64.zero
    %align = vm.const.i32 16
    vm.br ^loop(%c0, %z : i32, i64)
  ^loop(%i : i32, %total : i64):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %b = vm.buffer.alloc %size, %align : !vm.buffer
    %l = vm.buffer.length %b : !vm.buffer -> i64
    %t1 = vm.add.i64 %total, %l : i64
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1, %t1 : i32, i64)
  ^done:
    vm.return %total : i64
  }
}
