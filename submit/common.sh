#!/usr/bin/env bash
# Shared definitions of the submit/ scripts (sourced, not run).
#   SQZ_ROOT        repository root (derived)
#   JOB_JAR         the runnable job jar; built by `mvn -B package -DskipTests` (name: job/pom.xml job.jar.name)
#   SPARK_CONF_DIR  Spark configuration folder (default: spark-conf/ of this repository)
#   JAVA            java executable (default: $JAVA_HOME/bin/java, else java on PATH)
#   SPARK_WORKERS   file listing the worker hosts (default: $SPARK_CONF_DIR/workers), as Spark's sbin reads it
#   SPARK_SSH_OPTS  options of every ssh to a worker host (default: -o BatchMode=yes -o ConnectTimeout=10)
#   SPARK_SSH_TIMEOUT  seconds one remote command (ssh) may take on one host before it is cut off, so a
#                   host that accepts ssh and then stalls cannot hold up the others (default: 60)
#   SPARK_MASTER_WEBUI_PORT  port of the standalone master's web UI, whose JSON view
#                   (http://<master host>:<port>/json/) lists the live workers (default: 8080)
#   SPARK_SECRET_FILE  the cluster's shared secret, readable by its owner only (default:
#                   $SPARK_CONF_DIR/spark-secret); start-cluster.sh makes it, submit.sh passes it
#   HADOOP_HOME     Hadoop installation whose bin/hdfs the HDFS scripts run (default: hdfs on PATH)
#                   (start-cluster.sh too, to create an event-log folder in HDFS)
#   JAR_STAGE_DIR   folder of the staged job jar (submit/stage-jar.sh), the same absolute path on
#                   the head node and on every worker host (default: $WORKER_SPARK_HOME/lib-squeezenet-spark,
#                   WORKER_SPARK_HOME defaulting to SPARK_HOME, else /opt/spark)

SQZ_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOB_JAR="${JOB_JAR:-$SQZ_ROOT/job/target/squeezenet-spark-job.jar}"
export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$SQZ_ROOT/spark-conf}"
# the name spark-conf/spark-env.sh reads it by on every host, and spark-conf/.gitignore leaves out
export SPARK_SECRET_FILE="${SPARK_SECRET_FILE:-$SPARK_CONF_DIR/spark-secret}"
# glibc gives every thread that allocates its own malloc arena; ND4J, oneDNN, Spark and Aeron run
# dozens of threads, and the arenas kept a benchmark process (batch 32) at 1,615 MB resident
# against 1,148 MB with two (spark-conf/spark-defaults.conf sets the same for executors)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="${JAVA:-$JAVA_HOME/bin/java}"
else
  JAVA="${JAVA:-java}"
fi

# The job's default partition counts: train --partitions (Main.Train) and sweep --partitions
# (Main.Sweep.DEFAULT_PARTITIONS)
# shellcheck disable=SC2034 # used by the scripts that source this file
TRAIN_PARTITIONS_DEFAULT=1
# shellcheck disable=SC2034
SWEEP_PARTITIONS_DEFAULT="1,2,4,8,16,24,32,48"
# Exit code of the job (Main.EXIT_CLUSTER) and of these scripts when the cluster cannot host a P now:
# too few live workers or registered executors, or no master answering
# shellcheck disable=SC2034
EXIT_CLUSTER=5
# Exit code of the job (Main.EXIT_DIVERGED) and of cluster-sweep.sh when a run diverged: its loss or
# parameters turned NaN or infinite and it stopped there, recorded as diverged.
# shellcheck disable=SC2034
EXIT_DIVERGED=6

# JVM flags of an embedded (local[*]) run; spark-conf/spark-defaults.conf carries the same for spark-submit,
# with the cluster's memory limits and Aeron buffer size.
# shellcheck disable=SC2034 # used by the scripts that source this file
JVM_FLAGS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  -Daeron.publication.unblock.timeout=60000000000
  -Dorg.eclipse.deeplearning4j.helpers.disable=false
  -Dorg.bytedeco.javacpp.maxphysicalbytes=0
  "-Dlog4j2.configurationFile=$SPARK_CONF_DIR/log4j2.properties"
)

