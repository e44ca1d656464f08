// Callee module for call_imported_func.mlir; must be loaded into the context
// before any module importing `native_import_module.add_1`.
vm.module @native_import_module {
  vm.export @add_1
  vm.func @add_1(%x : i32) -> i32 {
    %one = vm.const.i32 1
    %y = vm.add.i32 %x, %one : i32
    vm.return %y : i32
  }
}
