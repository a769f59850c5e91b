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
#   TOTAL_EXECUTOR_CORES   cores the application takes from the cluster (default: all)
#   DEPLOY_MODE            client (default; the driver runs here) or cluster
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -lt 1 || -z "${SPARK_MASTER_URL:-}" ]]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
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
if [[ -n "${TOTAL_EXECUTOR_CORES:-}" ]]; then
  cmd+=(--total-executor-cores "$TOTAL_EXECUTOR_CORES")
fi
cmd+=("$JOB_JAR" "$@")
exec "${cmd[@]}"
