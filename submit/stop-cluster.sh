#!/usr/bin/env bash
# Stops the Spark standalone cluster from the head node: over ssh the worker on every host in
# spark-conf/workers (and with it any executor), then the master and the history server here, as
# Spark's sbin/stop-all.sh and stop-history-server.sh do. On every host it waits
# (SPARK_STOP_TIMEOUT) for the worker and the executors it ran to exit, kills with SIGKILL what is
# still running then, and deletes the Aeron folders that ended gradient-sharing JVMs left in
# /dev/shm, which is RAM (8 MB or more per JVM and run, kept until reboot); folders a running
# process still maps stay. The daemons are found by their PID files in
# SPARK_PID_DIR (spark-conf/spark-env.sh). Every host's ssh is cut off after SPARK_SSH_TIMEOUT
# seconds; one line per host says how it went. Exits 1 naming the hosts where that failed.
#
# Usage: submit/stop-cluster.sh
#
# Variables:
#   SPARK_HOME          Spark installation on this (head) node (required), e.g. /opt/spark
#   WORKER_SPARK_HOME   Spark installation on the worker hosts (default: $SPARK_HOME)
#   WORKER_CONF_DIR     the worker hosts' copy of spark-conf/ (default: $WORKER_SPARK_HOME/conf-squeezenet-spark)
#   SPARK_WORKERS       workers file (default: spark-conf/workers)
#   SPARK_SSH_OPTS      ssh options (default: -o BatchMode=yes -o ConnectTimeout=10)
#   SPARK_STOP_TIMEOUT  seconds to wait for a worker's, the master's or the history server's processes
#                       to exit (default: 30)
#   SPARK_SSH_TIMEOUT   seconds the ssh to one host may take in all (default: SPARK_STOP_TIMEOUT + 30)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_arguments "${BASH_SOURCE[0]}" "$@"

require_spark_sbin
read_workers
worker_spark_home="${WORKER_SPARK_HOME:-$SPARK_HOME}"
worker_conf_dir="${WORKER_CONF_DIR:-$worker_spark_home/conf-squeezenet-spark}"
if [[ "$worker_spark_home" != /* || "$worker_conf_dir" != /* ]]; then
  echo "error: WORKER_SPARK_HOME ($worker_spark_home) and WORKER_CONF_DIR ($worker_conf_dir) must be absolute paths" >&2
  exit 2
fi

stop_timeout="${SPARK_STOP_TIMEOUT:-30}"
require_positive SPARK_STOP_TIMEOUT "$stop_timeout"
export SPARK_SSH_TIMEOUT="${SPARK_SSH_TIMEOUT:-$((stop_timeout + 30))}"
require_positive SPARK_SSH_TIMEOUT "$SPARK_SSH_TIMEOUT"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Stops one Spark daemon (bash, as Spark's scripts; arguments 1-5: conf folder, Spark, seconds to
# wait, daemon class, its stop script): reads its PID from the file spark-daemon.sh keeps in
# SPARK_PID_DIR (from the conf folder's spark-env.sh) and notes its children (a worker's executors),
# runs the stop script (which only sends SIGTERM), waits until all of them have exited (a zombie
# counts as exited), kills what is left after the wait, then deletes the Aeron folders no running
# process maps.
# shellcheck disable=SC2016 # expanded by the remote shell
stop_daemon='conf=$1; home=$2; limit=$3; class=$4; script=$5
if [ ! -x "$home/sbin/$script" ]; then echo "no Spark at $home on $(hostname): set WORKER_SPARK_HOME" >&2; exit 1; fi
prefix=$(export SPARK_HOME="$home"; set -a; . "$conf/spark-env.sh" > /dev/null 2>&1; echo "${SPARK_PID_DIR:-/tmp}/spark-${SPARK_IDENT_STRING:-${USER:-}}")
pid=$(cat "$prefix-$class-1.pid" 2> /dev/null || true)
pids=""
if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
  pids="$pid $(ps -o pid= --ppid "$pid" | tr "\n" " ")"
fi
SPARK_CONF_DIR="$conf" "$home/sbin/$script" || exit
waited=0
while :; do
  left=""
  for p in $pids; do
    state=$(ps -o stat= -p "$p" 2> /dev/null || true)
    if [ -n "$state" ] && [ "${state#Z}" = "$state" ]; then left="$left $p"; fi
  done
  if [ -z "$left" ]; then
    if [ -n "$pids" ]; then echo "$(echo $pids | wc -w) process(es) exited after ${waited} s"; fi
    break
  fi
  if [ "$waited" -ge "$limit" ]; then
    kill -9 $left 2> /dev/null || true
    echo "killed$left: still running $limit s after $script"
    break
  fi
  sleep 1
  waited=$((waited + 1))
done
'"$AERON_CLEANUP"
on_workers "$work" /dev/null bash -c "$stop_daemon" stop-worker "$worker_conf_dir" "$worker_spark_home" \
  "$stop_timeout" org.apache.spark.deploy.worker.Worker stop-worker.sh

failed=()
for i in "${!WORKER_HOSTS[@]}"; do
  host="${WORKER_HOSTS[$i]}"
  rc="$(cat "$work/$i.rc")"
  if [[ "$rc" -ne 255 ]]; then
    sed "s/^/$host: /" "$work/$i.log"
  fi
  if [[ "$rc" -ne 0 ]]; then
    echo "$host: error: $(host_failure "$rc" "$work/$i.log")" >&2
    failed+=("$host")
  else
    echo "$host: worker stopped"
  fi
done

master_failed=false
bash -c "$stop_daemon" stop-master "$SPARK_CONF_DIR" "$SPARK_HOME" "$stop_timeout" \
  org.apache.spark.deploy.master.Master stop-master.sh > "$work/master.log" 2>&1 || master_failed=true
sed 's/^/master: /' "$work/master.log"

# stopped whether start-cluster.sh started it or not (HISTORY_SERVER): with none running, Spark's
# script says so and exits 0
history_failed=false
bash -c "$stop_daemon" stop-history "$SPARK_CONF_DIR" "$SPARK_HOME" "$stop_timeout" \
  org.apache.spark.deploy.history.HistoryServer stop-history-server.sh > "$work/history.log" 2>&1 || history_failed=true
sed 's/^/history server: /' "$work/history.log"

if $master_failed; then
  echo "error: could not stop the master here; see its lines above" >&2
fi
if $history_failed; then
  echo "error: could not stop the history server here; see its lines above" >&2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: could not stop the worker on ${failed[*]}; check ssh from here (ssh ${failed[0]} true), or stop it there with $worker_spark_home/sbin/stop-worker.sh" >&2
fi
if $master_failed || $history_failed || [[ ${#failed[@]} -gt 0 ]]; then
  exit 1
fi
