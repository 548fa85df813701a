#!/usr/bin/env bash
# Publishes a program of this repository for a Linux x64 GPU node that has PyTorch with CUDA installed, WITHOUT the
# CPU libtorch natives (~490 MB): at run time run.sh points the loader at the host PyTorch's libtorch instead.
# Checked: TorchSharp 0.107's native shim resolves every symbol against PyTorch 2.11.0+cu130's torch/lib (an H200 node).
#   usage: infra/gpu/publish.sh [PROJECT (default Silo)] [OUTPUT (default out/gpu/<project name>)]
#   e.g.   infra/gpu/publish.sh Silo && infra/gpu/publish.sh tools/ScmTools
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
project="${1:-Silo}"
output="${2:-$repo/out/gpu/$(basename "$project")}"
[ -d "$repo/$project" ] || { echo "no project folder $repo/$project" >&2; exit 2; }
rm -rf "$output"
dotnet publish "$repo/$project" -c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true -o "$output" >/dev/null
cd "$output"
# The CPU libtorch and its helpers: the host's CUDA libtorch replaces them.
rm -f libtorch.so libtorch_cpu.so libtorch_python.so libtorch_global_deps.so libc10.so libgomp-*.so.1 libshm.so \
      libaoti_custom_ops.so libbackend_with_compiler.so libjitbackend_test.so libnnapi_backend.so libtorchbind_test.so ./*.pdb
rm -rf runtimes
echo "$output: $(du -sm . | cut -f1) MiB; run it with infra/gpu/run.sh $output/<program> ..."
