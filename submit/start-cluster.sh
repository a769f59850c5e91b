#!/usr/bin/env bash
# Starts the Spark standalone cluster from the head node: the master here, then over ssh a worker on
# every host in spark-conf/workers, as Spark's sbin/start-all.sh does. Each worker host first gets a
# copy of spark-conf/ (worker cores and memory, logging), so the Pis need Java and Spark but not this
# repository. Prints the master URL to submit to.
#
# Usage: submit/start-cluster.sh
#
# Variables:
#   SPARK_HOME          Spark installation on this (head) node (required), e.g. /opt/spark
#   WORKER_SPARK_HOME   Spark installation on the worker hosts (default: $SPARK_HOME)
#   WORKER_CONF_DIR     where the worker hosts keep their copy of spark-conf/
#                       (default: $WORKER_SPARK_HOME/conf-squeezenet-spark)
#   SPARK_MASTER_HOST   address the master binds and the workers reach (default: this host's name)
#   SPARK_MASTER_PORT   master port (default: 7077); SPARK_MASTER_WEBUI_PORT its web UI (default: 8080)
#   SPARK_WORKERS       workers file (default: spark-conf/workers)
#   SPARK_SSH_OPTS      ssh options (default: -o BatchMode=yes -o ConnectTimeout=10)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  script_usage "${BASH_SOURCE[0]}"
}
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi
if [[ $# -gt 0 ]]; then
  usage >&2
  exit 2
fi

require_spark_sbin
read_workers
master_host="${SPARK_MASTER_HOST:-$(hostname)}"
master_port="${SPARK_MASTER_PORT:-7077}"
webui_port="${SPARK_MASTER_WEBUI_PORT:-8080}"
require_positive SPARK_MASTER_PORT "$master_port"
require_positive SPARK_MASTER_WEBUI_PORT "$webui_port"
worker_spark_home="${WORKER_SPARK_HOME:-$SPARK_HOME}"
worker_conf_dir="${WORKER_CONF_DIR:-$worker_spark_home/conf-squeezenet-spark}"
if [[ "$worker_spark_home" != /* || "$worker_conf_dir" != /* ]]; then
  echo "error: WORKER_SPARK_HOME ($worker_spark_home) and WORKER_CONF_DIR ($worker_conf_dir) must be absolute paths" >&2
  exit 2
fi
if [[ ! -f "$SPARK_CONF_DIR/spark-env.sh" ]]; then
  echo "error: $SPARK_CONF_DIR/spark-env.sh not found; SPARK_CONF_DIR must be this repository's spark-conf/" >&2
  exit 1
fi
master_url="spark://$master_host:$master_port"

# Spark's daemon script exits 0 even when the daemon dies at once ("failed to launch"), and 1 with
# "Stop it first" when one is already running: read its output, not only its exit code.
launched() {
  local log="$1" rc="$2"
  if grep -q "Stop it first" "$log"; then
    echo "already running (submit/stop-cluster.sh first to restart it with new settings)"
  elif [[ "$rc" -ne 0 ]] || grep -q "failed to launch" "$log"; then
    return 1
  else
    echo "started"
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "master: $master_url (web UI http://$master_host:$webui_port)"
rc=0
SPARK_MASTER_HOST="$master_host" SPARK_MASTER_PORT="$master_port" SPARK_MASTER_WEBUI_PORT="$webui_port" \
  "$SPARK_HOME/sbin/start-master.sh" > "$work/master.log" 2>&1 || rc=$?
if ! state="$(launched "$work/master.log" "$rc")"; then
  sed 's/^/  /' "$work/master.log" >&2
  echo "error: the Spark master did not start on this host; see its log above (is SPARK_MASTER_HOST=$master_host an address of this host?)" >&2
  exit 1
fi
echo "master: $state"

# On each worker host (POSIX sh, arguments 1-3: conf folder, Spark, master URL): unpack the copy of
# spark-conf/, then start the worker with it.
# shellcheck disable=SC2016 # expanded by the remote shell
remote='set -e; if [ ! -x "$2/sbin/start-worker.sh" ]; then echo "no Spark at $2 on $(hostname): unpack spark-3.5.3-bin-hadoop3 there or set WORKER_SPARK_HOME" >&2; exit 1; fi; mkdir -p "$1"; tar -C "$1" -xf -; SPARK_CONF_DIR="$1" exec "$2/sbin/start-worker.sh" "$3"'
tar -C "$SPARK_CONF_DIR" -cf "$work/conf.tar" .
on_workers "$work" "$work/conf.tar" sh -c "$remote" start-worker "$worker_conf_dir" "$worker_spark_home" "$master_url"

failed=()
for i in "${!WORKER_HOSTS[@]}"; do
  host="${WORKER_HOSTS[$i]}"
  if state="$(launched "$work/$i.log" "$(cat "$work/$i.rc")")"; then
    echo "$host: worker $state"
  else
    sed "s/^/$host: /" "$work/$i.log" >&2
    failed+=("$host")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: no worker started on ${failed[*]}; check ssh from here (ssh ${failed[0]} true), Java 17 and Spark there, then run this again" >&2
  exit 1
fi

# The workers register within seconds; report how many the master sees, when curl can ask it.
if command -v curl > /dev/null 2>&1; then
  alive=0
  for _ in $(seq 1 30); do
    alive="$(curl -fsS "http://$master_host:$webui_port/json/" 2> /dev/null | grep -o '"aliveworkers" *: *[0-9]*' | grep -o '[0-9]*$' || true)"
    if [[ "${alive:-0}" -ge ${#WORKER_HOSTS[@]} ]]; then
      break
    fi
    sleep 1
  done
  echo "workers registered with the master: ${alive:-0} of ${#WORKER_HOSTS[@]}"
fi
echo "submit with: export SPARK_MASTER_URL=$master_url"
