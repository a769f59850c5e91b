#!/usr/bin/env bash
# The partition-count sweep on a Spark standalone cluster: one application per P, each with its own
# executor count. Gradient sharing runs P / executors replicas in each executor, so for every P the
# executors E are the largest divisor of P that the workers can host (one executor per worker host),
# and each executor trains P / E replicas: 24 Pis give P=48 as 24 executors x 2. A single P is one
# training run. All runs write into one --out folder (results.csv gains rows per run).
#
# Usage: submit/cluster-sweep.sh [--partitions P,P,...] [--workers N] [--dry-run] [TRAIN OPTIONS]
#   --partitions   partition counts, in order (default: 1,2,4,8,16,24,32,48, the job's sweep default)
#   --workers      worker hosts to map onto (default: the hosts in the workers file)
#   --dry-run      print the plan and the commands, run nothing
#   TRAIN OPTIONS  go to every run, as for `train --help` (--data, --out, --epochs, --training-master ...)
#   e.g. SPARK_MASTER_URL=spark://head:7077 submit/cluster-sweep.sh --data hdfs://head:9000/cifar10 \
#          --out hdfs://head:9000/results/sweep --epochs 10
#
# Variables:
#   SPARK_MASTER_URL   master to submit to (required unless --dry-run)
#   SPARK_WORKERS      workers file (default: spark-conf/workers)
#   EXECUTOR_CORES     cores of one executor (default: spark.executor.cores of spark-defaults.conf)
#   and those of submit.sh (SPARK_HOME, EXECUTOR_MEMORY, DEPLOY_MODE)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$here/common.sh"

usage() {
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
}

partitions="1,2,4,8,16,24,32,48"
workers=""
dry_run=false
train_opts=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      script_usage "${BASH_SOURCE[0]}"
      exit 0
      ;;
    -p | --partitions | --workers)
      [[ $# -ge 2 ]] || usage
      if [[ "$1" == "--workers" ]]; then workers="$2"; else partitions="$2"; fi
      shift 2
      ;;
    --partitions=*) partitions="${1#*=}"; shift ;;
    --workers=*) workers="${1#*=}"; shift ;;
    --dry-run) dry_run=true; shift ;;
    --master | --master=*)
      echo "error: $1: the master is SPARK_MASTER_URL here; set it instead" >&2
      exit 2
      ;;
    *) train_opts+=("$1"); shift ;;
  esac
done

if [[ ! "$partitions" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]]; then
  echo "error: --partitions $partitions is not a comma-separated list of positive integers, e.g. 1,2,4,8,16,24,32,48" >&2
  exit 2
fi
IFS=, read -r -a plist <<< "$partitions"
if [[ -n "$workers" ]]; then
  if [[ ! "$workers" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: --workers $workers is not a positive integer" >&2
    exit 2
  fi
else
  read_workers
  workers=${#WORKER_HOSTS[@]}
fi
cores="${EXECUTOR_CORES:-$(spark_default spark.executor.cores)}"
if [[ ! "$cores" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: cores per executor unknown: set EXECUTOR_CORES or spark.executor.cores in $SPARK_CONF_DIR/spark-defaults.conf" >&2
  exit 2
fi
if ! $dry_run && [[ -z "${SPARK_MASTER_URL:-}" ]]; then
  echo "error: SPARK_MASTER_URL is not set; start the cluster (submit/start-cluster.sh) and export the URL it prints" >&2
  exit 2
fi

# P -> executors (largest divisor of P not above the worker count), replicas per executor, and the
# native threads of each replica (the executor's cores shared among its replicas).
echo "P   executors  replicas/executor  threads/replica  (${workers} workers, ${cores} cores each)"
runs=()
for p in "${plist[@]}"; do
  e=$((p < workers ? p : workers))
  while ((p % e != 0)); do
    e=$((e - 1))
  done
  w=$((p / e))
  t=$((cores / w > 0 ? cores / w : 1))
  note=""
  if ((w > cores)); then
    note="  (more replicas than cores in an executor: slow, and each replica needs its own memory)"
  fi
  printf '%-3s %-10s %-18s %s%s\n' "$p" "$e" "$w" "$t" "$note"
  runs+=("$p $e $w $t")
done

failed=()
for run in "${runs[@]}"; do
  read -r p e w t <<< "$run"
  cmd=(env "EXECUTORS=$e" "EXECUTOR_CORES=$cores" "OMP_THREADS=$t" "$here/submit.sh" train --partitions "$p"
    "${train_opts[@]}")
  if $dry_run; then
    printf '%q ' "${cmd[@]}"
    echo
    continue
  fi
  echo "=== P=$p: $e executor(s) x $w replica(s)"
  status=0
  "${cmd[@]}" || status=$?
  if [[ $status -eq 2 || $status -eq 3 ]]; then
    # an invalid option or bad data fails every P alike
    echo "error: P=$p stopped with exit code $status (see its message above); the sweep stops" >&2
    exit "$status"
  fi
  if [[ $status -ne 0 ]]; then
    echo "P=$p failed with exit code $status; going on with the next P" >&2
    failed+=("$p")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: runs failed for P=${failed[*]}; their driver output above names the cause" >&2
  exit 1
fi
