// Element-copy loops over a delinearised index, for splatjit/copy_nests.py: loops it
// runs as one native copy when its run-time checks pass (otherwise the loop itself runs,
// so traps and partial stores match the interpreter), and near misses it must leave
// alone. Every function returns 0; the buffers are the results.
vm.module @copy_nests {
  vm.rodata private @ro dense<0.0> : tensor<256xf32>

  // Tiles of 8x8 f32 (src, row-major, read linearly) unpacked into a 16-column dst:
  // tile t -> columns [8t, 8t + 8) of rows [8 off, 8 off + 8), each row only if < rows.
  vm.export @unpack
  vm.func @unpack(%src : !vm.buffer, %dst : !vm.buffer, %n : i32, %off : i32, %rows : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %c8 = vm.const.i64 8
    %c16 = vm.const.i64 16
    %c64 = vm.const.i64 64
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %o = vm.ext.i32.i64.s %off : i32 -> i64
    %lim = vm.ext.i32.i64.s %rows : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %t = vm.div.i64.s %i, %c64 : i64
    %w = vm.rem.i64.s %i, %c64 : i64
    %r = vm.div.i64.s %w, %c8 : i64
    %c = vm.rem.i64.s %i, %c8 : i64
    %row0 = vm.mul.i64 %o, %c8 : i64
    %row = vm.add.i64 %row0, %r : i64
    %ok = vm.cmp.lt.i64.u %row, %lim : i64
    vm.cond_br %ok, ^copy, ^next
  ^copy:
    %col0 = vm.mul.i64 %t, %c8 : i64
    %col = vm.add.i64 %col0, %c : i64
    %d = vm.fma.i64 %row, %c16, %col : i64
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%d] : f32 -> !vm.buffer
    vm.br ^next
  ^next:
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // An i32 induction and i16 elements: runs of 16 (32 bytes) at stride 32 from off.
  vm.export @narrow
  vm.func @narrow(%src : !vm.buffer, %dst : !vm.buffer, %n : i32, %off : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %c16 = vm.const.i32 16
    %c32 = vm.const.i32 32
    vm.br ^header(%c0 : i32)
  ^header(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %t = vm.div.i32.s %i, %c16 : i32
    %c = vm.rem.i32.s %i, %c16 : i32
    %d0 = vm.fma.i32 %t, %c32, %c : i32
    %d1 = vm.add.i32 %d0, %off : i32
    %si = vm.ext.i32.i64.s %i : i32 -> i64
    %di = vm.ext.i32.i64.s %d1 : i32 -> i64
    %v = vm.buffer.load.i16.u %src[%si] : !vm.buffer -> i32
    vm.buffer.store.i16 %v, %dst[%di] : i32 -> !vm.buffer
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^header(%i1 : i32)
  ^done:
    vm.return %c0 : i32
  }

  // b[i + off] = b[i] for i in [0, n): one buffer, so the ranges overlap unless
  // |off| >= n (then the copy runs; else the loop, whose order matters).
  vm.export @in_place
  vm.func @in_place(%b : !vm.buffer, %n : i32, %off : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %o = vm.ext.i32.i64.s %off : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %d = vm.add.i64 %i, %o : i64
    %v = vm.buffer.load.i32 %b[%i] : !vm.buffer -> i32
    vm.buffer.store.i32 %v, %b[%d] : i32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // The copy into rodata: recognised, but the destination is read-only, so the loop
  // runs and traps at its first store (when n > 0).
  vm.export @to_rodata
  vm.func @to_rodata(%src : !vm.buffer, %n : i32) -> i32 {
    %dst = vm.const.ref.rodata @ro : !vm.buffer
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%i] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // dst[i] = src[i] for i in [start, n): the nest runs only when start == 0.
  vm.export @suffix
  vm.func @suffix(%src : !vm.buffer, %dst : !vm.buffer, %start : i32, %n : i32) -> i32 {
    %c1 = vm.const.i64 1
    %first = vm.ext.i32.i64.s %start : i32 -> i64
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%first : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%i] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // dst[ext(i + off) - ext(off)] = src[i]: the index is i unless the i32 add wraps
  // (off near 2**31), which the nest's limit on invariants rules out; then the loop runs.
  vm.export @wrapped
  vm.func @wrapped(%src : !vm.buffer, %dst : !vm.buffer, %n : i32, %off : i32) -> i32 {
    %c0 = vm.const.i32 0
    %c1 = vm.const.i32 1
    %oe = vm.ext.i32.i64.s %off : i32 -> i64
    vm.br ^header(%c0 : i32)
  ^header(%i : i32):
    %more = vm.cmp.lt.i32.s %i, %n : i32
    vm.cond_br %more, ^body, ^done
  ^body:
    %a = vm.add.i32 %i, %off : i32
    %ae = vm.ext.i32.i64.s %a : i32 -> i64
    %d = vm.sub.i64 %ae, %oe : i64
    %si = vm.ext.i32.i64.s %i : i32 -> i64
    %v = vm.buffer.load.f32 %src[%si] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%d] : f32 -> !vm.buffer
    %i1 = vm.add.i32 %i, %c1 : i32
    vm.br ^header(%i1 : i32)
  ^done:
    vm.return %c0 : i32
  }

  // Near misses (never recognised): a step of 2 ...
  vm.export @step_two
  vm.func @step_two(%src : !vm.buffer, %dst : !vm.buffer, %n : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c2 = vm.const.i64 2
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%i] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c2 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // ... a second store ...
  vm.export @two_stores
  vm.func @two_stores(%src : !vm.buffer, %dst : !vm.buffer, %n : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %c32 = vm.const.i64 32
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%i] : f32 -> !vm.buffer
    %j = vm.add.i64 %i, %c32 : i64
    vm.buffer.store.f32 %v, %dst[%j] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // ... a value that is not the loaded one ...
  vm.export @plus_half
  vm.func @plus_half(%src : !vm.buffer, %dst : !vm.buffer, %n : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %half = vm.const.f32 0.5
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    %w = vm.add.f32 %v, %half : f32
    vm.buffer.store.f32 %w, %dst[%i] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }

  // ... and an index that is not affine (i times an invariant).
  vm.export @scaled
  vm.func @scaled(%src : !vm.buffer, %dst : !vm.buffer, %n : i32, %k : i32) -> i32 {
    %c0 = vm.const.i64 0
    %c1 = vm.const.i64 1
    %count = vm.ext.i32.i64.s %n : i32 -> i64
    %kk = vm.ext.i32.i64.s %k : i32 -> i64
    vm.br ^header(%c0 : i64)
  ^header(%i : i64):
    %more = vm.cmp.lt.i64.s %i, %count : i64
    vm.cond_br %more, ^body, ^done
  ^body:
    %d = vm.mul.i64 %i, %kk : i64
    %v = vm.buffer.load.f32 %src[%i] : !vm.buffer -> f32
    vm.buffer.store.f32 %v, %dst[%d] : f32 -> !vm.buffer
    %i1 = vm.add.i64 %i, %c1 : i64
    vm.br ^header(%i1 : i64)
  ^done:
    %z = vm.const.i32 0
    vm.return %z : i32
  }
}
