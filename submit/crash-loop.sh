#!/usr/bin/env bash
# Repeats one short embedded training run many times and counts the JVM crashes among them: a
# reproduction loop for rare native faults (SIGSEGV, abort) in the replicas' training threads.
#
# Usage: submit/crash-loop.sh --data DIR [--runs N] [--partitions P] [--training-master KIND] [--epochs N]
#                             [--batch N] [--out DIR]
#   defaults: --runs 50 --partitions 2 --training-master shared --epochs 6 --batch 64
#   --out crash-loop (one folder per run: its log, results and any hs_err_pid*.log)
#   DIR is a CIFAR-10 binary folder; a few thousand training images keep one run well under a minute
#   (the loop trains on all of DIR's images, and evaluates on all of its test batch after every epoch).
# Each run is `train -p P --training-master KIND --embedded spark` (DL4J's own Spark training, as the
# bench's Spark part runs it: with gradient sharing, P replicas in one ParallelWrapper). A run counts as
# a crash when the JVM dies by a signal (exit code above 128, e.g. 134 abort, 139 SIGSEGV) or leaves an
# hs_err file; any other non-zero exit counts as a failure. Prints one line per run and a summary; exits 1
# if any run crashed or failed.
#
# Variables:
#   JAVA_OPTS        JVM options of each run (default: -Xmx2g)
#   OMP_NUM_THREADS  OpenMP team of each replica (default: 2, as submit/bench.sh runs the project's side)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

data="" runs=50 partitions=2 master=shared epochs=6 batch=64 out=crash-loop
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case "$1" in
    --data) data="$2" ;;
    --runs) runs="$2" ;;
    --partitions) partitions="$2" ;;
    --training-master) master="$2" ;;
    --epochs) epochs="$2" ;;
    --batch) batch="$2" ;;
    --out) out="$2" ;;
    *) usage ;;
  esac
  shift 2
done
[[ -n "$data" && "$runs$partitions$epochs$batch" =~ ^[0-9]+$ ]] || usage
if [[ ! -d "$data" ]]; then
  echo "error: --data $data is not a folder; give a CIFAR-10 binary folder (data_batch_1..5.bin, test_batch.bin)" >&2
  exit 1
fi
require_jar
mkdir -p "$out"

read -r -a extra_opts <<< "${JAVA_OPTS:--Xmx2g}"
crashes=0 failures=0
for ((run = 1; run <= runs; run++)); do
  dir="$out/run-$run"
  mkdir -p "$dir"
  # the crash report goes beside the run's log, not into whatever folder the loop started in
  cmd=(env "OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}" "$JAVA" "${JVM_FLAGS[@]}" "${extra_opts[@]}"
    "-XX:ErrorFile=$dir/hs_err_pid%p.log" -jar "$JOB_JAR" train --data "$data" --out "$dir/results"
    -p "$partitions" --training-master "$master" --embedded spark --epochs "$epochs" --batch "$batch"
    --loss-sample 100)
  start=$SECONDS
  code=0
  "${cmd[@]}" > "$dir/run.log" 2>&1 || code=$?
  hs_err=("$dir"/hs_err_pid*.log)
  if ((code > 128)) || [[ -e "${hs_err[0]}" ]]; then
    crashes=$((crashes + 1))
    verdict=CRASH
  elif ((code != 0)); then
    failures=$((failures + 1))
    verdict=FAILED
  else
    verdict=ok
  fi
  echo "run $run/$runs: exit $code, $((SECONDS - start)) s, $verdict"
done
echo "crash-loop: $crashes crashes and $failures other failures in $runs runs (P=$partitions, $master," \
  "$epochs epochs of $data at batch $batch); logs in $out"
((crashes == 0 && failures == 0))
