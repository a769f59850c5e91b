#!/usr/bin/env bash
# Stops the Spark standalone cluster from the head node: over ssh the worker on every host in
# spark-conf/workers (and with it any executor), then the master here, as Spark's sbin/stop-all.sh
# does. On every host it also deletes the Aeron folders that ended gradient-sharing JVMs left in
# /dev/shm, which is RAM (8 MB or more per JVM and run, kept until reboot); folders a running
# process still maps stay.
#
# Usage: submit/stop-cluster.sh
#
# Variables:
#   SPARK_HOME          Spark installation on this (head) node (required), e.g. /opt/spark
#   WORKER_SPARK_HOME   Spark installation on the worker hosts (default: $SPARK_HOME)
#   WORKER_CONF_DIR     the worker hosts' copy of spark-conf/ (default: $WORKER_SPARK_HOME/conf-squeezenet-spark)
#   SPARK_WORKERS       workers file (default: spark-conf/workers)
#   SPARK_SSH_OPTS      ssh options (default: -o BatchMode=yes -o ConnectTimeout=10)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  script_usage "${BASH_SOURCE[0]}"
  exit 0
fi
if [[ $# -gt 0 ]]; then
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
fi

require_spark_sbin
read_workers
worker_spark_home="${WORKER_SPARK_HOME:-$SPARK_HOME}"
worker_conf_dir="${WORKER_CONF_DIR:-$worker_spark_home/conf-squeezenet-spark}"
if [[ "$worker_spark_home" != /* || "$worker_conf_dir" != /* ]]; then
  echo "error: WORKER_SPARK_HOME ($worker_spark_home) and WORKER_CONF_DIR ($worker_conf_dir) must be absolute paths" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# On each worker host (POSIX sh, arguments 1-2: conf folder, Spark): stop the worker, give its
# executors a moment to exit, then delete the Aeron folders they left.
# shellcheck disable=SC2016 # expanded by the remote shell
remote='if [ ! -x "$2/sbin/stop-worker.sh" ]; then echo "no Spark at $2 on $(hostname): set WORKER_SPARK_HOME" >&2; exit 1; fi; SPARK_CONF_DIR="$1" "$2/sbin/stop-worker.sh" || exit; sleep 2; '"$AERON_CLEANUP"
on_workers "$work" /dev/null sh -c "$remote" stop-worker "$worker_conf_dir" "$worker_spark_home"

failed=()
for i in "${!WORKER_HOSTS[@]}"; do
  sed "s/^/${WORKER_HOSTS[$i]}: /" "$work/$i.log"
  if [[ "$(cat "$work/$i.rc")" -ne 0 ]]; then
    failed+=("${WORKER_HOSTS[$i]}")
  fi
done

"$SPARK_HOME/sbin/stop-master.sh" 2>&1 | sed 's/^/master: /'
sh -c "$AERON_CLEANUP"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: could not stop the worker on ${failed[*]}; check ssh from here (ssh ${failed[0]} true), or stop it there with $worker_spark_home/sbin/stop-worker.sh" >&2
  exit 1
fi
