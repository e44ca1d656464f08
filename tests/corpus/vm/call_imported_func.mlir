// corpus-needs: native_import_module
// VMVX RFC benchmark 3: cross-module calls.
// call_imported_func(x) chains 21 calls of native_import_module.add_1 and
// returns x + 21 (i32 wraparound). Needs native_import_module loaded first.
vm.module @call_imported_func {
  vm.import private @native_import_module.add_1(%x : i32) -> i32
  vm.export @call_imported_func
  vm.func @call_imported_func(%x : i32) -> i32 {
    %v0 = vm.call @native_import_module.add_1(%x) : (i32) -> i32
    %v1 = vm.call @native_import_module.add_1(%v0) : (i32) -> i32
    %v2 = vm.call @native_import_module.add_1(%v1) : (i32) -> i32
    %v3 = vm.call @native_import_module.add_1(%v2) : (i32) -> i32
    %v4 = vm.call @native_import_module.add_1(%v3) : (i32) -> i32
    %v5 = vm.call @native_import_module.add_1(%v4) : (i32) -> i32
    %v6 = vm.call @native_import_module.add_1(%v5) : (i32) -> i32
    %v7 = vm.call @native_import_module.add_1(%v6) : (i32) -> i32
    %v8 = vm.call @native_import_module.add_1(%v7) : (i32) -> i32
    %v9 = vm.call @native_import_module.add_1(%v8) : (i32) -> i32
    %v10 = vm.call @native_import_module.add_1(%v9) : (i32) -> i32
    %v11 = vm.call @native_import_module.add_1(%v10) : (i32) -> i32
    %v12 = vm.call @native_import_module.add_1(%v11) : (i32) -> i32
    %v13 = vm.call @native_import_module.add_1(%v12) : (i32) -> i32
    %v14 = vm.call @native_import_module.add_1(%v13) : (i32) -> i32
    %v15 = vm.call @native_import_module.add_1(%v14) : (i32) -> i32
    %v16 = vm.call @native_import_module.add_1(%v15) : (i32) -> i32
    %v17 = vm.call @native_import_module.add_1(%v16) : (i32) -> i32
    %v18 = vm.call @native_import_module.add_1(%v17) : (i32) -> i32
    %v19 = vm.call @native_import_module.add_1(%v18) : (i32) -> i32
    %v20 = vm.call @native_import_module.add_1(%v19) : (i32) -> i32
    vm.return %v20 : i32
  }
}