# Exits 2 unless SPARK_SECRET_FILE is a non-empty file that only its owner can read or write.
require_secret() {
  if [[ ! -f "$SPARK_SECRET_FILE" ]]; then
    echo "error: no cluster secret at $SPARK_SECRET_FILE (SPARK_SECRET_FILE): submit/start-cluster.sh makes it on the head node when it starts the cluster; on another host copy the head node's (mode 600) and set SPARK_SECRET_FILE (README, Security)" >&2
    exit 2
  fi
  local mode
  mode="$(stat -c %a "$SPARK_SECRET_FILE")"
  if [[ ! -s "$SPARK_SECRET_FILE" || "${mode: -2}" != 00 ]]; then
    echo "error: the cluster secret $SPARK_SECRET_FILE is empty or readable by other users (mode $mode): delete it and run submit/stop-cluster.sh and submit/start-cluster.sh, which make a new one (README, Security)" >&2
    exit 2
  fi
}

require_jar() {
  if [[ ! -f "$JOB_JAR" ]]; then
    echo "error: job jar not found at $JOB_JAR; build it first: (cd $SQZ_ROOT && mvn -B package -DskipTests)" >&2
    exit 1
  fi
}

# The folder of the staged job jar: the same absolute path on every node, so that one local: URI
# names the jar on the head node (the driver) and on each worker host (the executors).
stage_dir() {
  echo "${JAR_STAGE_DIR:-${WORKER_SPARK_HOME:-${SPARK_HOME:-/opt/spark}}/lib-squeezenet-spark}"
}

# The path of the job jar's staged copy: in stage_dir, the jar's name with the first 16 hex digits of
# its SHA-256 (a few seconds for the jar on a Pi), so a rebuilt jar is staged under a name of its own.
staged_jar() {
  local name="${JOB_JAR##*/}" hash
  hash="$(sha256sum "$JOB_JAR" | cut -c1-16)"
  echo "$(stage_dir)/${name%.jar}-$hash.jar"
}

# Prints a script's header comment, its usage: from the second line to the first that is not a comment.
script_usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"
}

