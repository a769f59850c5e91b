#!/usr/bin/env bash
# Submits the job with spark-submit to a Spark standalone master, from the cluster's head node.
#
# Usage: submit/submit.sh COMMAND [OPTIONS]        COMMAND is train or sweep; options as for run-local.sh
#   e.g. SPARK_MASTER_URL=spark://head:7077 submit/submit.sh train --data hdfs://head:9000/cifar10 --partitions 8
#
# Variables:
#   SPARK_MASTER_URL       master to submit to (required), e.g. spark://192.168.1.10:7077
#   SPARK_HOME             Spark installation (default: spark-submit on PATH)
#   EXECUTOR_MEMORY        heap of each executor (default: from spark-defaults.conf)
#   EXECUTORS              executors to run on, one per worker host: the job waits for this many
#                          (spark.executor.instances) and takes EXECUTORS x EXECUTOR_CORES cores
#   EXECUTOR_CORES         cores of one executor (default: spark.executor.cores of spark-defaults.conf)
#   TOTAL_EXECUTOR_CORES   cores the application takes from the cluster (default: EXECUTORS x
#                          EXECUTOR_CORES, else all)
#   OMP_THREADS            native (OpenMP) threads of each replica in the executors (default: ND4J's,
#                          all cores); submit/cluster-sweep.sh sets cores / replicas per executor
#   DEPLOY_MODE            client (default; the driver runs here) or cluster
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -lt 1 || -z "${SPARK_MASTER_URL:-}" ]]; then
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
fi
for name in EXECUTORS EXECUTOR_CORES TOTAL_EXECUTOR_CORES OMP_THREADS; do
  if [[ -n "${!name:-}" ]]; then
    require_positive "$name" "${!name}"
  fi
done
require_jar

if [[ -n "${SPARK_HOME:-}" ]]; then
  spark_submit="$SPARK_HOME/bin/spark-submit"
else
  spark_submit="$(command -v spark-submit || true)"
fi
if [[ -z "$spark_submit" || ! -x "$spark_submit" ]]; then
  echo "error: spark-submit not found; set SPARK_HOME to the Spark 3.5 installation" >&2
  exit 1
fi

cmd=("$spark_submit" --master "$SPARK_MASTER_URL" --deploy-mode "${DEPLOY_MODE:-client}")
if [[ -n "${EXECUTOR_MEMORY:-}" ]]; then
  cmd+=(--executor-memory "$EXECUTOR_MEMORY")
fi
executor_cores="${EXECUTOR_CORES:-$(spark_default spark.executor.cores)}"
total_cores="${TOTAL_EXECUTOR_CORES:-}"
if [[ -n "${EXECUTORS:-}" ]]; then
  if [[ -z "$total_cores" ]]; then
    if [[ ! "$executor_cores" =~ ^[1-9][0-9]*$ ]]; then
      echo "error: EXECUTORS needs the cores of one executor: set EXECUTOR_CORES or spark.executor.cores in $SPARK_CONF_DIR/spark-defaults.conf" >&2
      exit 2
    fi
    total_cores=$((EXECUTORS * executor_cores))
  fi
  cmd+=(--conf "spark.executor.instances=$EXECUTORS")
fi
if [[ -n "${EXECUTOR_CORES:-}" ]]; then
  cmd+=(--executor-cores "$EXECUTOR_CORES")
fi
if [[ -n "$total_cores" ]]; then
  cmd+=(--total-executor-cores "$total_cores")
fi
if [[ -n "${OMP_THREADS:-}" ]]; then
  cmd+=(--conf "spark.executorEnv.OMP_NUM_THREADS=$OMP_THREADS")
fi
cmd+=("$JOB_JAR" "$@")
exec "${cmd[@]}"
