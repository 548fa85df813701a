#!/usr/bin/env bash
# sCD training on a GPU (issue 11), one call: a CUDA training smoke (teacher and sCD, fresh then resumed) beside a few
# sCD lanes in parallel (validation curves every 200 iterations), then `scm-tools eval` (2,000 samples, held-out
# split) of every lane's best point. Lanes stop on SIGTERM, which saves a checkpoint.
# Results to $OUT (4 files): sweep-summary.txt, sweep-logs.tar.xz (logs, curves, every lane's held-out QUALITY-<lane>.md),
# and of the lane with the best 2-step validation FD its QUALITY-<lane>.md and best-<lane>.tar.xz (best/ checkpoint).
#   usage (repository root; the bundle or W as in bench.sh):
#     OUT=/tmp/out LANE_SECONDS=300 bash infra/gpu/scd-sweep.sh
#     SWEEP=capacity ... : teachers of width 32 / 64 / 96 for half the time, then sCD from each, and a student with
#       --extra-blocks 1 from the shipped teacher (default SWEEP=recipe)
#   trial on a CPU (checks the script, measures nothing):
#     W=tools/ScmTools/bin/Debug/net10.0/scm-tools DEVICE=cpu TINY=1 LANE_SECONDS=40 OUT=/tmp/out bash infra/gpu/scd-sweep.sh
set -uo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
LANE_SECONDS="${LANE_SECONDS:-300}"
DEVICE="${DEVICE:-cuda}"
if [ -n "${W:-}" ]; then
  read -ra tools <<< "$W"; [ -e "${tools[0]}" ] && tools[0]="$(realpath "${tools[0]}")"; workdir="$PWD"
else
  dir=/tmp/scm-bundle   # the bundle as bench.sh unpacks it (once; parallel lanes must not unpack it again)
  if [ ! -x "$dir/scm-tools" ]; then
    mkdir -p "$dir" && tar -xJf "$(realpath "${BUNDLE:-$repo/.gpu/bundle.tar.xz}")" -C "$dir" --strip-components=1 || exit 2
  fi
  [ -e "$dir/models" ] || ln -s "$repo/models" "$dir/models"
  tools=(bash "$repo/infra/gpu/run.sh" "$dir/scm-tools"); workdir="$dir"
fi
cd "$workdir" || exit 2
R=/tmp/runs; L=/tmp/logs; rm -rf $R $L; mkdir -p $R $L
T=models/mnist-teacher/model.json
if [ "${TINY:-0}" = 1 ]; then batch=(--batch-size 8); samples=(--validation-samples 20 --evaluate-every 2); eval_samples=20; eval_batch=10
else batch=(--batch-size 256); samples=(--validation-samples 1000 --evaluate-every 200); eval_samples=2000; eval_batch=500; fi
hardware="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
start=$SECONDS
# CUDA training smoke, fresh then resumed (the first step used to crash on CUDA), beside the lanes.
{ ( "${tools[@]}" train teacher --device "$DEVICE" --run $R/smoke-teacher --iterations 10 --checkpoint-every 5 --batch-size 8 --threads 1 &&
  "${tools[@]}" train teacher --device "$DEVICE" --run $R/smoke-teacher --iterations 20 --checkpoint-every 5 --batch-size 8 --threads 1 &&
  "${tools[@]}" train scd --device "$DEVICE" --teacher $T --run $R/smoke-scd --iterations 10 --checkpoint-every 5 --evaluate-every 5 --validation-samples 100 --batch-size 8 --threads 1 &&
  "${tools[@]}" train scd --device "$DEVICE" --teacher $T --run $R/smoke-scd --iterations 20 --checkpoint-every 5 --evaluate-every 5 --validation-samples 100 --batch-size 8 --threads 1
) > $L/smoke.log 2>&1; echo "smoke exit $? after $((SECONDS - start)) s" >> $L/smoke.log; } &
lane() { # name, extra arguments... (the teacher: $T)
  local name=$1; shift
  timeout -k 30 -s TERM "$LANE_SECONDS" "${tools[@]}" train scd --device "$DEVICE" --teacher "$T" --run $R/$name --iterations 100000 \
    --checkpoint-every 500 "${samples[@]}" "${batch[@]}" --threads 2 --jvp FiniteDifference --lr 1e-4 --tangent-warmup 500 \
    --hardware "${hardware:-$DEVICE}" "$@" > $L/$name.log 2>&1
  echo "$name exit $? after $((SECONDS - start)) s" >> $L/$name.log
}
case "${SWEEP:-recipe}" in
recipe)
  # The shipped recipe's first phase at 8x its batch, and the EMA as target network from 600 (measured on an H200 on
  # 2026-11-30: all three peak right after the warmup and degrade; docs/MODEL-ABLATIONS.md).
  lane base256 --ema-decay 0.995 &
  lane tgt256 --ema-decay 0.995 --ema-target-from 600 &
  lane tgt256-999 --ema-decay 0.999 --target-ema-decay 0.995 --ema-target-from 600 &
  ;;
