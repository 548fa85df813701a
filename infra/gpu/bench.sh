#!/usr/bin/env bash
# For a GPU session (issue 12; first run on an H200 on 2026-11-30: 67 s, docs/BENCHMARKS.md). One call of ~2-5
# minutes on one GPU (at most 9.75 min: the steps' timeouts), one step after the other (timings must not overlap), the most
# wanted first: doctor, direct sampling at batch >= 1,000 (bench sampler), P2-GPU (bench p2-gpu: a 10,000-frame
# video job at 64 px through the in-process cluster / the best direct images/s; at the production chunk of 512, then
# at 2,048 with leases of 8,192), P3 (bench consistency-vs-diffusion), then direct sampling, P3 and P2-GPU with the
# network in bfloat16 (--precision BFloat16: speed, whether the quality table moves, the cluster serving it).
# Reports (markdown rows in BENCHMARKS.md's format) go to $OUT/gpu-rows.md, logs to $OUT/*.log, the ratios to
# $OUT/summary.txt: 10 files.
#   usage (repository root; OUT = folder for the results):
#     OUT=/tmp/out bash infra/gpu/bench.sh
#       runs the bundle .gpu/bundle.tar.xz (BUNDLE=...; made by `make-bundle.sh . .gpu/bundle.tar.xz tools/ScmTools` of the developers' GPU kit: a
#       self-contained scm-tools with MNIST, without the CPU libtorch) against the host PyTorch's libtorch
#       (infra/gpu/run.sh); the bundle is unpacked once into /tmp/scm-bundle and the checkout's models/ linked in.
#     W="infra/gpu/run.sh out/gpu/ScmTools/scm-tools" OUT=/tmp/out bash infra/gpu/bench.sh
#       runs a program published by infra/gpu/publish.sh on a node with this checkout (data/mnist fetched).
#   trial on a CPU with tiny sizes (checks the commands, measures nothing):
#     W=tools/ScmTools/bin/Debug/net10.0/scm-tools DEVICE=cpu TINY=1 OUT=/tmp/out bash infra/gpu/bench.sh
set -uo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
DEVICE="${DEVICE:-cuda}"
threads="$(nproc)"
if [ -n "${W:-}" ]; then
  read -ra tools <<< "$W"
  workdir="$PWD"
else
  bundle="$(realpath "${BUNDLE:-$repo/.gpu/bundle.tar.xz}")"
  dir=/tmp/scm-bundle
  if [ ! -x "$dir/scm-tools" ]; then
    mkdir -p "$dir" && tar -xJf "$bundle" -C "$dir" --strip-components=1 || { echo "cannot unpack $bundle" >&2; exit 2; }
  fi
  [ -e "$dir/models" ] || ln -s "$repo/models" "$dir/models"
  tools=(bash "$repo/infra/gpu/run.sh" "$dir/scm-tools")
  workdir="$dir"   # its Cluster.sln makes it the repository root: data/mnist and models/ are found there
fi
if [ "${TINY:-0}" = 1 ]; then
  sampler=(--batch-sizes 8,16 --threads 1 --rounds 1)
  p2=(--frames 48 --size 16 --steps 1 --batch-sizes 8,16 --rounds 1)
  p3=(--samples 20 --batch-size 10 --teacher-nfe 3 --threads 1)
else
  # The worker's chunk (512) and the issue's batch sizes (>= 1,000); the 4096 call needs a few GB of GPU memory.
  sampler=(--batch-sizes 512,1000,2048,4096 --threads "$threads" --rounds 5)
  p2=(--frames 10000 --size 64)
  p3=(--samples 2000 --batch-size 1000 --threads "$threads")
fi
report="$OUT/gpu-rows.md"
summary="$OUT/summary.txt"
start=$SECONDS
step() { # name, seconds, scm-tools arguments...
  local name=$1 limit=$2; shift 2
  echo "== $name: scm-tools $* (at $((SECONDS - start)) s)" | tee -a "$summary"
  (cd "$workdir" && timeout -k 10 "$limit" "${tools[@]}" "$@") > "$OUT/$name.log" 2>&1
  local code=$?
  tail -n 3 "$OUT/$name.log" | tee -a "$summary"
  echo "   exit $code after $((SECONDS - start)) s" | tee -a "$summary"
}
{ command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc; } 2>&1 | tee "$summary"
step doctor 45 doctor
step sampler 80 bench sampler --device "$DEVICE" "${sampler[@]}" --report "$report"
step p2-gpu 100 bench p2-gpu --device "$DEVICE" "${p2[@]}" --report "$report"
[ "${TINY:-0}" = 1 ] || step p2-gpu-2048 75 bench p2-gpu --device "$DEVICE" "${p2[@]}" --compute-chunk 2048 --lease-frames 8192 --report "$report"
step p3 90 bench consistency-vs-diffusion --device "$DEVICE" "${p3[@]}" --report "$report"
# The network in bfloat16 (the sampler's arithmetic around it stays float32): its speed, then its quality and P3 on the
# held-out digits (the same 2,000 samples as the float32 P3 row above: the FD columns compare directly).
step sampler-bf16 60 bench sampler --device "$DEVICE" "${sampler[@]}" --precision BFloat16 --report "$report"
step p3-bf16 75 bench consistency-vs-diffusion --device "$DEVICE" "${p3[@]}" --precision BFloat16 --report "$report"
# The cluster serving bfloat16 (Devices:Cuda:Precision): P2-GPU against direct sampling in the same precision.
step p2-gpu-bf16 60 bench p2-gpu --device "$DEVICE" "${p2[@]}" --precision BFloat16 --report "$report"
echo "done after $((SECONDS - start)) s" | tee -a "$summary"
ls -la "$OUT"
