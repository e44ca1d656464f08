#!/usr/bin/env bash
# Rebuilds the bundled example modules from their .mlir sources with the pinned IREE compiler
# (pip install 'iree-base-compiler==3.13.*'). Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")"
IREE_COMPILE=${IREE_COMPILE:-iree-compile}
"$IREE_COMPILE" --compile-mode=vm loop_sum.mlir -o loop_sum.vmfb
"$IREE_COMPILE" --iree-hal-target-device=local --iree-hal-local-target-device-backends=vmvx \
    matmul.mlir -o matmul.vmfb
