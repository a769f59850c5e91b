#!/usr/bin/env bash
# Strong scaling on an emulated cluster (submit/emulated-cluster.sh): the same training (the same
# images, epochs and per-replica batch 32) on 1, 2 and 4 nodes of the same CPU quota, one replica
# per node, with each training master, at each link rate; then one replica's step time measured on a
# node alone, the cost model calibrated on the 1- and 2-node runs at the fastest rate and checked
# against the rest, and the report. Resumable: run it again and finished runs are kept.
#
# Usage: submit/emulated-scaling.sh [--nodes N,N,..] [--rates RATE,..] [--masters M,..] [--cpu CORES]
#                                   [--images N] [--epochs N] [--data DIR] [--out DIR]
#   --nodes    node counts (default: 1,2,4)
#   --rates    link rates as tc writes them (default: 1gbit,100mbit)
#   --masters  training masters (default: averaging,shared)
#   --cpu      CPU quota of each node in cores (default: 0.45)
#   --images   training images of every run (default: 1920)
#   --epochs   epochs of every run; the model reads the warm ones, after the first in which every
#              node had trained (default: 3; on a slow link a node can join in epoch 2)
#   --data     CIFAR-10 folder (default: ../shared/cifar10 beside the repository)
#   --out      results folder (default: results/emulated-scaling)
#
# Variables:
#   NAME, SUBNET, STATE   as for submit/emulated-cluster.sh (default NAME here: sqzscale)
#   JOB_JAR, JAVA         as for submit/run-local.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$here/common.sh"

usage() {
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
}

nodes="1,2,4"
rates="1gbit,100mbit"
masters="averaging,shared"
cpu="0.45"
images=1920
epochs=3
data="$here/../../shared/cifar10"
out="results/emulated-scaling"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) script_usage "${BASH_SOURCE[0]}"; exit 0 ;;
    --nodes | --rates | --masters | --cpu | --images | --epochs | --data | --out)
      [[ $# -ge 2 ]] || usage
      case "$1" in
        --nodes) nodes="$2" ;;
        --rates) rates="$2" ;;
        --masters) masters="$2" ;;
        --cpu) cpu="$2" ;;
        --images) images="$2" ;;
        --epochs) epochs="$2" ;;
        --data) data="$2" ;;
        --out) out="$2" ;;
      esac
      shift 2
      ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a node_list <<< "$nodes"
IFS=, read -r -a rate_list <<< "$rates"
IFS=, read -r -a master_list <<< "$masters"
for n in "${node_list[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "error: --nodes $nodes: give whole numbers from 1, e.g. 1,2,4" >&2; exit 2; }
done
for m in "${master_list[@]}"; do
  [[ "$m" == averaging || "$m" == shared ]] || { echo "error: --masters $masters: give averaging and/or shared" >&2; exit 2; }
done
require_positive --images "$images"
require_positive --epochs "$epochs"
if [[ ! -d "$data" ]]; then
  echo "error: --data $data is not a folder: give the CIFAR-10 binary folder (see the README, Data)" >&2
  exit 2
fi
require_jar
export NAME="${NAME:-sqzscale}"
cluster="$here/emulated-cluster.sh"

# Mbit/s of a tc rate: what the runs record (spark.sqzspark.linkMbit) for the model
mbit_of() {
  local rate="${1,,}"
  if [[ ! "$rate" =~ ^([0-9]+(\.[0-9]+)?)([kmg]?)bit$ ]]; then
    echo "error: --rates $rates: expected rates as tc writes them, e.g. 1gbit,100mbit" >&2
    exit 2
  fi
  awk -v n="${BASH_REMATCH[1]}" -v u="${BASH_REMATCH[3]}" \
    'BEGIN { m = (u == "k") ? 1e-3 : (u == "m") ? 1 : (u == "g") ? 1e3 : 1e-6; printf "%g\n", n * m }'
}
for rate in "${rate_list[@]}"; do
  mbit_of "$rate" > /dev/null
done

trap '"$cluster" down > /dev/null 2>&1 || true' EXIT
mkdir -p "$out"
step_file="$out/node-step.json"
if [[ ! -s "$step_file" ]]; then
  echo "== one replica's step alone on a node (${cpu} cores)"
  "$cluster" up 1 --cpu "$cpu" > /dev/null
  # the node's OpenMP team as its executors get it (emulated-cluster.sh submit): one thread per core offered;
  # 300 warm-up steps, which the JIT compiler takes to reach full speed (20 measured 0.209 s a step where
  # a whole gradient-sharing step in a run took 0.147 s)
  threads="$(awk -v c="$cpu" 'BEGIN { t = int(c); if (t < c) t++; if (t < 1) t = 1; print t }')"
  "$cluster" exec 1 -- env OMP_NUM_THREADS="$threads" "$JAVA" "${JVM_FLAGS[@]}" -jar "$JOB_JAR" bench --part steps \
    --batch 32 --warmup 300 --iters 100 \
    | tail -n 1 > "$step_file.tmp"
  mv "$step_file.tmp" "$step_file"
  "$cluster" down > /dev/null
fi
step_seconds="$(awk -F'"train_img_per_s":' 'NF > 1 { split($2, v, /[,}]/); printf "%.4f\n", 32 / v[1] }' "$step_file")"
echo "one replica's step on a node: $step_seconds s (batch 32; $step_file)"

for rate in "${rate_list[@]}"; do
  for n in "${node_list[@]}"; do
    echo "== $n node(s), $rate links, $cpu cores each"
    "$cluster" up "$n" --rate "$rate" --cpu "$cpu" > /dev/null
    for m in "${master_list[@]}"; do
      "$cluster" submit -- train --data "$data" --out "$out" \
        --partitions "$n" --training-master "$m" --epochs "$epochs" --train-limit "$images" \
        --loss-sample 500 --resume
    done
    "$cluster" down > /dev/null
  done
done

"$JAVA" "${JVM_FLAGS[@]}" -jar "$JOB_JAR" scaling --results "$out" --calibration-step-seconds "$step_seconds" \
  --step-seconds "$step_seconds" --link-mbit "$(mbit_of "${rate_list[0]}")" --replicas-per-node 1 \
  --nodes 8 --images "$images"
"$JAVA" "${JVM_FLAGS[@]}" -jar "$JOB_JAR" report --results "$out"
