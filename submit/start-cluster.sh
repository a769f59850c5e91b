#!/usr/bin/env bash
# Starts the Spark standalone cluster from the head node: the master here, then over ssh a worker on
# every host in spark-conf/workers, as Spark's sbin/start-all.sh does. Each worker host first gets a
# copy of spark-conf/ (worker cores and memory, logging), so the Pis need Java and Spark but not this
# repository. Every host's ssh is cut off after SPARK_SSH_TIMEOUT seconds, so a host that accepts
# ssh and then stalls cannot hold up the rest; one line per host says how it went. Then it waits
# (REGISTER_TIMEOUT) until every worker it started is listed ALIVE in the master's JSON view
# (http://<master host>:<web UI port>/json/). Prints the master URL to submit to; exits 1 naming
# the hosts whose worker did not start or did not register.
# Beside the master it starts Spark's history server (web UI http://<head>:18080,
# spark.history.ui.port), which shows finished applications from their event logs; first it creates
# the event-log folder of spark-defaults.conf (spark.eventLog.dir, spark.history.fs.logDirectory):
# in HDFS for an hdfs:// URI, so HDFS must be running (README, step 5), else on this host.
# Authentication (README, Security): the first start makes the cluster's shared secret
# (SPARK_SECRET_FILE: 32 random bytes, base64, mode 600); every start copies it with spark-conf/ to
# the workers, and the master, the workers and every application authenticate with it.
# Last it stages the job jar (submit/stage-jar.sh): one copy on every node, sent only when it has
# changed, which submit/submit.sh then submits as local:<path> instead of sending it to every
# executor with every application.
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
#   SPARK_SSH_TIMEOUT   seconds the ssh to one host may take in all (default: 60)
#   REGISTER_TIMEOUT    seconds to wait for the workers to register with the master (default: 60)
#   HISTORY_SERVER      0: do not start the history server (its 256 MB heap on a 4 GB head node;
#                       default: 1)
#   HADOOP_HOME         Hadoop installation whose bin/hdfs creates an hdfs:// event-log folder
#                       (default: hdfs on PATH)
#   SPARK_SECRET_FILE   the cluster's shared secret (default: $SPARK_CONF_DIR/spark-secret; made
#                       when missing); the workers keep it as $WORKER_CONF_DIR/spark-secret
#   STAGE_JAR           0: do not stage the job jar (default: 1, when it is built)
#   JOB_JAR, JAR_STAGE_DIR, STAGE_TIMEOUT  as in submit/stage-jar.sh
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_arguments "${BASH_SOURCE[0]}" "$@"

require_spark_sbin
read_workers
master_host="${SPARK_MASTER_HOST:-$(hostname)}"
master_port="${SPARK_MASTER_PORT:-7077}"
webui_port="${SPARK_MASTER_WEBUI_PORT:-8080}"
require_positive SPARK_MASTER_PORT "$master_port"
require_positive SPARK_MASTER_WEBUI_PORT "$webui_port"
register_timeout="${REGISTER_TIMEOUT:-60}"
require_positive REGISTER_TIMEOUT "$register_timeout"
require_positive SPARK_SSH_TIMEOUT "${SPARK_SSH_TIMEOUT:-60}"
export SPARK_MASTER_WEBUI_PORT="$webui_port"
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
history_server="${HISTORY_SERVER:-1}"
if [[ "$history_server" != 0 && "$history_server" != 1 ]]; then
  echo "error: HISTORY_SERVER=$history_server must be 1 (start the history server) or 0" >&2
  exit 2
fi
stage_jar="${STAGE_JAR:-1}"
if [[ "$stage_jar" != 0 && "$stage_jar" != 1 ]]; then
  echo "error: STAGE_JAR=$stage_jar must be 1 (stage the job jar on every node) or 0" >&2
  exit 2
fi
history_port="$(spark_default spark.history.ui.port)"
history_port="${history_port:-18080}"

# The event-log folders, before anything starts: a driver whose spark.eventLog.dir is missing, or a
# history server whose spark.history.fs.logDirectory is, fails at its start.
event_dirs=()
if [[ "$(spark_default spark.eventLog.enabled)" == true ]]; then
  event_dir="$(spark_default spark.eventLog.dir)"
  event_dirs+=("${event_dir:-$SPARK_EVENTS_DEFAULT}")
fi
if [[ "$history_server" == 1 ]]; then
  history_dir="$(spark_default spark.history.fs.logDirectory)"
  history_dir="${history_dir:-$SPARK_EVENTS_DEFAULT}"
  if [[ " ${event_dirs[*]} " != *" $history_dir "* ]]; then
    event_dirs+=("$history_dir")
  fi
fi
for dir in "${event_dirs[@]}"; do
  if ! why="$(make_event_dir "$dir" 2>&1)"; then
    echo "error: cannot create the event-log folder $dir (spark.eventLog.dir, spark.history.fs.logDirectory in $SPARK_CONF_DIR/spark-defaults.conf): ${why:-no message}; start HDFS first (README, step 5), or set both to a folder on this host, e.g. file:$HOME/spark-events" >&2
    exit 1
  fi
  echo "event logs: $dir"
done