capacity)
  # Is the post-warmup degradation a capacity limit of the 1.2M-parameter network? Teachers of width 32 (the shipped
  # architecture, as a control made by the same short recipe) and 64 / 96 are trained for TEACHER_SECONDS each, then
  # distilled with the shipped recipe's first phase for the rest of LANE_SECONDS (a student starts from its teacher).
  TEACHER_SECONDS="${TEACHER_SECONDS:-$((LANE_SECONDS / 2))}"
  wide() { # name, channels
    local name=$1 channels=$2
    timeout -k 30 -s TERM "$TEACHER_SECONDS" "${tools[@]}" train teacher --device "$DEVICE" --run $R/teacher-$name --iterations 100000 \
      --checkpoint-every 500 "${batch[@]}" --threads 2 --lr 5e-4 --model-channels "$channels" --hardware "${hardware:-$DEVICE}" > $L/teacher-$name.log 2>&1
    echo "teacher-$name exit $? after $((SECONDS - start)) s" >> $L/teacher-$name.log
    LANE_SECONDS=$((LANE_SECONDS - TEACHER_SECONDS)) T=$R/teacher-$name/ema/model.json lane $name --ema-decay 0.995
  }
  wide w32 32 & wide w64 64 & wide w96 96 &
  # Capacity without a new teacher: the shipped teacher's student with one more (zero-initialised) residual block per
  # stage. On the CPU at batch 32 it collapsed earlier than the plain student (docs/MODEL-ABLATIONS.md); at batch 256?
  lane xb1 --ema-decay 0.995 --extra-blocks 1 &
  ;;
*) echo "SWEEP must be recipe or capacity" >&2; exit 2 ;;
esac
wait
echo "lanes done after $((SECONDS - start)) s"
python3 - $R > $L/summary.txt <<'PY'
import json, sys, glob
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/*/curve.jsonl")):
    name = f.split("/")[-2]
    pts = [json.loads(l) for l in open(f) if l.strip()]
    if not pts or name.startswith("smoke") or "two_step_fd" not in pts[0]: continue
    for p in pts:
        print(f"{name} @ {p['iteration']}: 2-step FD {p['two_step_fd']:.3f} acc {p['two_step_accuracy']:.3f}; 1-step FD {p['one_step_fd']:.2f} acc {p['one_step_accuracy']:.3f}")
    best = min(pts, key=lambda p: p["two_step_fd"])
    rows.append((best["two_step_fd"], name))
print("BEST", sorted(rows)[0][1] if rows else "none")
PY
cat $L/summary.txt
best=$(grep '^BEST' $L/summary.txt | cut -d' ' -f2)
# Every lane's best point on the held-out split, against its own teacher (the card's initialized_from), in parallel.
for card in $R/*/best/model.json; do
  name=$(basename "$(dirname "$(dirname "$card")")"); case $name in smoke*|teacher-*) continue ;; esac
  teacher=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["training"]["initialized_from"])' "$card")
  ( timeout -k 10 150 "${tools[@]}" eval --device "$DEVICE" --student "$card" --teacher "$teacher" --samples $eval_samples \
      --batch-size $eval_batch --output "$L/QUALITY-$name.md" > $L/eval-$name.log 2>&1
    echo "eval $name exit $? after $((SECONDS - start)) s" >> $L/eval-$name.log ) &
done
wait
grep -h "^eval .* exit" $L/eval-*.log >> $L/summary.txt
[ -f "$L/QUALITY-$best.md" ] && cp "$L/QUALITY-$best.md" "$OUT/"
[ -f "$R/$best/best/model.json" ] && tar -C $R -cJf "$OUT/best-$best.tar.xz" $best/best
cp $L/summary.txt "$OUT/sweep-summary.txt"
tar -C /tmp -cJf "$OUT/sweep-logs.tar.xz" logs $(cd /tmp && find runs -name curve.jsonl -o -name 'model.json' | grep -v /state/)
echo "sweep done after $((SECONDS - start)) s"
