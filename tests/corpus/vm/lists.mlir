// !vm.list ops: typed lists of i8/i16/i32/i64/f32/f64, ref lists, variant lists.
// Indices and sizes are i32 element counts.
vm.module @lists {

  // set then get element i of a list<i8> resized to i + 1; stores truncate to the element width, loads sign-extend; i < 0 traps
  vm.export @roundtrip_i8
  vm.func @roundtrip_i8(%v : i32, %i : i32) -> i32 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<i8>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<i8>, i32)
    vm.list.set.i32 %l, %i, %v : (!vm.list<i8>, i32, i32)
    %r = vm.list.get.i32 %l, %i : (!vm.list<i8>, i32) -> i32
    vm.return %r : i32
  }

  // element i of a caller list; out of range traps
  vm.export @get_i8
  vm.func @get_i8(%l : !vm.list<i8>, %i : i32) -> i32 {
    %r = vm.list.get.i32 %l, %i : (!vm.list<i8>, i32) -> i32
    vm.return %r : i32
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_i8
  vm.func @set_i8(%l : !vm.list<i8>, %i : i32, %v : i32) {
    vm.list.set.i32 %l, %i, %v : (!vm.list<i8>, i32, i32)
    vm.return
  }

  // fills list<i8>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_i8
  vm.func @iota_sum_i8(%n : i32) -> i32 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<i8>
    vm.list.resize %l, %n : (!vm.list<i8>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    vm.list.set.i32 %l, %i, %i : (!vm.list<i8>, i32, i32)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<i8>) -> i32
    %z = vm.const.i32.zero
    vm.br ^sum(%c0, %z : i32, i32)
  ^sum(%j : i32, %acc : i32):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.i32 %l, %j : (!vm.list<i8>, i32) -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // set then get element i of a list<i16> resized to i + 1; stores truncate to the element width, loads sign-extend; i < 0 traps
  vm.export @roundtrip_i16
  vm.func @roundtrip_i16(%v : i32, %i : i32) -> i32 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<i16>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<i16>, i32)
    vm.list.set.i32 %l, %i, %v : (!vm.list<i16>, i32, i32)
    %r = vm.list.get.i32 %l, %i : (!vm.list<i16>, i32) -> i32
    vm.return %r : i32
  }

  // element i of a caller list; out of range traps
  vm.export @get_i16
  vm.func @get_i16(%l : !vm.list<i16>, %i : i32) -> i32 {
    %r = vm.list.get.i32 %l, %i : (!vm.list<i16>, i32) -> i32
    vm.return %r : i32
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_i16
  vm.func @set_i16(%l : !vm.list<i16>, %i : i32, %v : i32) {
    vm.list.set.i32 %l, %i, %v : (!vm.list<i16>, i32, i32)
    vm.return
  }

  // fills list<i16>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_i16
  vm.func @iota_sum_i16(%n : i32) -> i32 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<i16>
    vm.list.resize %l, %n : (!vm.list<i16>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    vm.list.set.i32 %l, %i, %i : (!vm.list<i16>, i32, i32)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<i16>) -> i32
    %z = vm.const.i32.zero
    vm.br ^sum(%c0, %z : i32, i32)
  ^sum(%j : i32, %acc : i32):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.i32 %l, %j : (!vm.list<i16>, i32) -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // set then get element i of a list<i32> resized to i + 1; i < 0 traps
  vm.export @roundtrip_i32
  vm.func @roundtrip_i32(%v : i32, %i : i32) -> i32 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<i32>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<i32>, i32)
    vm.list.set.i32 %l, %i, %v : (!vm.list<i32>, i32, i32)
    %r = vm.list.get.i32 %l, %i : (!vm.list<i32>, i32) -> i32
    vm.return %r : i32
  }

  // element i of a caller list; out of range traps
  vm.export @get_i32
  vm.func @get_i32(%l : !vm.list<i32>, %i : i32) -> i32 {
    %r = vm.list.get.i32 %l, %i : (!vm.list<i32>, i32) -> i32
    vm.return %r : i32
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_i32
  vm.func @set_i32(%l : !vm.list<i32>, %i : i32, %v : i32) {
    vm.list.set.i32 %l, %i, %v : (!vm.list<i32>, i32, i32)
    vm.return
  }

  // fills list<i32>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_i32
  vm.func @iota_sum_i32(%n : i32) -> i32 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<i32>
    vm.list.resize %l, %n : (!vm.list<i32>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    vm.list.set.i32 %l, %i, %i : (!vm.list<i32>, i32, i32)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<i32>) -> i32
    %z = vm.const.i32.zero
    vm.br ^sum(%c0, %z : i32, i32)
  ^sum(%j : i32, %acc : i32):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.i32 %l, %j : (!vm.list<i32>, i32) -> i32
    %acc1 = vm.add.i32 %acc, %e : i32
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, i32)
  ^done:
    vm.return %acc : i32
  }

  // set then get element i of a list<i64> resized to i + 1; i < 0 traps
  vm.export @roundtrip_i64
  vm.func @roundtrip_i64(%v : i64, %i : i32) -> i64 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<i64>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<i64>, i32)
    vm.list.set.i64 %l, %i, %v : (!vm.list<i64>, i32, i64)
    %r = vm.list.get.i64 %l, %i : (!vm.list<i64>, i32) -> i64
    vm.return %r : i64
  }

  // element i of a caller list; out of range traps
  vm.export @get_i64
  vm.func @get_i64(%l : !vm.list<i64>, %i : i32) -> i64 {
    %r = vm.list.get.i64 %l, %i : (!vm.list<i64>, i32) -> i64
    vm.return %r : i64
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_i64
  vm.func @set_i64(%l : !vm.list<i64>, %i : i32, %v : i64) {
    vm.list.set.i64 %l, %i, %v : (!vm.list<i64>, i32, i64)
    vm.return
  }

  // fills list<i64>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_i64
  vm.func @iota_sum_i64(%n : i32) -> i64 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<i64>
    vm.list.resize %l, %n : (!vm.list<i64>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    %iv = vm.ext.i32.i64.s %i : i32 -> i64
    vm.list.set.i64 %l, %i, %iv : (!vm.list<i64>, i32, i64)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<i64>) -> i32
    %z = vm.const.i64.zero
    vm.br ^sum(%c0, %z : i32, i64)
  ^sum(%j : i32, %acc : i64):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.i64 %l, %j : (!vm.list<i64>, i32) -> i64
    %acc1 = vm.add.i64 %acc, %e : i64
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, i64)
  ^done:
    vm.return %acc : i64
  }

  // set then get element i of a list<f32> resized to i + 1; i < 0 traps
  vm.export @roundtrip_f32
  vm.func @roundtrip_f32(%v : f32, %i : i32) -> f32 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<f32>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<f32>, i32)
    vm.list.set.f32 %l, %i, %v : (!vm.list<f32>, i32, f32)
    %r = vm.list.get.f32 %l, %i : (!vm.list<f32>, i32) -> f32
    vm.return %r : f32
  }

  // element i of a caller list; out of range traps
  vm.export @get_f32
  vm.func @get_f32(%l : !vm.list<f32>, %i : i32) -> f32 {
    %r = vm.list.get.f32 %l, %i : (!vm.list<f32>, i32) -> f32
    vm.return %r : f32
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_f32
  vm.func @set_f32(%l : !vm.list<f32>, %i : i32, %v : f32) {
    vm.list.set.f32 %l, %i, %v : (!vm.list<f32>, i32, f32)
    vm.return
  }

  // fills list<f32>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_f32
  vm.func @iota_sum_f32(%n : i32) -> f32 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<f32>
    vm.list.resize %l, %n : (!vm.list<f32>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    %iv = vm.cast.si32.f32 %i : i32 -> f32
    vm.list.set.f32 %l, %i, %iv : (!vm.list<f32>, i32, f32)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<f32>) -> i32
    %z = vm.const.f32.zero
    vm.br ^sum(%c0, %z : i32, f32)
  ^sum(%j : i32, %acc : f32):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.f32 %l, %j : (!vm.list<f32>, i32) -> f32
    %acc1 = vm.add.f32 %acc, %e : f32
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, f32)
  ^done:
    vm.return %acc : f32
  }

  // set then get element i of a list<f64> resized to i + 1; i < 0 traps
  vm.export @roundtrip_f64
  vm.func @roundtrip_f64(%v : f64, %i : i32) -> f64 {
    %cap = vm.const.i32 4
    %l = vm.list.alloc %cap : (i32) -> !vm.list<f64>
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    vm.list.resize %l, %n : (!vm.list<f64>, i32)
    vm.list.set.f64 %l, %i, %v : (!vm.list<f64>, i32, f64)
    %r = vm.list.get.f64 %l, %i : (!vm.list<f64>, i32) -> f64
    vm.return %r : f64
  }

  // element i of a caller list; out of range traps
  vm.export @get_f64
  vm.func @get_f64(%l : !vm.list<f64>, %i : i32) -> f64 {
    %r = vm.list.get.f64 %l, %i : (!vm.list<f64>, i32) -> f64
    vm.return %r : f64
  }

  // overwrites element i of a caller list; out of range traps
  vm.export @set_f64
  vm.func @set_f64(%l : !vm.list<f64>, %i : i32, %v : f64) {
    vm.list.set.f64 %l, %i, %v : (!vm.list<f64>, i32, f64)
    vm.return
  }

  // fills list<f64>[k] = k for k < n, then sums via list.size/list.get (wraps for narrow types)
  vm.export @iota_sum_f64
  vm.func @iota_sum_f64(%n : i32) -> f64 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<f64>
    vm.list.resize %l, %n : (!vm.list<f64>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^fill(%c0 : i32)
  ^fill(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^store, ^sum_start
  ^store:
    %i64 = vm.ext.i32.i64.s %i : i32 -> i64
    %iv = vm.cast.si64.f64 %i64 : i64 -> f64
    vm.list.set.f64 %l, %i, %iv : (!vm.list<f64>, i32, f64)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^fill(%i1 : i32)
  ^sum_start:
    %size = vm.list.size %l : (!vm.list<f64>) -> i32
    %z = vm.const.f64.zero
    vm.br ^sum(%c0, %z : i32, f64)
  ^sum(%j : i32, %acc : f64):
    %more2 = vm.cmp.lt.i32.s %j, %size : i32
    vm.cond_br %more2, ^add, ^done
  ^add:
    %e = vm.list.get.f64 %l, %j : (!vm.list<f64>, i32) -> f64
    %acc1 = vm.add.f64 %acc, %e : f64
    %j1 = vm.add.i32 %j, %c1 : i32
    vm.br ^sum(%j1, %acc1 : i32, f64)
  ^done:
    vm.return %acc : f64
  }

  // returns a new list<i32> of n copies of v (ref result owned by the caller)
  vm.export @make_list_i32
  vm.func @make_list_i32(%n : i32, %v : i32) -> !vm.list<i32> {
    %l = vm.list.alloc %n : (i32) -> !vm.list<i32>
    vm.list.resize %l, %n : (!vm.list<i32>, i32)
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    vm.br ^loop(%c0 : i32)
  ^loop(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    vm.list.set.i32 %l, %i, %v : (!vm.list<i32>, i32, i32)
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^loop(%i1 : i32)
  ^done:
    vm.return %l : !vm.list<i32>
  }

  // element count of any list
  vm.export @size
  vm.func @size(%l : !vm.list<?>) -> i32 {
    %n = vm.list.size %l : (!vm.list<?>) -> i32
    vm.return %n : i32
  }

  // 1000 * size after reserve (always 0) + size after resize(n); negative sizes trap
  vm.export @reserve_resize
  vm.func @reserve_resize(%cap : i32, %reserve : i32, %n : i32) -> i32 {
    %l = vm.list.alloc %cap : (i32) -> !vm.list<i32>
    vm.list.reserve %l, %reserve : (!vm.list<i32>, i32)
    %s0 = vm.list.size %l : (!vm.list<i32>) -> i32
    vm.list.resize %l, %n : (!vm.list<i32>, i32)
    %s1 = vm.list.size %l : (!vm.list<i32>) -> i32
    %k = vm.const.i32 1000
    %a = vm.mul.i32 %s0, %k : i32
    %r = vm.add.i32 %a, %s1 : i32
    vm.return %r : i32
  }

  // shrinking then growing clears the dropped elements: returns v - 0
  vm.export @resize_shrink_grow
  vm.func @resize_shrink_grow(%v : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %c4 = vm.const.i32 4
    %l = vm.list.alloc %c4 : (i32) -> !vm.list<i32>
    vm.list.resize %l, %c4 : (!vm.list<i32>, i32)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<i32>, i32, i32)
    vm.list.set.i32 %l, %c1, %v : (!vm.list<i32>, i32, i32)
    vm.list.resize %l, %c1 : (!vm.list<i32>, i32)
    vm.list.resize %l, %c4 : (!vm.list<i32>, i32)
    %a = vm.list.get.i32 %l, %c0 : (!vm.list<i32>, i32) -> i32
    %b = vm.list.get.i32 %l, %c1 : (!vm.list<i32>, i32) -> i32
    %r = vm.sub.i32 %a, %b : i32
    vm.return %r : i32
  }

  // stores a buffer ref into a variant list and reads it back (same object)
  vm.export @ref_roundtrip
  vm.func @ref_roundtrip(%b : !vm.buffer, %i : i32) -> !vm.buffer {
    %cap = vm.const.i32 2
    %one = vm.const.i32 1
    %n = vm.add.i32 %i, %one : i32
    %l = vm.list.alloc %cap : (i32) -> !vm.list<?>
    vm.list.resize %l, %n : (!vm.list<?>, i32)
    vm.list.set.ref %l, %i, %b : (!vm.list<?>, i32, !vm.buffer)
    %r = vm.list.get.ref %l, %i : (!vm.list<?>, i32) -> !vm.buffer
    vm.return %r : !vm.buffer
  }

  // fresh ref slots are null: returns 0 for 0 <= i < n
  vm.export @ref_slot_is_null
  vm.func @ref_slot_is_null(%i : i32, %n : i32) -> i32 {
    %l = vm.list.alloc %n : (i32) -> !vm.list<?>
    vm.list.resize %l, %n : (!vm.list<?>, i32)
    %r = vm.list.get.ref %l, %i : (!vm.list<?>, i32) -> !vm.buffer
    %nz = vm.cmp.nz.ref %r : !vm.buffer
    vm.return %nz : i32
  }

  vm.export @get_ref
  vm.func @get_ref(%l : !vm.list<?>, %i : i32) -> !vm.buffer {
    %r = vm.list.get.ref %l, %i : (!vm.list<?>, i32) -> !vm.buffer
    vm.return %r : !vm.buffer
  }

  // list of lists: returns v
  vm.export @nested_lists
  vm.func @nested_lists(%v : i32) -> i32 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %c2 = vm.const.i32 2
    %inner = vm.list.alloc %c2 : (i32) -> !vm.list<i32>
    vm.list.resize %inner, %c2 : (!vm.list<i32>, i32)
    vm.list.set.i32 %inner, %c1, %v : (!vm.list<i32>, i32, i32)
    %outer = vm.list.alloc %c1 : (i32) -> !vm.list<!vm.list<i32>>
    vm.list.resize %outer, %c1 : (!vm.list<!vm.list<i32>>, i32)
    vm.list.set.ref %outer, %c0, %inner : (!vm.list<!vm.list<i32>>, i32, !vm.list<i32>)
    %back = vm.list.get.ref %outer, %c0 : (!vm.list<!vm.list<i32>>, i32) -> !vm.list<i32>
    %r = vm.list.get.i32 %back, %c1 : (!vm.list<i32>, i32) -> i32
    vm.return %r : i32
  }

  // variant list holding one value of each primitive type; returns a + b + c + d in f64
  vm.export @variant_mixed
  vm.func @variant_mixed(%a : i32, %b : i64, %c : f32, %d : f64) -> f64 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %c2 = vm.const.i32 2
    %c3 = vm.const.i32 3
    %c4 = vm.const.i32 4
    %l = vm.list.alloc %c4 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c4 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %c0, %a : (!vm.list<?>, i32, i32)
    vm.list.set.i64 %l, %c1, %b : (!vm.list<?>, i32, i64)
    vm.list.set.f32 %l, %c2, %c : (!vm.list<?>, i32, f32)
    vm.list.set.f64 %l, %c3, %d : (!vm.list<?>, i32, f64)
    %ra = vm.list.get.i32 %l, %c0 : (!vm.list<?>, i32) -> i32
    %rb = vm.list.get.i64 %l, %c1 : (!vm.list<?>, i32) -> i64
    %rc = vm.list.get.f32 %l, %c2 : (!vm.list<?>, i32) -> f32
    %rd = vm.list.get.f64 %l, %c3 : (!vm.list<?>, i32) -> f64
    %fa = vm.cast.si32.f32 %ra : i32 -> f32
    %fa64 = vm.ext.f32.f64 %fa : f32 -> f64
    %fb = vm.cast.si64.f64 %rb : i64 -> f64
    %fc = vm.ext.f32.f64 %rc : f32 -> f64
    %s0 = vm.add.f64 %fa64, %fb : f64
    %s1 = vm.add.f64 %s0, %fc : f64
    %s2 = vm.add.f64 %s1, %rd : f64
    vm.return %s2 : f64
  }

  // reads an i32 variant as i64: the runtime converts (sign-extends)
  vm.export @variant_i32_as_i64
  vm.func @variant_i32_as_i64(%v : i32) -> i64 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.i32 %l, %c0, %v : (!vm.list<?>, i32, i32)
    %r = vm.list.get.i64 %l, %c0 : (!vm.list<?>, i32) -> i64
    vm.return %r : i64
  }

  // buffer stored in a variant list and read back typed; returns its byte length
  vm.export @variant_ref
  vm.func @variant_ref(%b : !vm.buffer) -> i64 {
    %c0 = vm.const.i32.zero
    %c1 = vm.const.i32 1
    %l = vm.list.alloc %c1 : (i32) -> !vm.list<?>
    vm.list.resize %l, %c1 : (!vm.list<?>, i32)
    vm.list.set.ref %l, %c0, %b : (!vm.list<?>, i32, !vm.buffer)
    %r = vm.list.get.ref %l, %c0 : (!vm.list<?>, i32) -> !vm.buffer
    %n = vm.buffer.length %r : !vm.buffer -> i64
    vm.return %n : i64
  }
}
