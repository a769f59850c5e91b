#!/usr/bin/env bash
# Shared definitions of the submit/ scripts (sourced, not run).
#   SQZ_ROOT        repository root (derived)
#   JOB_JAR         the runnable job jar; built by `mvn -B package -DskipTests` (name: job/pom.xml job.jar.name)
#   SPARK_CONF_DIR  Spark configuration folder (default: spark-conf/ of this repository)
#   JAVA            java executable (default: $JAVA_HOME/bin/java, else java on PATH)
#   SPARK_WORKERS   file listing the worker hosts (default: $SPARK_CONF_DIR/workers), as Spark's sbin reads it
#   SPARK_SSH_OPTS  options of every ssh to a worker host (default: -o BatchMode=yes -o ConnectTimeout=10)
#   HADOOP_HOME     Hadoop installation whose bin/hdfs the HDFS scripts run (default: hdfs on PATH)

SQZ_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOB_JAR="${JOB_JAR:-$SQZ_ROOT/job/target/squeezenet-spark-job.jar}"
export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$SQZ_ROOT/spark-conf}"
# glibc gives every thread that allocates its own malloc arena; ND4J, oneDNN, Spark and Aeron run
# dozens of threads, and the arenas kept a benchmark process (batch 32) at 1,615 MB resident
# against 1,148 MB with two (spark-conf/spark-defaults.conf sets the same for executors)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="${JAVA:-$JAVA_HOME/bin/java}"
else
  JAVA="${JAVA:-java}"
fi

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

require_jar() {
  if [[ ! -f "$JOB_JAR" ]]; then
    echo "error: job jar not found at $JOB_JAR; build it first: (cd $SQZ_ROOT && mvn -B package -DskipTests)" >&2
    exit 1
  fi
}

# Prints a script's header comment, its usage: from the second line to the first that is not a comment.
script_usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"
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
on_host() {
  local host="$1"
  shift
  local -a ssh_opts
  read -r -a ssh_opts <<< "${SPARK_SSH_OPTS:--o BatchMode=yes -o ConnectTimeout=10}"
  # shellcheck disable=SC2029 # quoted here on purpose: the remote shell sees each word as one word
  ssh "${ssh_opts[@]}" "$host" "$(printf '%q ' "$@")"
}

# Runs a command on every host in WORKER_HOSTS at once, each with standard input from the file
# INPUT; host i's output goes to WORK/i.log and its exit status to WORK/i.rc.
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
  if [[ -n "${HADOOP_HOME:-}" ]]; then
    HDFS="$HADOOP_HOME/bin/hdfs"
  else
    HDFS="$(command -v hdfs || true)"
  fi
  if [[ -z "$HDFS" || ! -x "$HDFS" ]]; then
    echo "error: hdfs command not found; set HADOOP_HOME to the Hadoop installation (e.g. /opt/hadoop) or put its bin/ on PATH" >&2
    exit 1
  fi
}

# The value of a key in spark-defaults.conf (the last one, as Spark reads it), or nothing.
spark_default() {
  local file="$SPARK_CONF_DIR/spark-defaults.conf"
  if [[ -f "$file" ]]; then
    awk -v key="$1" '$1 == key { value = $2 } END { print value }' "$file"
  fi
}

# Exits 2 naming the variable unless its value is a positive integer.
require_positive() {
  if [[ ! "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: $1=$2 is not a positive integer" >&2
    exit 2
  fi
}
