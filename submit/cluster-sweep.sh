#!/usr/bin/env bash
# The partition-count sweep on a Spark standalone cluster: one application per P, each with its own
# executor count. Gradient sharing runs P / executors replicas in each executor, so for every P the
# executors E are the largest divisor of P that the live workers can host (one executor per worker
# host), and each executor trains P / E replicas: 24 Pis give P=48 as 24 executors x 2. A single P is
# one training run. All runs write into one --out folder (results.csv gains rows per run); at the end
# the sweep writes that folder's report.html (submit/report.sh).
#
# The live workers are those the master's JSON view (http://<master host>:<web UI port>/json/) lists
# as ALIVE with the cores and memory of an executor; where the master does not answer (or, with
# --dry-run, SPARK_MASTER_URL is not set) the plan says so and takes the hosts in the workers file.
# A P the cluster cannot host now (the job's exit code 5: too few executors registered, no master)
# is skipped with one line and the sweep goes on; an invalid option or bad data (2, 3) stops it at
# once; a run that diverged (6: loss or parameters NaN or infinite) is recorded as such and the sweep
# goes on; any other failure of a run is reported and the sweep goes on.
# Exit codes: 0 every P ran; 1 a run or the report failed; 2, 3 as the job; 5 P skipped, none failed;
# 6 a run diverged, none failed or skipped.
#
# Usage: submit/cluster-sweep.sh [--partitions P,P,...] [--workers N] [--dry-run] [TRAIN OPTIONS]
#   --partitions   partition counts, in order (default: 1,2,4,8,16,24,32,48, the job's sweep default)
#   --workers      worker hosts to map onto (default: the live workers, as above)
#   --dry-run      print the plan and the commands, run nothing
#   TRAIN OPTIONS  go to every run, as for `train --help` (--data, --out, --epochs, --training-master ...)
#   e.g. SPARK_MASTER_URL=spark://head:7077 submit/cluster-sweep.sh --data hdfs://head:9000/cifar10 \
#          --out hdfs://head:9000/results/sweep --epochs 10
#
# Variables:
#   SPARK_MASTER_URL   master to submit to (required unless --dry-run)
#   SPARK_MASTER_WEBUI_PORT  its web UI port (default: 8080)
#   SPARK_WORKERS      workers file, where the master does not answer (default: spark-conf/workers)
#   EXECUTOR_CORES     cores of one executor (default: spark.executor.cores of spark-defaults.conf)
#   EXECUTOR_MEMORY    heap of one executor (default: spark.executor.memory of spark-defaults.conf)
#   and those of submit.sh (SPARK_HOME) and report.sh (JAVA, JAVA_OPTS)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$here/common.sh"

usage() {
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
}

partitions="$SWEEP_PARTITIONS_DEFAULT"
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
cores="${EXECUTOR_CORES:-$(spark_default spark.executor.cores)}"
if [[ ! "$cores" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: cores per executor unknown: set EXECUTOR_CORES or spark.executor.cores in $SPARK_CONF_DIR/spark-defaults.conf" >&2
  exit 2
fi
memory="$(memory_mb "${EXECUTOR_MEMORY:-$(spark_default spark.executor.memory)}")"
if ! $dry_run && [[ -z "${SPARK_MASTER_URL:-}" ]]; then
  echo "error: SPARK_MASTER_URL is not set; start the cluster (submit/start-cluster.sh) and export the URL it prints" >&2
  exit 2
fi
if [[ -n "$workers" ]]; then
  if [[ ! "$workers" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: --workers $workers is not a positive integer" >&2
    exit 2
  fi
else
  live_workers "$cores" "${memory:-1024}"
  workers=$LIVE_WORKERS
fi
# the results folder, for the report at the end (the job's default: results)
out=results
for ((i = 0; i < ${#train_opts[@]}; i++)); do
  case "${train_opts[i]}" in
    --out) out="${train_opts[i + 1]:-$out}" ;;
    --out=*) out="${train_opts[i]#--out=}" ;;
  esac
done

# P -> executors, replicas per executor, and the native threads of each replica (plan_run).
echo "P   executors  replicas/executor  threads/replica  (${workers} workers, ${cores} cores each)"
runs=()
for p in "${plist[@]}"; do
  plan_run "$p" "$workers" "$cores"
  note=""
  if ((PLAN_REPLICAS > cores)); then
    note="  (more replicas than cores in an executor: slow, and each replica needs its own memory)"
  fi
  printf '%-3s %-10s %-18s %s%s\n' "$p" "$PLAN_EXECUTORS" "$PLAN_REPLICAS" "$PLAN_THREADS" "$note"
  runs+=("$p $PLAN_EXECUTORS $PLAN_REPLICAS $PLAN_THREADS")
done

failed=()
skipped=()
diverged=()
completed=0
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
  case $status in
    0) completed=$((completed + 1)) ;;
    2 | 3)
      # an invalid option or bad data fails every P alike
      echo "error: P=$p stopped with exit code $status (see its message above); the sweep stops" >&2
      exit "$status"
      ;;
    "$EXIT_DIVERGED")
      # a result all the same: its JSON and CSV say diverged, and the report shows it
      echo "P=$p diverged (see its error line above); going on with the next P" >&2
      diverged+=("$p")
      completed=$((completed + 1))
      ;;
    "$EXIT_CLUSTER")
      echo "P=$p skipped: the cluster cannot host it now (exit code $EXIT_CLUSTER, see its message above); going on with the next P" >&2
      skipped+=("$p")
      ;;
    *)
      echo "P=$p failed with exit code $status; going on with the next P" >&2
      failed+=("$p")
      ;;
  esac
done

report=("$here/report.sh" "$out")
if $dry_run; then
  printf '%q ' "${report[@]}"
  echo
  exit 0
fi
report_failed=false
if [[ $completed -gt 0 ]]; then
  echo "=== report of $out"
  if ! "${report[@]}"; then
    echo "error: the report of $out failed (see above); the runs' results are in place: submit/report.sh $out" >&2
    report_failed=true
  fi
else
  echo "no run completed: no report written" >&2
fi
if [[ ${#skipped[@]} -gt 0 ]]; then
  echo "skipped P=${skipped[*]}: the cluster could not host them; run them again with --partitions $(IFS=,; echo "${skipped[*]}") when the workers are up" >&2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: runs failed for P=${failed[*]}; their driver output above names the cause" >&2
  exit 1
fi
if $report_failed; then
  exit 1
fi
if [[ ${#skipped[@]} -gt 0 ]]; then
  exit "$EXIT_CLUSTER"
fi
if [[ ${#diverged[@]} -gt 0 ]]; then
  echo "error: runs diverged for P=${diverged[*]}; their error lines above say what to try" >&2
  exit "$EXIT_DIVERGED"
fi
