#!/usr/bin/env bash
# Pre-flight check of the cluster before a long run: on the head node (here) and, over ssh, on every
# host in the workers file, all at once and each within HOST_TIMEOUT seconds, it checks
#   java       the Java the Spark daemons get there (as spark-conf/spark-env.sh picks it) is 17 or 21
#   names      the host's name resolves to its (non-loopback) address and back, both on the host and
#              here; a worker also resolves the head node's name to the head node's address
#   memory     free memory (MemAvailable) covers the role's budget; the budget of a daemon that
#              already runs there (Spark worker or master, DataNode or NameNode) is not counted again
#   shm        free space in /dev/shm, where Aeron (gradient sharing) keeps its buffers
#   disk       free space in DISK_DIR
#   clock      offset to the head node's clock: the host's `date +%s.%N` against the midpoint of the
#              round trip here, best of 5 round trips (the Pis may have no internet, hence no NTP)
#   throttled  `vcgencmd get_throttled`, where it exists (Raspberry Pi): no flag may be set
# and prints one line per host, then a summary. A host that is down, or that accepts the connection
# and then stalls, fails within HOST_TIMEOUT and holds up no other. Run it with the cluster started
# or not; exits 0 only when every host passes, 1 when one fails, 2 on a bad setting.
#
# Usage: submit/preflight.sh [--help]
#
# Variables (sizes in MB, that is MiB; defaults fit 4 GB Pis):
#   SPARK_WORKERS        workers file (default: spark-conf/workers)
#   SPARK_SSH_OPTS       ssh options (default: -o BatchMode=yes -o ConnectTimeout=10)
#   SPARK_MASTER_HOST    the head node's name, as the workers reach the master (default: this host's name)
#   HOST_TIMEOUT         seconds for all the checks of one host, ssh included (default: 20; it is
#                        SPARK_SSH_TIMEOUT here)
#   CLUSTER_JAVA         java to check on every host (default: the one spark-conf/spark-env.sh picks
#                        there for the Spark daemons)
#   EXECUTOR_MEMORY_MB   executor heap (default: spark.executor.memory of spark-defaults.conf, 1024)
#   EXECUTOR_OFFHEAP_MB  executor memory off the heap (default: JavaCPP maxbytes of
#                        spark.executor.extraJavaOptions, 1280, + 400 of JVM code, threads and Aeron)
#   DATANODE_MB          HDFS DataNode on a worker (default: 384)
#   WORKER_DAEMON_MB     Spark worker daemon (default: 256)
#   DRIVER_MEMORY_MB     driver heap (default: spark.driver.memory of spark-defaults.conf, 1536)
#   DRIVER_OFFHEAP_MB    driver memory off the heap (default: 512)
#   NAMENODE_MB          HDFS NameNode on the head node (default: 384)
#   MASTER_DAEMON_MB     Spark master daemon (default: 256)
#   SHM_MIN_MB           free space /dev/shm must have (default: 256)
#   DISK_DIR             folder whose file system must have DISK_MIN_MB free (default: /)
#   DISK_MIN_MB          (default: 4096: a sweep's applications each copy the 335 MB jar to every worker)
#   MAX_CLOCK_OFFSET     seconds a clock may be off the head node's (default: 1)
#   SKIP_CHECKS          checks not to run, e.g. "throttled clock" (default: none)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# the clock check reads bash 5's microsecond clock
if [[ -z "${EPOCHREALTIME:-}" ]]; then
  echo "error: this bash ($BASH_VERSION) has no EPOCHREALTIME; run it with bash 5 or later" >&2
  exit 2
fi

no_arguments "${BASH_SOURCE[0]}" "$@"

