#!/usr/bin/env bash
# Writes the scaling report of a results folder: report.html (self-contained, opens offline) and the
# charts as report-*.png, in RESULTS_DIR unless --out is given. No Spark, no training.
#
# Usage: submit/report.sh RESULTS_DIR [--target-accuracy X] [--out DIR]
#   e.g. submit/report.sh results/sweep --target-accuracy 0.4
#   RESULTS_DIR: a local folder, or a file: or hdfs: URI (e.g. hdfs://head:9000/results)
#
# Variables:
#   JOB_JAR     job jar (default: job/target/squeezenet-spark-job.jar)
#   JAVA        java executable (default: $JAVA_HOME/bin/java or java)
#   JAVA_OPTS   extra JVM options (default: -Xmx1g)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -lt 1 || "$1" == -* ]]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
require_jar

results="$1"
shift
read -r -a extra_opts <<< "${JAVA_OPTS:--Xmx1g}"
cmd=("$JAVA" "${JVM_FLAGS[@]}" "${extra_opts[@]}" -Djava.awt.headless=true -jar "$JOB_JAR" report
  --results "$results" "$@")
exec "${cmd[@]}"
