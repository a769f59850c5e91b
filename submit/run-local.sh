#!/usr/bin/env bash
# Runs the job embedded, on this machine's cores (local[*]), without a Spark installation.
#
# Usage: submit/run-local.sh COMMAND [OPTIONS]     COMMAND is train or sweep; --help lists options.
#   e.g. submit/run-local.sh sweep --data ../shared/cifar10 --partitions 1,4 --epochs 1 --train-limit 5000
#
# Variables:
#   JOB_JAR     job jar (default: job/target/squeezenet-spark-job.jar)
#   JAVA        java executable (default: $JAVA_HOME/bin/java or java)
#   JAVA_OPTS   extra JVM options, e.g. -Xmx8g
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -lt 1 ]]; then
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
require_jar

read -r -a extra_opts <<< "${JAVA_OPTS:-}"
cmd=("$JAVA" "${JVM_FLAGS[@]}" "${extra_opts[@]}" -jar "$JOB_JAR" "$@")
exec "${cmd[@]}"