# The memory settings of spark-defaults.conf, as spark-submit reads them (Spark's default: 1g).
conf_memory_mb() {
  local key="$1" value mb
  value="$(spark_default "$key")"
  mb="$(memory_mb "${value:-1g}")"
  if [[ -z "$mb" ]]; then
    echo "error: $key $value in $SPARK_CONF_DIR/spark-defaults.conf is not a size such as 1g or 1536m" >&2
    exit 2
  fi
  echo "$mb"
}
executor_heap_mb="$(conf_memory_mb spark.executor.memory)"
driver_heap_mb="$(conf_memory_mb spark.driver.memory)"
# ND4J's arrays off the executor's heap: JavaCPP's maxbytes (a bare number is bytes there; its
# default is the heap size)
maxbytes="$(sed -n 's/^spark\.executor\.extraJavaOptions.*-Dorg\.bytedeco\.javacpp\.maxbytes=\([^ ]*\).*/\1/p' \
  "$SPARK_CONF_DIR/spark-defaults.conf" 2> /dev/null | tail -n 1)"
if [[ "$maxbytes" =~ ^[0-9]+$ ]]; then
  maxbytes_mb=$((maxbytes / 1048576))
else
  maxbytes_mb="$(memory_mb "$maxbytes")"
fi
maxbytes_mb="${maxbytes_mb:-$executor_heap_mb}"
# a training JVM's own native memory beside ND4J's arrays: code, threads, Aeron's buffers
# (spark-conf/spark-defaults.conf: "about 400 MB of JVM code, threads and Aeron buffers")
jvm_native_mb=400

host_timeout="${HOST_TIMEOUT:-20}"
executor_mb="${EXECUTOR_MEMORY_MB:-$executor_heap_mb}"
executor_offheap_mb="${EXECUTOR_OFFHEAP_MB:-$((maxbytes_mb + jvm_native_mb))}"
datanode_mb="${DATANODE_MB:-384}"
worker_daemon_mb="${WORKER_DAEMON_MB:-256}"
driver_mb="${DRIVER_MEMORY_MB:-$driver_heap_mb}"
driver_offheap_mb="${DRIVER_OFFHEAP_MB:-512}"
namenode_mb="${NAMENODE_MB:-384}"
master_daemon_mb="${MASTER_DAEMON_MB:-256}"
shm_min_mb="${SHM_MIN_MB:-256}"
disk_dir="${DISK_DIR:-/}"
disk_min_mb="${DISK_MIN_MB:-4096}"
max_clock_offset="${MAX_CLOCK_OFFSET:-1}"
skip_checks="${SKIP_CHECKS:-}"
cluster_java="${CLUSTER_JAVA:-}"
require_positive HOST_TIMEOUT "$host_timeout"
require_positive EXECUTOR_MEMORY_MB "$executor_mb"
require_positive EXECUTOR_OFFHEAP_MB "$executor_offheap_mb"
require_positive DRIVER_MEMORY_MB "$driver_mb"
require_positive SHM_MIN_MB "$shm_min_mb"
require_positive DISK_MIN_MB "$disk_min_mb"
for setting in "DATANODE_MB=$datanode_mb" "WORKER_DAEMON_MB=$worker_daemon_mb" "DRIVER_OFFHEAP_MB=$driver_offheap_mb" \
  "NAMENODE_MB=$namenode_mb" "MASTER_DAEMON_MB=$master_daemon_mb"; do
  if [[ ! "${setting#*=}" =~ ^[0-9]+$ ]]; then
    echo "error: $setting is not a whole number of MB (0 when that daemon does not run there)" >&2
    exit 2
  fi
done
if [[ ! "$max_clock_offset" =~ ^[0-9]*\.?[0-9]+$ ]]; then
  echo "error: MAX_CLOCK_OFFSET=$max_clock_offset is not a number of seconds, e.g. 1 or 0.5" >&2
  exit 2
fi
for check in $skip_checks; do
  if [[ ! " java names memory shm disk clock throttled " == *" $check "* ]]; then
    echo "error: SKIP_CHECKS: no check '$check'; the checks are java names memory shm disk clock throttled" >&2
    exit 2
  fi
