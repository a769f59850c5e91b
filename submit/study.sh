#!/usr/bin/env bash
# The study's runs, embedded on this machine: all 50,000 training images, 10 epochs, every run into
# one results folder, each part resumable (run the same command again after an interruption).
#
# Usage: submit/study.sh PART [--data DIR] [--out DIR] [more train/sweep options]
#   PART  averaging     synchronous SGD by parameter averaging every minibatch, P = 1,2,4,8,16,24,32,48
#         sharing       the same arithmetic under gradient sharing (each replica's rate over P), same P
#         fixed-batch   remedy: the global batch held at 192 over P = 1,4,16,48
#         sqrt-warmup   remedy: learning rate times sqrt(P), reached by a linear warm-up over 2 epochs,
#                       P = 4,16,48
#         consistency   one replica at batch 128 and at 1536: the same computation as P = 4 and 48
#         all           every part above, in that order
#   defaults: --data ../shared/cifar10 beside the repository, --out results/study
#
# Variables:
#   JOB_JAR, JAVA, JAVA_OPTS   as for run-local.sh (a copy of the jar keeps a long run safe from rebuilds)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
part="$1"
shift
data="$here/../../shared/cifar10"
out="results/study"
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) [[ $# -ge 2 ]] || usage; data="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; out="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
common=(--data "$data" --out "$out" --epochs 10 --resume)
all_p=1,2,4,8,16,24,32,48

run_part() {
  case "$1" in
    averaging) "$here/run-local.sh" sweep "${common[@]}" --training-master averaging --partitions "$all_p" "${extra[@]}" ;;
    sharing) "$here/run-local.sh" sweep "${common[@]}" --training-master shared --partitions "$all_p" "${extra[@]}" ;;
    fixed-batch) "$here/run-local.sh" sweep "${common[@]}" --training-master averaging --global-batch 192 \
      --partitions 1,4,16,48 "${extra[@]}" ;;
    sqrt-warmup) "$here/run-local.sh" sweep "${common[@]}" --training-master averaging --lr-scaling sqrt \
      --warmup-epochs 2 --partitions 4,16,48 "${extra[@]}" ;;
    consistency)
      for batch in 128 1536; do
        "$here/run-local.sh" train "${common[@]}" --training-master averaging --partitions 1 --batch "$batch" "${extra[@]}"
      done ;;
    *) usage ;;
  esac
}

if [[ "$part" == all ]]; then
  for p in averaging consistency fixed-batch sqrt-warmup sharing; do
    run_part "$p"
  done
else
  run_part "$part"
fi