# The cluster's secret, once: an unpredictable key (Spark's own is 256 bits), readable by this user only.
if [[ ! -e "$SPARK_SECRET_FILE" ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$SPARK_SECRET_FILE")
  echo "secret: made $SPARK_SECRET_FILE (readable by $(id -un) only)"
fi
require_secret

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

history_failed=false
if [[ "$history_server" == 1 ]]; then
  rc=0
  "$SPARK_HOME/sbin/start-history-server.sh" > "$work/history.log" 2>&1 || rc=$?
  if state="$(launched "$work/history.log" "$rc")"; then
    echo "history server: $state (web UI http://$master_host:$history_port)"
  else
    sed 's/^/  /' "$work/history.log" >&2
    echo "error: the history server did not start on this host; see its log above and in $SPARK_HOME/logs (is port $history_port, spark.history.ui.port, taken?)" >&2
    history_failed=true
  fi
fi

# On each worker host (POSIX sh, arguments 1-3: conf folder, Spark, master URL): say the names and
# addresses the worker may register with (its host names, its addresses, and the one ssh reached),
# unpack the copy of spark-conf/, then start the worker with it.
# shellcheck disable=SC2016 # expanded by the remote shell
remote='set -e; echo "worker-addresses: $(hostname 2>/dev/null || true) $(hostname -I 2>/dev/null || true) $(echo "${SSH_CONNECTION:-}" | cut -d" " -f3)"; if [ ! -x "$2/sbin/start-worker.sh" ]; then echo "no Spark at $2 on $(hostname): unpack spark-3.5.3-bin-hadoop3 there or set WORKER_SPARK_HOME" >&2; exit 1; fi; mkdir -p "$1"; tar -C "$1" -xf -; SPARK_CONF_DIR="$1" exec "$2/sbin/start-worker.sh" "$3"'
tar -C "$SPARK_CONF_DIR" --exclude=./spark-secret -cf "$work/conf.tar" .
# the secret under the name spark-env.sh reads it by there, with its mode (600)
mkdir "$work/secret"
cp -p "$SPARK_SECRET_FILE" "$work/secret/spark-secret"
tar -C "$work/secret" -rf "$work/conf.tar" ./spark-secret
on_workers "$work" "$work/conf.tar" sh -c "$remote" start-worker "$worker_conf_dir" "$worker_spark_home" "$master_url"

failed=()
started=()
for i in "${!WORKER_HOSTS[@]}"; do
  host="${WORKER_HOSTS[$i]}"
  rc="$(cat "$work/$i.rc")"
  grep -v '^worker-addresses:' "$work/$i.log" > "$work/$i.out" || true
  if [[ "$rc" -ne 124 && "$rc" -ne 137 ]] && state="$(launched "$work/$i.out" "$rc")"; then
    echo "$host: worker $state"
    started+=("$i")
  else
    if [[ "$rc" -ne 255 ]]; then
      sed "s/^/$host: /" "$work/$i.out" >&2
    fi
    echo "$host: error: no worker started: $(host_failure "$rc" "$work/$i.log")" >&2
    failed+=("$host")
  fi
done

# Wait until the master lists every started worker as ALIVE. A worker registers with one of its
# host's addresses (or its SPARK_LOCAL_HOSTNAME), so a host counts as registered when the master
# lists its name in the workers file or one of the names and addresses it reported above.
registered=()
missing=()
deadline=$((SECONDS + register_timeout))
while :; do
  alive="$(master_workers "$master_url" 2> "$work/master-json.err" | cut -d' ' -f1 || true)"
  registered=()
  missing=()
  for i in "${started[@]}"; do
    host="${WORKER_HOSTS[$i]}"
    names=" ${host#*@} $(sed -n 's/^worker-addresses://p' "$work/$i.log" | tr -s ' \t' '  ') "
    found=false
    while read -r a; do
      if [[ -n "$a" && "$names" == *" $a "* ]]; then
        found=true
      fi
    done <<< "$alive"
    if $found; then registered+=("$host"); else missing+=("$host"); fi
  done
  if [[ ${#missing[@]} -eq 0 || $SECONDS -ge $deadline ]]; then
    break
  fi
  sleep 1
done
echo "workers registered with the master: ${#registered[@]} of ${#WORKER_HOSTS[@]}"
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ -s "$work/master-json.err" ]]; then
    echo "error: the master's web UI did not answer: $(cat "$work/master-json.err")" >&2
  fi
  echo "error: not registered with the master within $register_timeout s: ${missing[*]}; see the worker log in $worker_spark_home/logs there and the master's web UI http://$master_host:$webui_port" >&2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: no worker started on ${failed[*]}; check ssh from here (ssh ${failed[0]} true), Java 17 and Spark there, then run this again" >&2
fi

# The job jar to every host that runs a worker, once per build of the jar.
stage_failed=false
if [[ "$stage_jar" == 1 && ${#started[@]} -gt 0 ]]; then
  if [[ -f "$JOB_JAR" ]]; then
    : > "$work/staged-workers"
    for i in "${started[@]}"; do
      echo "${WORKER_HOSTS[$i]}" >> "$work/staged-workers"
    done
    SPARK_WORKERS="$work/staged-workers" WORKER_SPARK_HOME="$worker_spark_home" \
      "$(dirname "${BASH_SOURCE[0]}")/stage-jar.sh" || stage_failed=true
  else
    echo "job jar not staged: $JOB_JAR is not built; build it, then run submit/stage-jar.sh"
  fi
fi
if [[ ${#failed[@]} -gt 0 || ${#missing[@]} -gt 0 ]] || $history_failed || $stage_failed; then
  exit 1
fi
echo "submit with: export SPARK_MASTER_URL=$master_url"
