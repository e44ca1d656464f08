// Programs that keep their argument view (or its buffer) in a global, or return it
// (tests/test_program_call.py: argument views reused only when nothing else holds them).
util.global private mutable @kept_view : !hal.buffer_view
util.global private mutable @kept_buffer : !hal.buffer

// Stores its argument view when `flag` is non-zero.
func.func @keep_view(%a: !hal.buffer_view, %flag: i32) {
  %c0 = arith.constant 0 : i32
  %p = arith.cmpi ne, %flag, %c0 : i32
  scf.if %p {
    util.global.store %a, @kept_view : !hal.buffer_view
  }
  return
}

// Stores its argument's buffer when `flag` is non-zero.
func.func @keep_buffer(%a: !hal.buffer_view, %flag: i32) {
  %c0 = arith.constant 0 : i32
  %p = arith.cmpi ne, %flag, %c0 : i32
  scf.if %p {
    %b = hal.buffer_view.buffer<%a : !hal.buffer_view> : !hal.buffer
    util.global.store %b, @kept_buffer : !hal.buffer
  }
  return
}

// Returns its argument.
func.func @echo(%a: !hal.buffer_view) -> !hal.buffer_view {
  return %a : !hal.buffer_view
}

func.func @saved_view() -> !hal.buffer_view {
  %v = util.global.load @kept_view : !hal.buffer_view
  return %v : !hal.buffer_view
}

// The kept buffer's first 16 bytes as a 4xf32 view.
func.func @saved_buffer() -> !hal.buffer_view {
  %b = util.global.load @kept_buffer : !hal.buffer
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %et = hal.element_type<f32> : i32
  %enc = hal.encoding_type<dense_row_major> : i32
  %v = hal.buffer_view.create buffer(%b : !hal.buffer)[%c0, %c16] shape([%c4]) type(%et) encoding(%enc) : !hal.buffer_view
  return %v : !hal.buffer_view
}
