#!/usr/bin/env bash
# The partition-count sweep: one run per P, same data and settings, results in one folder.
# Embedded (local[*]) unless SPARK_MASTER_URL is set, then through spark-submit (submit.sh).
#
# Usage: submit/sweep.sh [OPTIONS]       options as for `sweep --help`; default P list 1,2,4,8,16,24,32,48
#   e.g. submit/sweep.sh --data ../shared/cifar10 --partitions 1,2,4,8 --epochs 10 --out results/sweep
#
# Variables:
#   SPARK_MASTER_URL   submit to this master instead of running embedded (see submit.sh for more)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help-script" ]]; then
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
if [[ -n "${SPARK_MASTER_URL:-}" ]]; then
  exec "$here/submit.sh" sweep "$@"
fi
exec "$here/run-local.sh" sweep "$@"