done
if [[ "$disk_dir" != /* ]]; then
  echo "error: DISK_DIR=$disk_dir must be an absolute path" >&2
  exit 2
fi
read_workers
head_name="${SPARK_MASTER_HOST:-$(hostname)}"
spark_env="$(cat "$SPARK_CONF_DIR/spark-env.sh" 2> /dev/null || true)"

# The checks' readings on one host (POSIX sh, arguments 1-4: the head node's name, the java to
# check or nothing, the disk folder, spark-conf/spark-env.sh, which picks the Java of the Spark
# daemons as they start there), one key=value line each, then "ready"; then the clock: one
# `date +%s.%N` for each line read, 5 at most. The patterns that find daemons are written so that
# they do not match this text itself, which is on the process list too.
# shellcheck disable=SC2016 # expanded by sh on the host
PROBE='
java="$2"
{
  name="$(uname -n)"
  echo "name=$name"
  if [ -z "$java" ]; then
    java_home="$(bash -c "$4
echo \"\${JAVA_HOME:-}\"" 2>/dev/null)" || java_home=""
    java="${java_home:+$java_home/bin/}java"
  fi
  echo "java=$java"
  # its version line (JAVA_TOOL_OPTIONS may add a line before it), else what it said
  said="$("$java" -version 2>&1)"
  echo "javaversion=$(printf "%s\n" "$said" | grep -m 1 " version " || printf "%s\n" "$said" | head -n 1)"
  addr="$(getent ahostsv4 "$name" | awk "NR == 1 { print \$1 }")"
  echo "addr=$addr"
  if [ -n "$addr" ]; then
    echo "rev=$(getent hosts "$addr" | awk "NR == 1 { \$1 = \"\"; sub(/^ +/, \"\"); print }")"
  fi
  echo "headaddr=$(getent ahostsv4 "$1" | awk "NR == 1 { print \$1 }")"
  echo "memfree=$(awk "/^MemAvailable:/ { print int(\$2 / 1024) }" /proc/meminfo)"
  running=""
  for daemon in spark-worker:org[.]apache[.]spark[.]deploy[.]worker[.]Worker \
    spark-master:org[.]apache[.]spark[.]deploy[.]master[.]Master \
    datanode:org[.]apache[.]hadoop[.]hdfs[.]server[.]datanode[.]DataNode \
    namenode:org[.]apache[.]hadoop[.]hdfs[.]server[.]namenode[.]NameNode; do
    if grep -qsa "${daemon#*:}" /proc/[0-9]*/cmdline; then running="$running ${daemon%%:*}"; fi
  done
  echo "running=$running"
  echo "shm=$(df -Pk /dev/shm 2>/dev/null | awk "NR == 2 { print int(\$4 / 1024) }")"
  echo "disk=$(df -Pk "$3" 2>/dev/null | awk "NR == 2 { print int(\$4 / 1024) }")"
  if command -v vcgencmd >/dev/null 2>&1; then
    echo "throttled=$(vcgencmd get_throttled 2>&1 | tr "\n" " ")"
  fi
} < /dev/null
echo ready
n=0
while [ "$n" -lt 5 ] && read -r _; do date +%s.%N; n=$((n + 1)); done
'
clock_samples=5
# on_host (common.sh) cuts a worker's ssh off after this
export SPARK_SSH_TIMEOUT="$host_timeout"

# What `vcgencmd get_throttled` flags mean (Raspberry Pi documentation, "get_throttled"): bits 0-3
# now, bits 16-19 the same since boot.
throttled_meaning() {
  local flags="$1" bit
  local -a names=("under-voltage" "frequency capped" "throttled" "soft temperature limit") said=()
  for bit in 0 1 2 3; do
    if ((flags >> bit & 1)); then said+=("${names[$bit]} now"); fi
  done
  for bit in 0 1 2 3; do
    if ((flags >> (bit + 16) & 1)); then said+=("${names[$bit]} since boot"); fi
  done
  if ((flags & ~0xf000f)); then said+=("other flags"); fi
  local text
  text="$(printf '%s, ' "${said[@]}")"
  echo "${text%, }"
}

# First IPv4 address of a name as this host resolves it, or nothing; within SECONDS.
# Usage: resolve_here NAME SECONDS
resolve_here() {
  timeout "$2" getent ahostsv4 "$1" 2> /dev/null | awk 'NR == 1 { print $1 }' || true
}

# Names of an address as this host resolves it back, or nothing; within SECONDS.
resolve_back_here() {
  timeout "$2" getent hosts "$1" 2> /dev/null | awk 'NR == 1 { $1 = ""; sub(/^ +/, ""); print }' || true
}

# Whether a list of names holds NAME (short names compared, so pi01 matches pi01.lan).
# Usage: names_hold NAME "NAMES..."
names_hold() {
  local n
  for n in $2; do
    if [[ "${n%%.*}" == "${1%%.*}" ]]; then
      return 0
    fi
  done
  return 1
}

head_addr="$(resolve_here "$head_name" "$host_timeout")"

# Whether SKIP_CHECKS names a check.
skipped() {
  [[ " $skip_checks " == *" $1 "* ]]
}

# Adds a check's result to the caller's `checks`; FAIL also adds the check to its `failed`.
# Usage: result CHECK ok|FAIL TEXT
result() {
  if [[ "$2" == FAIL ]]; then
    checks+=("$1 FAIL: $3")
    failed+=("$1")
  else
    checks+=("$1 $3")
  fi
}

# A free-space check: skipped, or FREE_MB against MIN_MB.
# Usage: space_check CHECK FREE_MB MIN_MB WHERE
space_check() {
  if skipped "$1"; then
    result "$1" ok skipped
  elif [[ ! "$2" =~ ^[0-9]+$ ]]; then
    result "$1" FAIL "no $4 (df failed)"
  elif (($2 < $3)); then
    result "$1" FAIL "$2 MB free in $4, $3 MB needed"
  else
    result "$1" ok "$2 MB free, $3 needed"
  fi
}

# Checks one host within HOST_TIMEOUT and prints its line: the label, ok or FAIL, then each check.
# Returns 1 when a check fails.
# Usage: check_host LABEL ROLE WORK   (ROLE: head, run here, or worker, over ssh; WORK: its folder)
check_host() {
  local label="$1" role="$2" dir="$3"
  local deadline=$((EPOCHSECONDS + host_timeout)) left line key k status=0 rc=0 to from pid
  local -a probe=(sh -c "$PROBE" preflight "$head_name" "$cluster_java" "$disk_dir" "$spark_env") checks=() failed=()
  local -A got=()
  # the readings come through one FIFO and the clock's questions go through another, so the
  # round trips are timed here; the probe ends within HOST_TIMEOUT (on_host's SPARK_SSH_TIMEOUT)
  mkfifo "$dir/in" "$dir/out"
  if [[ "$role" == head ]]; then
    timeout -k 5 "$host_timeout" "${probe[@]}" < "$dir/in" > "$dir/out" 2> "$dir/ssh.err" &
  else
    on_host "$label" "${probe[@]}" < "$dir/in" > "$dir/out" 2> "$dir/ssh.err" &
  fi
  pid=$!
  trap '' PIPE
  exec {to}> "$dir/in" {from}< "$dir/out"

  while :; do
    left=$((deadline - EPOCHSECONDS))
    if ((left <= 0)); then
      status=142
      break
    fi
    IFS= read -r -t "$left" -u "$from" line || { status=$?; break; }
    if [[ "$line" == ready ]]; then
      break
    fi
    if [[ "$line" =~ ^[a-z]+= ]]; then
      got[${line%%=*}]="${line#*=}"
    fi
  done
  if [[ $status -ne 0 ]]; then
    exec {to}>&- {from}<&-
    wait "$pid" || rc=$?
    local last=""
    for key in name java javaversion addr rev headaddr memfree running shm disk throttled; do
      if [[ -n "${got[$key]+set}" ]]; then last="$key"; fi
    done
    if [[ "$role" == head ]]; then
      line="the checks did not finish here within $host_timeout s (exit $rc): $(tail -n 1 "$dir/ssh.err")"
    else
      line="$(host_failure "$rc" "$dir/ssh.err")"
    fi
    echo "$label FAIL $line${last:+ (the last reading that came: $last)}"
    return 1
  fi

  # clock: the host's time against the midpoint of each round trip, best (shortest) round trip wins
  local samples="" t0 t1 clock
  if [[ "$role" == worker ]]; then
    for ((k = 0; k < clock_samples; k++)); do
      left=$((deadline - EPOCHSECONDS))
      t0="${EPOCHREALTIME/,/.}"
      if ((left <= 0)) || ! { printf '\n' 1>&"$to"; } 2> /dev/null || ! IFS= read -r -t "$left" -u "$from" line; then
        break
      fi
      t1="${EPOCHREALTIME/,/.}"
      samples+="$t0 $line $t1"$'\n'
    done
  fi
  exec {to}>&- {from}<&-
  wait "$pid" || true

  local name="${got[name]:-}"

  if skipped java; then
    result java ok skipped
  elif [[ "${got[javaversion]:-}" =~ version\ \"(1\.)?([0-9]+)[^\"]*\" ]]; then
    local version="${BASH_REMATCH[0]#version }" major="${BASH_REMATCH[2]}"
    version="${version//\"/}"
    if [[ "$major" == 17 || "$major" == 21 ]]; then
      result java ok "$version"
    else
      result java FAIL "${got[java]} is $version; the job needs Java 17 or 21 (openjdk-17-jdk-headless, docs/pi-cluster.md, step 4)"
    fi
  else
    result java FAIL "${got[java]:-java} did not run: ${got[javaversion]:-no output} (install openjdk-17-jdk-headless, docs/pi-cluster.md, step 4)"
  fi

  if skipped names; then
    result names ok skipped
  else
    local addr="${got[addr]:-}" problems=() here_addr here_back
    if [[ -z "$addr" ]]; then
      problems+=("$name does not resolve on $name")
    elif [[ "$addr" == 127.* ]]; then
      problems+=("$name is the loopback address $addr on $name (delete the line that maps it to $addr in /etc/hosts, docs/pi-cluster.md, step 2)")
    elif ! names_hold "$name" "${got[rev]:-}"; then
      problems+=("$addr is '${got[rev]:-}' on $name, not $name")
    fi
    if [[ "$role" == worker ]]; then
      left=$((deadline - EPOCHSECONDS > 1 ? deadline - EPOCHSECONDS : 1))
      here_addr="$(resolve_here "$name" "$left")"
      if [[ -z "$here_addr" ]]; then
        problems+=("$name does not resolve here")
      elif [[ "$here_addr" != "$addr" ]]; then
        problems+=("$name is $here_addr here but ${addr:-nothing} on $name")
      else
        here_back="$(resolve_back_here "$here_addr" "$left")"
        if ! names_hold "$name" "$here_back"; then
          problems+=("$here_addr is '$here_back' here, not $name")
        fi
      fi
      if [[ "${got[headaddr]:-}" != "$head_addr" ]]; then
        problems+=("the head node $head_name is '${got[headaddr]:-}' on $name but '$head_addr' here")
      fi
    fi
    if [[ ${#problems[@]} -gt 0 ]]; then
      line="$(printf '%s; ' "${problems[@]}")"
      result names FAIL "${line%; }"
    elif [[ "$role" == worker ]]; then
      result names ok "$name = $addr both ways, here and there; $head_name = $head_addr there"
    else
      result names ok "$name = $addr both ways"
    fi
  fi

  if skipped memory; then
    result memory ok skipped
  else
    local need running=" ${got[running]:-} " free="${got[memfree]:-}" also=""
    local -a budget
    if [[ "$role" == worker ]]; then
      budget=("executor" "$((executor_mb + executor_offheap_mb))" "spark-worker" "$worker_daemon_mb" "datanode" "$datanode_mb")
    else
      budget=("driver" "$((driver_mb + driver_offheap_mb))" "spark-master" "$master_daemon_mb" "namenode" "$namenode_mb")
    fi
    need=0
    for ((k = 0; k < ${#budget[@]}; k += 2)); do
      if [[ "$running" == *" ${budget[$k]} "* ]]; then
        also+=" ${budget[$k]}"
      else
        need=$((need + budget[k + 1]))
      fi
    done
    also="${also:+ (${also# } already running)}"
    if [[ ! "$free" =~ ^[0-9]+$ ]]; then
      result memory FAIL "no MemAvailable in /proc/meminfo"
    elif ((free < need)); then
      result memory FAIL "$free MB free, $need MB needed$also: stop what else runs there, or lower the budgets (--help)"
    else
      result memory ok "$free MB free, $need needed$also"
    fi
  fi

  space_check shm "${got[shm]:-}" "$shm_min_mb" /dev/shm
  space_check disk "${got[disk]:-}" "$disk_min_mb" "$disk_dir"

  if skipped clock; then
    result clock ok skipped
  elif [[ "$role" == head ]]; then
    result clock ok reference
  elif ! clock="$(awk -v max="$max_clock_offset" '
      NF == 0 { next }
      $2 !~ /^[0-9]+\.[0-9]+$/ { bad = $2; next }
      best == "" || $3 - $1 < best { best = $3 - $1; offset = $2 - ($1 + $3) / 2 }
      END {
        if (best == "") {
          print (bad == "" ? "no reading within the time limit" : "no reading: date +%s.%N gave \"" bad "\"")
          exit 1
        }
        a = offset < 0 ? -offset : offset
        text = sprintf("%+.3f s (round trip %.3f s)", offset, best)
        if (best / 2 > max) { print text ", too slow to measure to " max " s"; exit 1 }
        if (a > max) { print text ", more than " max " s: set the clocks (e.g. chrony with the head node as server)"; exit 1 }
        print text
      }' <<< "$samples")"; then
    result clock FAIL "$clock"
  else
    result clock ok "$clock"
  fi

  if skipped throttled; then
    result throttled ok skipped
  elif [[ -z "${got[throttled]+set}" ]]; then
    result throttled ok "not measured (no vcgencmd: not a Raspberry Pi)"
  elif [[ "${got[throttled]}" =~ throttled=(0x[0-9a-fA-F]+) ]]; then
    local flags=$((BASH_REMATCH[1]))
    if ((flags == 0)); then
      result throttled ok "no (0x0)"
    else
      result throttled FAIL "${BASH_REMATCH[1]}: $(throttled_meaning "$flags") (a 5.1 V 3 A supply, cooling)"
    fi
  else
    result throttled FAIL "vcgencmd get_throttled: ${got[throttled]} (is the user in group video?)"
  fi

  local verdict=ok
  if [[ ${#failed[@]} -gt 0 ]]; then
    verdict=FAIL
  fi
  line="$(printf '%s | ' "${checks[@]}")"
  echo "$label $verdict ${line% | }"
  [[ $verdict == ok ]]
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

labels=("$head_name" "${WORKER_HOSTS[@]}")
for i in "${!labels[@]}"; do
  mkdir "$work/$i"
  role=worker
  if [[ $i -eq 0 ]]; then
    role="head"
  fi
  (
    rc=0
    check_host "${labels[$i]}" "$role" "$work/$i" > "$work/$i/line" 2>> "$work/$i/err" || rc=$?
    echo "$rc" > "$work/$i/rc"
  ) &
done
wait

width=0
for label in "${labels[@]}"; do
  if [[ ${#label} -gt $width ]]; then
    width=${#label}
  fi
done
failing=()
for i in "${!labels[@]}"; do
  if [[ -s "$work/$i/line" ]]; then
    read -r _ verdict rest < "$work/$i/line"
  else
    verdict=FAIL
    rest="the check itself failed: $(tail -n 1 "$work/$i/err" 2> /dev/null)"
  fi
  if [[ $i -eq 0 ]]; then
    role="(head)"
  else
    role=""
  fi
  if [[ "$(cat "$work/$i/rc" 2> /dev/null)" != 0 ]]; then
    verdict=FAIL
    failing+=("${labels[$i]}")
  fi
  printf '%-*s %-6s %-4s %s\n' "$width" "${labels[$i]}" "$role" "$verdict" "$rest"
done
if [[ ${#failing[@]} -gt 0 ]]; then
  echo "preflight: ${#failing[@]} of ${#labels[@]} hosts fail: ${failing[*]}"
  echo "error: fix the failing hosts (or take them out of ${SPARK_WORKERS:-$SPARK_CONF_DIR/workers}) before the run, then check again" >&2
  exit 1
fi
echo "preflight: all ${#labels[@]} hosts pass (the head node and ${#WORKER_HOSTS[@]} workers)"