# For a script that takes no arguments: prints its usage and exits 0 on -h or --help, and on
# standard error with exit code 2 on any other argument. Usage: no_arguments SCRIPT "$@"
no_arguments() {
  local script="$1"
  shift
  if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    script_usage "$script"
    exit 0
  fi
  if [[ $# -gt 0 ]]; then
    script_usage "$script" >&2
    exit 2
  fi
}

# The path of a command: HOME_DIR/RELATIVE when HOME_DIR is set, else NAME on PATH; nothing when
# neither is there. Usage: find_command HOME_DIR RELATIVE NAME
find_command() {
  local path
  if [[ -n "$1" ]]; then
    path="$1/$2"
  else
    path="$(command -v "$3" || true)"
  fi
  if [[ -n "$path" && -x "$path" ]]; then
    echo "$path"
  fi
}

# Reads the worker hosts into WORKER_HOSTS: one host name or IP address per line, optionally
# user@host; '#' starts a comment. Exits 1 naming the file and line when the file is missing, lists
# no host, or has a malformed or repeated entry.
read_workers() {
  local file="${SPARK_WORKERS:-$SPARK_CONF_DIR/workers}" line n=0 known
  local -a fields
  if [[ ! -f "$file" ]]; then
    echo "error: workers file $file not found; list the worker hosts in it, one per line, or set SPARK_WORKERS to such a file" >&2
    exit 1
  fi
  WORKER_HOSTS=()
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    read -r -a fields <<< "${line%%#*}"
    if [[ ${#fields[@]} -eq 0 ]]; then
      continue
    fi
    if [[ ${#fields[@]} -gt 1 || ! "${fields[0]}" =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*$ ]]; then
      echo "error: $file line $n: '${line%%#*}' is not one host name or IP address; put one worker host per line" >&2
      exit 1
    fi
    for known in "${WORKER_HOSTS[@]}"; do
      if [[ "$known" == "${fields[0]}" ]]; then
        echo "error: $file line $n: ${fields[0]} is listed twice; list each worker host once (one executor per host)" >&2
        exit 1
      fi
    done
    WORKER_HOSTS+=("${fields[0]}")
  done < "$file"
  if [[ ${#WORKER_HOSTS[@]} -eq 0 ]]; then
    echo "error: workers file $file lists no host; put the worker hosts in it, one per line" >&2
    exit 1
  fi
}

# Runs a command on a host over ssh, each word quoted for the remote shell (never re-split or
# expanded there), the way Spark's sbin/workers.sh reaches its workers. Standard input goes along.
# ssh's ConnectTimeout covers connecting only, not a host that stalls after that: the whole
# command is cut off after SPARK_SSH_TIMEOUT seconds (exit code 124), killed 5 s later if need be.
on_host() {
  local host="$1"
  shift
  local -a ssh_opts
  read -r -a ssh_opts <<< "${SPARK_SSH_OPTS:--o BatchMode=yes -o ConnectTimeout=10}"
  # shellcheck disable=SC2029 # quoted here on purpose: the remote shell sees each word as one word
  timeout -k 5 "${SPARK_SSH_TIMEOUT:-60}" ssh "${ssh_opts[@]}" "$host" "$(printf '%q ' "$@")"
}

# What went wrong on a host, in one line, from its on_workers exit status and log.
# Usage: host_failure STATUS LOG
host_failure() {
  local last
  last="$(grep -v '^worker-addresses:' "$2" | tail -n 1 || true)"
  case "$1" in
    124 | 137) echo "no answer within ${SPARK_SSH_TIMEOUT:-60} s (SPARK_SSH_TIMEOUT): cut off" ;;
    255) echo "ssh failed: ${last:-no message}" ;;
    *) echo "exit code $1: ${last:-no message}" ;;
  esac
}

# Runs a command on every host in WORKER_HOSTS at once, each with standard input from the file
# INPUT; host i's output goes to WORK/i.log and its exit status to WORK/i.rc. Each host has
# SPARK_SSH_TIMEOUT seconds (on_host), so the whole loop ends within that.
# Usage: on_workers WORK INPUT COMMAND [ARG...]
on_workers() {
  local work="$1" input="$2" i
  shift 2
  for i in "${!WORKER_HOSTS[@]}"; do
    (
      status=0
      on_host "${WORKER_HOSTS[$i]}" "$@" < "$input" > "$work/$i.log" 2>&1 || status=$?
      echo "$status" > "$work/$i.rc"
    ) &
  done
  wait
}

# POSIX sh that deletes this user's Aeron folders in /dev/shm (RAM) that no running process maps:
# those of training JVMs that have ended. Run here and on worker hosts, so it is a string.
# shellcheck disable=SC2034,SC2016 # used by the scripts that source this file; expanded by sh
AERON_CLEANUP='for d in "/dev/shm/aeron-$(id -un)-"*; do [ -d "$d" ] || continue; grep -qs "$d/" /proc/[0-9]*/maps || rm -rf "$d"; done'

# Checks that SPARK_HOME is a Spark installation with its sbin/ daemon scripts.
require_spark_sbin() {
  if [[ -z "${SPARK_HOME:-}" ]]; then
    echo "error: SPARK_HOME is not set; set it to the unpacked spark-3.5.3-bin-hadoop3 folder, e.g. SPARK_HOME=/opt/spark" >&2
    exit 1
  fi
  if [[ ! -x "$SPARK_HOME/sbin/start-master.sh" ]]; then
    echo "error: $SPARK_HOME/sbin/start-master.sh not found; set SPARK_HOME to the unpacked spark-3.5.3-bin-hadoop3 folder" >&2
    exit 1
  fi
}

# Sets HDFS to the hdfs command: $HADOOP_HOME/bin/hdfs, else hdfs on PATH.
require_hdfs() {
  HDFS="$(find_command "${HADOOP_HOME:-}" bin/hdfs hdfs)"
  if [[ -z "$HDFS" ]]; then
    echo "error: hdfs command not found; set HADOOP_HOME to the Hadoop installation (e.g. /opt/hadoop) or put its bin/ on PATH" >&2
    exit 1
  fi
}

# Spark's folder of event logs when spark-defaults.conf names none (spark.eventLog.dir,
# spark.history.fs.logDirectory)
# shellcheck disable=SC2034 # used by the scripts that source this file
SPARK_EVENTS_DEFAULT="file:/tmp/spark-events"

# Makes a folder of Spark event logs exist, as a driver (spark.eventLog.dir) and the history server
# (spark.history.fs.logDirectory) refuse to start without theirs: in HDFS for an hdfs:// URI
# (hdfs dfs -mkdir -p), else on this host (mkdir -p of an absolute path or file: URI). Nothing
# happens when it exists. Returns 1, with the reason on standard error, when it cannot be made.
# Usage: make_event_dir URI
make_event_dir() {
  local dir="$1" path
  case "$dir" in
    hdfs://*)
      require_hdfs
      "$HDFS" dfs -mkdir -p "$dir"
      ;;
    file:/* | /*)
      path="${dir#file:}"
      # file:///x and file:/x are both /x
      while [[ "$path" == //* ]]; do
        path="${path#/}"
      done
      mkdir -p "$path"
      ;;
    *)
      echo "$dir is neither an hdfs:// URI nor an absolute path or file: URI" >&2
      return 1
      ;;
  esac
}

# The value of a key in spark-defaults.conf (the last one, as Spark reads it; all its words), or
# nothing.
spark_default() {
  local file="$SPARK_CONF_DIR/spark-defaults.conf"
  if [[ -f "$file" ]]; then
    awk -v key="$1" '$1 == key { sub(/^[ \t]*[^ \t]+[ \t]+/, ""); sub(/[ \t]+$/, ""); value = $0 } END { print value }' "$file"
  fi
}

# Exits 2 naming the variable unless its value is a positive integer.
require_positive() {
  if [[ ! "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $1=$2 is not a positive integer" >&2
    exit 2
  fi
}

# Megabytes of a Spark memory size (1g, 1536m, 512k; a bare number is megabytes, as Spark reads
# spark.executor.memory); nothing when it is not one.
memory_mb() {
  local v="${1,,}"
  if [[ "$v" =~ ^([0-9]+)(k|kb)?$ && -n "${BASH_REMATCH[2]}" ]]; then
    echo $((BASH_REMATCH[1] / 1024))
  elif [[ "$v" =~ ^([0-9]+)(m|mb)?$ ]]; then
    echo "${BASH_REMATCH[1]}"
  elif [[ "$v" =~ ^([0-9]+)(g|gb)$ ]]; then
    echo $((BASH_REMATCH[1] * 1024))
  elif [[ "$v" =~ ^([0-9]+)(t|tb)$ ]]; then
    echo $((BASH_REMATCH[1] * 1024 * 1024))
  fi
}

# The web UI JSON views of the masters in a spark:// URL (standby masters: spark://h1:p1,h2:p2),
# one per line: http://<host>:$SPARK_MASTER_WEBUI_PORT/json/.
master_json_urls() {
  local hostport
  local -a list
  IFS=, read -r -a list <<< "${1#spark://}"
  for hostport in "${list[@]}"; do
    echo "http://${hostport%:*}:${SPARK_MASTER_WEBUI_PORT:-8080}/json/"
  done
}

# Asks the standalone master of the spark:// URL for its workers (its web UI's JSON view; the
# master whose status is ALIVE, when there are standby masters). Prints one line per ALIVE worker:
# host cores memory_mb. Returns 1, with the reason on standard error, when no master answers.
# Usage: master_workers SPARK_MASTER_URL
master_workers() {
  local -a urls
  mapfile -t urls < <(master_json_urls "$1")
  if ! command -v python3 > /dev/null 2>&1; then
    echo "python3 not found (it reads the master's JSON view; Raspberry Pi OS has it)" >&2
    return 1
  fi
  python3 - "${urls[@]}" << 'PY'
import json, sys, urllib.request
failures = []
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            state = json.load(answer)
    except Exception as e:
        failures.append(f"{url}: {getattr(e, 'reason', e)}")
        continue
    if state.get("status", "ALIVE") != "ALIVE":
        failures.append(f"{url}: {state.get('status')} (a standby master)")
        continue
    for w in state.get("workers", []):
        if w.get("state") == "ALIVE":
            print(w["host"], int(w.get("cores", 0)), int(w.get("memory", 0)))
    sys.exit(0)
print("; ".join(failures), file=sys.stderr)
sys.exit(1)
PY
}

# Sets LIVE_WORKERS to the number of worker hosts that can each take one executor of CORES cores and
# MEMORY_MB megabytes (one executor per host): the ALIVE workers of SPARK_MASTER_URL's master, or,
# where that master does not answer or SPARK_MASTER_URL is not set, the hosts in the workers file.
# Says on standard error where the count comes from. Exits EXIT_CLUSTER when the master answers
# and has no such worker.
# Usage: live_workers CORES MEMORY_MB
live_workers() {
  local cores="$1" memory="$2" listing why host c m
  local -a hosts=()
  if [[ -n "${SPARK_MASTER_URL:-}" ]]; then
    if listing="$(master_workers "$SPARK_MASTER_URL" 2>&1)"; then
      while read -r host c m; do
        if [[ -n "$host" && "$c" -ge "$cores" && "$m" -ge "$memory" && " ${hosts[*]} " != *" $host "* ]]; then
          hosts+=("$host")
        fi
      done <<< "$listing"
      LIVE_WORKERS=${#hosts[@]}
      if [[ $LIVE_WORKERS -eq 0 ]]; then
        echo "error: the master $SPARK_MASTER_URL lists no live worker with $cores cores and $memory MB for an executor; start the workers (submit/start-cluster.sh) and check the web UI" >&2
        exit "$EXIT_CLUSTER"
      fi
      echo "plan: $LIVE_WORKERS live worker hosts with $cores cores and $memory MB for an executor, from the master's web UI ($(master_json_urls "$SPARK_MASTER_URL" | head -n 1))" >&2
      return
    fi
    why="the master's web UI did not answer ($listing)"
  else
    why="SPARK_MASTER_URL is not set"
  fi
  read_workers
  LIVE_WORKERS=${#WORKER_HOSTS[@]}
  echo "plan: $why; planning from the $LIVE_WORKERS hosts in the workers file ${SPARK_WORKERS:-$SPARK_CONF_DIR/workers}, assuming every one is up" >&2
}

# The layout of P replicas on at most WORKERS executors (one per worker host), as gradient sharing
# needs P a multiple of the executor count: PLAN_EXECUTORS, the largest divisor of P not above
# WORKERS; PLAN_REPLICAS = P / PLAN_EXECUTORS in each executor; PLAN_THREADS, the executor's CORES
# shared among its replicas (at least 1). 24 workers give P=48 as 24 executors x 2, P=32 as 16 x 2.
# Usage: plan_run P WORKERS CORES
plan_run() {
  local p="$1" workers="$2" cores="$3" e
  e=$((p < workers ? p : workers))
  while ((p % e != 0)); do
    e=$((e - 1))
  done
  # shellcheck disable=SC2034 # read by the scripts that source this file
  PLAN_EXECUTORS=$e
  PLAN_REPLICAS=$((p / e))
  # shellcheck disable=SC2034
  PLAN_THREADS=$((cores / PLAN_REPLICAS > 0 ? cores / PLAN_REPLICAS : 1))
}
