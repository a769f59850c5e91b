#!/usr/bin/env bash
# A Spark standalone cluster of N emulated Raspberry-Pi-like nodes on this one Linux machine, to
# study the job's network and CPU behaviour without the Pis. Each node is a network namespace on a
# bridge (a switch) with its link shaped by tc's tbf in both directions (a Pi 4's Gigabit Ethernet by
# default) and a CPU quota (cgroup v1 cpu controller, else cgroup v2 cpu.max), and runs one Spark
# worker. The head (Spark master, and the driver of `submit`) has a namespace and link of its own,
# without a CPU quota. Runs as root; Linux with ip and tc (iproute2), curl and util-linux's setsid.
#
# Usage: submit/emulated-cluster.sh COMMAND [OPTIONS]
#   up N [--rate RATE] [--cpu CORES] [--memory MEM] [--head-rate RATE]
#                 builds the N nodes (1..243) and the head, starts a master and N workers, waits
#                 until all N workers are alive (UP_TIMEOUT) and prints the master URL and nodes;
#                 refuses when a cluster of this NAME exists. On any failure it removes what it built.
#     --rate      link rate of each node, each way, as tc writes it: NUMBER[k|m|g]bit
#                 (default: 1gbit, a Pi 4's Gigabit Ethernet), e.g. 100mbit
#     --cpu       CPU quota of each node in cores, e.g. 0.45 or 2 (default: 0.45, so 4 nodes leave a
#                 little of 2 cores to the head); the worker offers max(1, ceil(CORES)) cores
#     --memory    memory a worker offers, the executor heap: NUMBER m|g (default: 2g)
#     --head-rate link rate of the head node (default: --rate; a real head is a Pi on the switch)
#   down          stops every process in the cluster's namespaces (TERM, then KILL after 10 s) and
#                 deletes its namespaces, links, bridge, cgroups and state folder; exits 0 with
#                 nothing up, and cleans up after a failed or partial `up`
#   status        whether the cluster is up, its nodes and the workers the master reports alive
#                 (exit 0 when up with every worker alive, else 1)
#   counters [--json]
#                 bytes each node's and the head's eth0 sent (tx) and received (rx) since `up`, and
#                 the CPU seconds each node used; --json: one object, {"head":{"tx_bytes":..,
#                 "rx_bytes":..},"n1":{..,"cpu_seconds":..},..}. The job jar is on every node
#                 already (the namespaces share this file system), as submit/stage-jar.sh puts it on
#                 the Pis, so `submit` gives it as local:<path>; with STAGED_JAR=0 each application's
#                 executors first fetch it from the driver instead: the whole jar into every node.
#   submit [SPARK_SUBMIT_OPTIONS... --] train|sweep JOB_OPTIONS...
#                 runs the driver in the head's namespace with spark-submit's machinery (client
#                 mode) on all N executors, one per node, sized to the nodes; SPARK_SUBMIT_OPTIONS
#                 come after the script's own, so they override them; exits with the driver's code.
#                 Local --data and --out folders work: the namespaces share this file system.
#                 The runs record the nodes' link rate (spark.sqzspark.linkMbit) for the cost model.
#   exec I [--] COMMAND [ARG...]
#                 runs COMMAND on node I as its worker runs: in its namespace and CPU quota (e.g.
#                 the job's bench, for one replica's step time on a node); exits with its code
#   e.g. submit/emulated-cluster.sh up 4 --rate 100mbit
#        submit/emulated-cluster.sh submit -- train --data data/cifar10 --out /tmp/emu --partitions 4 \
#          --training-master shared --epochs 1 --train-limit 2000
#        submit/emulated-cluster.sh counters --json; submit/emulated-cluster.sh down
#
# Variables:
#   NAME        cluster name (default: sqzemu), 1-10 letters and digits, starting with a letter:
#               namespaces and host links NAME-head and NAME-n1.., bridge NAMEbr, cgroups NAME-n1..
#   SUBNET      first three octets of the cluster's /24 (default: 10.231.0): the head is .1, node i
#               .(10+i), the bridge (this machine's address on it) .254; must be unused here
#   STATE       folder recording the cluster and holding logs and work folders (default:
#               /tmp/NAME; not /run, a small RAM disk on many systems, since every application
#               copies the job jar, 350 MB, into each node's work folder)
#   UP_TIMEOUT  seconds `up` waits for the workers to register (default: 120)
#   STAGED_JAR  0: `submit` sends the job jar from the driver to every executor, as to a cluster
#               where it is not staged (default: 1, local:<path> of the jar every node sees)
#   JOB_JAR, JAVA, JAVA_HOME, SPARK_CONF_DIR  as in submit/common.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$here/common.sh"

NAME="${NAME:-sqzemu}"
SUBNET="${SUBNET:-10.231.0}"
STATE="${STATE:-/tmp/$NAME}"
UP_TIMEOUT="${UP_TIMEOUT:-120}"

MASTER_PORT=7077
WEBUI_PORT=8080
# Heap of the master and worker daemons (a Pi gets 256m, SPARK_DAEMON_MEMORY in spark-conf/spark-env.sh).
DAEMON_HEAP=512m
# Node i's address is SUBNET.(NODE_BASE + i); .254 is the bridge, so 243 nodes at most.
NODE_BASE=10
MAX_NODES=243
HEAD_ADDR="$SUBNET.1"
BRIDGE_ADDR="$SUBNET.254"
BRIDGE="${NAME}br"
STATE_FILE="$STATE/cluster.env"
# tbf's queue: packets wait up to 50 ms for tokens before tbf drops them. Gradient sharing sends
# UDP (Aeron) in bursts that a shorter queue drops (Aeron then resends), while TCP, which backs off,
# keeps the queue short anyway; 50 ms is 625 KB at 100mbit and 6 MB at 1gbit, the order of a
# switch's packet buffer.
TBF_LATENCY=50ms
# Worker folders of finished applications (each with a copy of the job jar) are deleted after an
# hour, checked every 10 minutes; `down` deletes the rest.
WORKER_OPTS=(-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=600
  -Dspark.worker.cleanup.appDataTtl=3600)

usage() {
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
}

fail() {
  echo "error: $*" >&2
  exit 1
}

# Exits 2 with the message.
invalid() {
  echo "error: $*" >&2
  exit 2
}

# --- Names of what a cluster of NAME is made of

ns_head() { echo "$NAME-head"; }
ns_node() { echo "$NAME-n$1"; }
node_addr() { echo "$SUBNET.$((NODE_BASE + $1))"; }

# The network namespaces, links and cgroup folders of NAME that exist now, one per line.
existing_namespaces() {
  ip netns list 2> /dev/null | awk '{ print $1 }' | grep -E "^$NAME-(head|n[0-9]+)\$" || true
}
existing_links() {
  ip -o link show 2> /dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
    grep -E "^($NAME-(head|n[0-9]+)|${BRIDGE})\$" || true
}
existing_cgroups() {
  local root dir
  for root in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup; do
    for dir in "$root/$NAME-n"*; do
      if [[ -d "$dir" && ! -L "$root" && "${dir##*/}" =~ ^$NAME-n[0-9]+$ ]]; then
        echo "$dir"
      fi
    done
  done
}

# --- Checks, all before anything is changed

check_name() {
  if [[ ! "$NAME" =~ ^[A-Za-z][A-Za-z0-9]{0,9}$ ]]; then
    invalid "NAME=$NAME: expected 1-10 letters and digits starting with a letter (link names have at most 15 characters), e.g. NAME=sqzemu"
  fi
}

check_root() {
  if [[ $EUID -ne 0 ]]; then
    fail "$1 needs root (network namespaces, tc and cgroups); run it with sudo"
  fi
}

check_commands() {
  local c
  for c in "$@"; do
    if ! command -v "$c" > /dev/null 2>&1; then
      case "$c" in
        ip | tc) fail "'$c' not found; install iproute2 (apt-get install iproute2)" ;;
        curl) fail "'curl' not found; install it (apt-get install curl)" ;;
        setsid) fail "'setsid' not found; install util-linux (apt-get install util-linux)" ;;
        *) fail "'$c' not found; install it" ;;
      esac
    fi
  done
}

# Sets CG_VERSION (1 or 2), CG_CPU (where cpu groups go) and CG_ACCT (where CPU-time accounting
# groups go: the same folder, a separate cpuacct hierarchy, or none).
detect_cgroups() {
  CG_VERSION=""
  CG_CPU=""
  CG_ACCT=""
  if [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    CG_VERSION=1
    CG_CPU=/sys/fs/cgroup/cpu
    if [[ -f "$CG_CPU/cpuacct.usage" ]]; then
      CG_ACCT="$CG_CPU"
    elif [[ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]]; then
      CG_ACCT=/sys/fs/cgroup/cpuacct
    fi
  elif [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    CG_VERSION=2
    CG_CPU=/sys/fs/cgroup
    CG_ACCT=/sys/fs/cgroup
  fi
}

require_cgroups() {
  detect_cgroups
  if [[ -z "$CG_VERSION" ]]; then
    fail "no cgroup cpu controller: neither cgroup v1's /sys/fs/cgroup/cpu/cpu.cfs_quota_us nor 'cpu' in cgroup v2's /sys/fs/cgroup/cgroup.controllers; mount the cpu controller (or boot with cgroup v2) to cap the nodes' CPU"
  fi
  if [[ ! -w "$CG_CPU" ]]; then
    fail "cannot create cgroups in $CG_CPU (read-only); run on a host where root may write it, not in an unprivileged container"
  fi
}

check_subnet() {
  local o
  if [[ ! "$SUBNET" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]]; then
    invalid "SUBNET=$SUBNET: expected the first three octets of a /24, e.g. SUBNET=10.231.0"
  fi
  for o in "${BASH_REMATCH[@]:1}"; do
    if ((10#$o > 255)); then
      invalid "SUBNET=$SUBNET: octet $o is above 255"
    fi
  done
}

# Prints the rate in bit/s, or exits 2 naming the option.
parse_rate() {
  local option="$1" rate="${2,,}"
  if [[ ! "$rate" =~ ^([0-9]+(\.[0-9]+)?)([kmg]?)bit$ ]]; then
    invalid "$option $2: expected a rate as tc writes it, NUMBER[k|m|g]bit, e.g. 1gbit or 100mbit"
  fi
  awk -v n="${BASH_REMATCH[1]}" -v u="${BASH_REMATCH[3]}" -v opt="$option $2" 'BEGIN {
    m = (u == "k") ? 1e3 : (u == "m") ? 1e6 : (u == "g") ? 1e9 : 1
    bps = n * m
    if (bps < 1e5 || bps > 1e11) { print "error: " opt ": expected a rate from 100kbit to 100gbit" > "/dev/stderr"; exit 2 }
    printf "%.0f\n", bps
  }'
}

# tbf's bucket: the bytes a link may send at once at full speed. It must hold what the rate
# delivers between two wake-ups of tbf's timer, or the link falls short of its rate: 2 ms at the
# rate (250 KB at 1gbit; 64 KB gave 932 Mbit/s there, 256 KB 956, the TCP goodput of 1 Gbit/s),
# and at least 64 KB, one whole segmentation-offload packet (at 100mbit 16 KB and 64 KB both gave
# 95.6 Mbit/s, the goodput of 100 Mbit/s).
tbf_burst() {
  awk -v bps="$1" 'BEGIN { b = bps / 8 * 0.002; printf "%.0f\n", (b < 65536) ? 65536 : b }'
}

# Tells whether NAME's cluster, or any part of it, exists now.
anything_exists() {
  [[ -e "$STATE_FILE" || -n "$(existing_namespaces)$(existing_links)$(existing_cgroups)" ]]
}

# --- State: what `up` built, as key=value lines

declare -A S=()
load_state() {
  local key value
  if [[ ! -f "$STATE_FILE" ]]; then
    return 1
  fi
  while IFS='=' read -r key value; do
    if [[ -n "$key" ]]; then
      S[$key]="$value"
    fi
  done < "$STATE_FILE"
}

# Exits 1 unless the cluster is up (its state file and head namespace exist).
require_up() {
  if ! load_state || [[ -z "$(existing_namespaces | grep -Fx "$(ns_head)" || true)" ]]; then
    fail "emulated cluster $NAME is not up (no $STATE_FILE or namespace $(ns_head)); start it with: $0 up N"
  fi
}

# CPU seconds a node's cgroup used, or nothing when CPU time is not accounted.
cpu_seconds() {
  local group="$1"
  case "${S[cgroup]}" in
    1)
      if [[ -n "${S[cg_acct]}" && -f "${S[cg_acct]}/$group/cpuacct.usage" ]]; then
        awk '{ printf "%.2f\n", $1 / 1e9 }' "${S[cg_acct]}/$group/cpuacct.usage"
      fi
      ;;
    2)
      if [[ -f "${S[cg_cpu]}/$group/cpu.stat" ]]; then
        awk '$1 == "usage_usec" { printf "%.2f\n", $2 / 1e6 }' "${S[cg_cpu]}/$group/cpu.stat"
      fi
      ;;
  esac
}

# --- Building blocks of `up`

# Runs a command; on failure prints "error: WHAT failed: <its output>" and returns 1 (so `up`
# stops and tears down).
step() {
  local what="$1" out rc=0
  shift
  out="$("$@" 2>&1)" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "error: $what failed: ${out:-exit code $rc} ($*)" >&2
    return 1
  fi
}

# Network namespace NS with a veth pair: the host end NS on the bridge, the namespace end eth0 with
# ADDR/24, each end's sending shaped at RATE (the namespace end: what the node sends; the host end:
# what it receives).
build_namespace() {
  local ns="$1" addr="$2" rate="$3" burst="$4"
  step "creating network namespace $ns" ip netns add "$ns"
  step "creating veth pair $ns / $ns:eth0" ip link add "$ns" type veth peer name eth0 netns "$ns"
  step "attaching $ns to bridge $BRIDGE" ip link set "$ns" master "$BRIDGE" up
  step "addressing $ns:eth0" ip -n "$ns" addr add "$addr/24" dev eth0
  step "bringing up $ns:eth0" ip -n "$ns" link set eth0 up
  step "bringing up $ns:lo" ip -n "$ns" link set lo up
  step "shaping what $ns sends" tc -n "$ns" qdisc add dev eth0 root tbf rate "$rate" burst "$burst" \
    latency "$TBF_LATENCY"
  step "shaping what $ns receives" tc qdisc add dev "$ns" root tbf rate "$rate" burst "$burst" \
    latency "$TBF_LATENCY"
}

# The cgroup(s) of node GROUP with a quota of CORES; sets PROCS to the cgroup.procs files a
# process of the node joins.
build_cgroup() {
  local group="$1" cores="$2" period quota
  PROCS=()
  step "creating cgroup $CG_CPU/$group" mkdir "$CG_CPU/$group"
  PROCS+=("$CG_CPU/$group/cgroup.procs")
  if [[ "$CG_VERSION" == 1 ]]; then
    period="$(cat "$CG_CPU/$group/cpu.cfs_period_us")"
    quota="$(awk -v c="$cores" -v p="$period" 'BEGIN { printf "%.0f\n", c * p }')"
    step "setting the CPU quota of $group" write_file "$CG_CPU/$group/cpu.cfs_quota_us" "$quota"
    if [[ -n "$CG_ACCT" && "$CG_ACCT" != "$CG_CPU" ]]; then
      step "creating cgroup $CG_ACCT/$group" mkdir "$CG_ACCT/$group"
      PROCS+=("$CG_ACCT/$group/cgroup.procs")
    fi
  else
    period=100000
    quota="$(awk -v c="$cores" -v p="$period" 'BEGIN { printf "%.0f\n", c * p }')"
    step "setting the CPU quota of $group" write_file "$CG_CPU/$group/cpu.max" "$quota $period"
  fi
  QUOTA_TEXT="$quota/$period us"
}

write_file() {
  echo "$2" > "$1"
}

# Starts a command in the background in its own session, in network namespace NS, in the cgroups
# whose cgroup.procs files precede `--` (joined before it starts, so all its children are in them
# too), with its output in LOG. Sets STARTED to the process id (setsid -w keeps it the command's).
# Usage: start_in LOG NS [PROCS_FILE...] -- COMMAND [ARG...]
start_in() {
  local log="$1" ns="$2"
  local -a procs=()
  shift 2
  while [[ "$1" != "--" ]]; do
    procs+=("$1")
    shift
  done
  shift
  (
    for f in "${procs[@]}"; do
      echo "$BASHPID" > "$f"
    done
    exec setsid -w ip netns exec "$ns" "$@"
  ) > "$log" 2>&1 < /dev/null &
  STARTED=$!
}

# The java.home of JAVA: executors launched by the workers use its bin/java.
java_home() {
  local home
  home="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.home = //p')" || true
  if [[ -z "$home" ]]; then
    fail "cannot run Java ($JAVA); set JAVA_HOME to a Java 17 installation or JAVA to its java"
  fi
  echo "$home"
}

# Alive workers the master reports, or nothing when it does not answer.
alive_workers() {
  curl -fsS --max-time 3 "http://$HEAD_ADDR:$WEBUI_PORT/json/" 2> /dev/null |
    grep -o '"aliveworkers" *: *[0-9]*' | grep -o '[0-9]*$' || true
}

# The last lines of a log, indented, for an error message.
log_tail() {
  if [[ -f "$1" ]]; then
    tail -n 15 "$1" | sed 's/^/    /' >&2
  fi
}

# --- Commands

# The EXIT trap of `up` while it builds: on failure, remove what was built.
up_failed() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "error: up failed (the reason is above); removing what it built" >&2
    teardown > /dev/null || true
  fi
}

cmd_up() {
  local n="" rate=1gbit cpu=0.45 memory=2g head_rate=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --rate | --cpu | --memory | --head-rate)
        [[ $# -ge 2 ]] || invalid "$1 needs a value; see $0 --help"
        case "$1" in
          --rate) rate="$2" ;;
          --cpu) cpu="$2" ;;
          --memory) memory="$2" ;;
          --head-rate) head_rate="$2" ;;
        esac
        shift 2
        ;;
      --rate=*) rate="${1#*=}"; shift ;;
      --cpu=*) cpu="${1#*=}"; shift ;;
      --memory=*) memory="${1#*=}"; shift ;;
      --head-rate=*) head_rate="${1#*=}"; shift ;;
      -*) invalid "up: unknown option $1; see $0 --help" ;;
      *)
        [[ -z "$n" ]] || invalid "up: one node count expected, got $n and $1"
        n="$1"
        shift
        ;;
    esac
  done
  head_rate="${head_rate:-$rate}"
  [[ -n "$n" ]] || invalid "up: how many nodes? e.g. $0 up 4"
  if [[ ! "$n" =~ ^[1-9][0-9]*$ ]] || ((n > MAX_NODES)); then
    invalid "up $n: expected a node count from 1 to $MAX_NODES"
  fi
  local bps head_bps
  bps="$(parse_rate --rate "$rate")"
  head_bps="$(parse_rate --head-rate "$head_rate")"
  if [[ ! "$cpu" =~ ^([0-9]+(\.[0-9]*)?|\.[0-9]+)$ ]] || ! awk -v c="$cpu" 'BEGIN { exit !(c >= 0.01 && c <= 1024) }'; then
    invalid "--cpu $cpu: expected the cores of one node, a number from 0.01 to 1024, e.g. 0.45 or 2"
  fi
  if [[ ! "$memory" =~ ^[1-9][0-9]*[mMgG]$ ]]; then
    invalid "--memory $memory: expected a worker memory as Spark writes it, NUMBER m|g, e.g. 2g or 1536m"
  fi
  if [[ ! "$UP_TIMEOUT" =~ ^[1-9][0-9]*$ ]]; then
    invalid "UP_TIMEOUT=$UP_TIMEOUT: expected seconds, a positive integer"
  fi
  check_root up
  check_commands ip tc curl setsid
  require_cgroups
  require_jar
  local jhome
  jhome="$(java_home)"
  if anything_exists; then
    fail "an emulated cluster named $NAME is already up (or left over); run '$0 down' first, or set NAME for another one"
  fi
  if [[ -e "$STATE" && -n "$(ls -A "$STATE" 2> /dev/null)" ]]; then
    fail "STATE folder $STATE exists and is not empty; set STATE to a new folder, or remove it"
  fi
  local used
  used="$(ip -o -4 addr show | awk -v p="$SUBNET." 'index($4, p) == 1 { print $2 " " $4 }')"
  if [[ -n "$used" ]]; then
    fail "SUBNET $SUBNET.0/24 is in use here ($used); set SUBNET to a free one, e.g. SUBNET=10.233.0"
  fi
  local cores burst head_burst
  cores="$(awk -v c="$cpu" 'BEGIN { k = int(c); if (k < c) k++; print (k < 1) ? 1 : k }')"
  burst="$(tbf_burst "$bps")"
  head_burst="$(tbf_burst "$head_bps")"
  if awk -v c="$cpu" -v n="$n" -v h="$(nproc)" 'BEGIN { exit !(c * n > h) }'; then
    echo "warning: $n nodes x $cpu cores exceed this machine's $(nproc) cores; the nodes will get less than their quota" >&2
  fi

  # From here on a failure tears down what was built.
  trap up_failed EXIT
  trap 'echo "error: up was interrupted" >&2; exit 130' INT TERM
  mkdir -p "$STATE/head" "$STATE/spark-home/jars"
  {
    echo "nodes=$n"
    echo "rate=$rate"
    echo "head_rate=$head_rate"
    echo "cpu=$cpu"
    echo "cores=$cores"
    echo "memory=$memory"
    echo "subnet=$SUBNET"
    echo "cgroup=$CG_VERSION"
    echo "cg_cpu=$CG_CPU"
    echo "cg_acct=$CG_ACCT"
  } > "$STATE_FILE"

  step "creating bridge $BRIDGE" ip link add "$BRIDGE" type bridge
  step "addressing bridge $BRIDGE" ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  step "bringing up bridge $BRIDGE" ip link set "$BRIDGE" up
  build_namespace "$(ns_head)" "$HEAD_ADDR" "$head_rate" "$head_burst"
  local i quota_text=""
  for ((i = 1; i <= n; i++)); do
    build_namespace "$(ns_node "$i")" "$(node_addr "$i")" "$rate" "$burst"
    build_cgroup "$(ns_node "$i")" "$cpu"
    quota_text="$QUOTA_TEXT"
    mkdir -p "$STATE/n$i/work"
    printf '%s\n' "${PROCS[@]}" > "$STATE/n$i/cgroup.procs.files"
  done

  # Spark's daemons from the job jar, which carries Spark, as a Spark installation runs them: a
  # worker gives its executors <SPARK_HOME>/jars/* (empty here) and the jar through
  # spark.executor.extraClassPath. SPARK_LOCAL_IP and SPARK_LOCAL_HOSTNAME: this machine's host name
  # resolves to an address outside the namespaces.
  local -a daemon_env=(env -u SPARK_CONF_DIR "SPARK_HOME=$STATE/spark-home" SPARK_SCALA_VERSION=2.12
    "JAVA_HOME=$jhome")
  local -a daemon_java=("$jhome/bin/java" "-Xmx$DAEMON_HEAP" "${JVM_FLAGS[@]}" -cp "$JOB_JAR")
  local -a pids=()
  start_in "$STATE/head/master.log" "$(ns_head)" -- "${daemon_env[@]}" "SPARK_LOCAL_IP=$HEAD_ADDR" \
    "SPARK_LOCAL_HOSTNAME=$HEAD_ADDR" "${daemon_java[@]}" org.apache.spark.deploy.master.Master \
    --host "$HEAD_ADDR" --port "$MASTER_PORT" --webui-port "$WEBUI_PORT"
  local master_pid="$STARTED"
  local -a procs
  for ((i = 1; i <= n; i++)); do
    mapfile -t procs < "$STATE/n$i/cgroup.procs.files"
    start_in "$STATE/n$i/worker.log" "$(ns_node "$i")" "${procs[@]}" -- "${daemon_env[@]}" \
      "SPARK_LOCAL_IP=$(node_addr "$i")" "SPARK_LOCAL_HOSTNAME=$(node_addr "$i")" "${daemon_java[@]}" \
      "${WORKER_OPTS[@]}" org.apache.spark.deploy.worker.Worker --host "$(node_addr "$i")" \
      --cores "$cores" --memory "$memory" --work-dir "$STATE/n$i/work" \
      "spark://$HEAD_ADDR:$MASTER_PORT"
    pids+=("$STARTED")
  done

  echo "waiting up to $UP_TIMEOUT s for $n worker(s) to register with the master at spark://$HEAD_ADDR:$MASTER_PORT"
  local deadline=$((SECONDS + UP_TIMEOUT)) alive=0
  while true; do
    alive="$(alive_workers)"
    if [[ "${alive:-0}" -ge "$n" ]]; then
      break
    fi
    # the logs go with the state folder when `up` fails: their last lines come with the error
    if ! kill -0 "$master_pid" 2> /dev/null; then
      log_tail "$STATE/head/master.log"
      fail "the Spark master ended; its log ends as above"
    fi
    for i in "${!pids[@]}"; do
      if ! kill -0 "${pids[$i]}" 2> /dev/null; then
        log_tail "$STATE/n$((i + 1))/worker.log"
        fail "the Spark worker of node n$((i + 1)) ended; its log ends as above"
      fi
    done
    if ((SECONDS >= deadline)); then
      echo "  master log:" >&2
      log_tail "$STATE/head/master.log"
      for ((i = 1; i <= n; i++)); do
        echo "  n$i worker log:" >&2
        log_tail "$STATE/n$i/worker.log"
      done
      fail "only ${alive:-0} of $n workers registered within $UP_TIMEOUT s (logs above); on a busy machine raise UP_TIMEOUT"
    fi
    sleep 1
  done
  trap - EXIT INT TERM

  echo "emulated cluster $NAME is up: $n node(s) on $SUBNET.0/24, state in $STATE"
  echo "master: spark://$HEAD_ADDR:$MASTER_PORT, web UI http://$HEAD_ADDR:$WEBUI_PORT (namespace $(ns_head), rate $head_rate, no CPU quota)"
  printf '  %-5s %-15s %-9s %s\n' node address rate "cpu quota (worker: cores, memory)"
  for ((i = 1; i <= n; i++)); do
    printf '  %-5s %-15s %-9s %s\n' "n$i" "$(node_addr "$i")" "$rate" \
      "$cpu cores, $quota_text, cgroup v$CG_VERSION ($cores core(s), $memory)"
  done
  echo "run the job with: $0 submit -- train --data DATA --out OUT --partitions $n --training-master shared ..."
}

# Stops the cluster's processes and removes everything of NAME; prints what it did. Returns 1 when
# something is left.
teardown() {
  local -a spaces links groups pids=() left
  local ns group p
  mapfile -t spaces < <(existing_namespaces)
  mapfile -t groups < <(existing_cgroups)
  for ns in "${spaces[@]}"; do
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2> /dev/null || true)
  done
  for group in "${groups[@]}"; do
    mapfile -t -O "${#pids[@]}" pids < <(cat "$group/cgroup.procs" 2> /dev/null || true)
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
    echo "stopping ${#pids[@]} process(es): ${pids[*]}"
    kill -TERM "${pids[@]}" 2> /dev/null || true
    local waited
    for waited in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 KILL 1 2 3 4 5 6 7 8 9 10; do
      left=()
      for p in "${pids[@]}"; do
        if kill -0 "$p" 2> /dev/null; then
          left+=("$p")
        fi
      done
      if [[ ${#left[@]} -eq 0 ]]; then
        break
      fi
      if [[ "$waited" == KILL ]]; then
        echo "killing ${#left[@]} process(es) that did not end within 10 s: ${left[*]}"
        kill -KILL "${left[@]}" 2> /dev/null || true
      fi
      sleep 0.5
    done
  fi
  mapfile -t links < <(existing_links)
  for p in "${links[@]}"; do
    ip link del "$p" 2> /dev/null || true
  done
  for ns in "${spaces[@]}"; do
    ip netns del "$ns" 2> /dev/null || true
  done
  # a cgroup can be removed once its last process has been reaped, which may lag a moment
  for group in "${groups[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      if rmdir "$group" 2> /dev/null || [[ ! -d "$group" ]]; then
        break
      fi
      sleep 0.5
    done
  done
  # deleting a namespace deletes its veth pair shortly after
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if [[ -z "$(existing_links)" ]]; then
      break
    fi
    sleep 0.5
  done
  if [[ ${#spaces[@]} -gt 0 || ${#links[@]} -gt 0 || ${#groups[@]} -gt 0 ]]; then
    echo "removed ${#spaces[@]} namespace(s), ${#links[@]} link(s), ${#groups[@]} cgroup(s)"
  fi
  if [[ -f "$STATE_FILE" ]]; then
    rm -rf "$STATE"
    echo "removed $STATE"
  elif [[ -d "$STATE" ]]; then
    rmdir "$STATE" 2> /dev/null || echo "left $STATE: it holds no $STATE_FILE, so it is not this cluster's" >&2
  fi
  # Aeron's folders in /dev/shm (RAM) of the JVMs that ended; those of running JVMs stay
  sh -c "$AERON_CLEANUP"
  local rest
  rest="$(existing_namespaces)$(existing_links)$(existing_cgroups)"
  for ns in "${spaces[@]}"; do
    if [[ -n "$(ip netns pids "$ns" 2> /dev/null || true)" ]]; then
      rest+=" processes in $ns"
    fi
  done
  if [[ -n "$rest" ]]; then
    echo "error: could not remove all of $NAME: $(echo "$rest" | tr '\n' ' '); see 'ip netns list', 'ip link' and $CG_CPU" >&2
    return 1
  fi
}

cmd_down() {
  [[ $# -eq 0 ]] || invalid "down takes no arguments; see $0 --help"
  check_root down
  check_commands ip
  detect_cgroups
  if ! anything_exists && [[ ! -d "$STATE" ]]; then
    echo "emulated cluster $NAME is not up; nothing to do"
    return 0
  fi
  teardown
  echo "emulated cluster $NAME is down"
}

cmd_status() {
  [[ $# -eq 0 ]] || invalid "status takes no arguments; see $0 --help"
  check_root status
  check_commands ip curl
  if ! load_state || [[ -z "$(existing_namespaces | grep -Fx "$(ns_head)" || true)" ]]; then
    echo "emulated cluster $NAME is not up"
    if anything_exists; then
      echo "parts of it are left over; remove them with: $0 down"
    fi
    return 1
  fi
  local n="${S[nodes]}" json alive i addr worker
  json="$(curl -fsS --max-time 3 "http://$HEAD_ADDR:$WEBUI_PORT/json/" 2> /dev/null || true)"
  alive="$(grep -o '"aliveworkers" *: *[0-9]*' <<< "$json" | grep -o '[0-9]*$' || true)"
  echo "emulated cluster $NAME is up: $n node(s) on $SUBNET.0/24, state in $STATE"
  if [[ -z "$json" ]]; then
    echo "master: spark://$HEAD_ADDR:$MASTER_PORT does not answer on http://$HEAD_ADDR:$WEBUI_PORT/json/ (log: $STATE/head/master.log)"
  else
    echo "master: spark://$HEAD_ADDR:$MASTER_PORT, ${alive:-0} of $n worker(s) alive (web UI http://$HEAD_ADDR:$WEBUI_PORT)"
  fi
  printf '  %-5s %-15s %-9s %-11s %s\n' node address rate "cpu quota" worker
  printf '  %-5s %-15s %-9s %-11s %s\n' head "$HEAD_ADDR" "${S[head_rate]}" none master
  # the master's JSON lists the workers as objects starting with "id": one line each, then the
  # state on the line of the node's address (the last, when a worker registered again)
  local workers
  workers="$(tr -d '\n ' <<< "$json" | sed 's/"id":/\n/g')"
  for ((i = 1; i <= n; i++)); do
    addr="$(node_addr "$i")"
    worker="$(grep -F "\"host\":\"$addr\"," <<< "$workers" | grep -o '"state":"[A-Z]*"' | tail -n 1 |
      cut -d'"' -f4 || true)"
    printf '  %-5s %-15s %-9s %-11s %s\n' "n$i" "$addr" "${S[rate]}" "${S[cpu]} cores" "${worker:-not registered}"
  done
  [[ "${alive:-0}" -ge "$n" ]]
}

cmd_counters() {
  local json=false
  case "${1:-}" in
    --json) json=true; shift ;;
    "") ;;
    *) invalid "counters: unknown argument $1; expected nothing or --json" ;;
  esac
  [[ $# -eq 0 ]] || invalid "counters: unexpected argument $1"
  check_root counters
  check_commands ip
  require_up
  local -a names=(head) spaces=("$(ns_head)") addrs=("$HEAD_ADDR")
  local i k tx rx cpu_s sep="" n="${S[nodes]}"
  local -a bytes
  for ((i = 1; i <= n; i++)); do
    names+=("n$i")
    spaces+=("$(ns_node "$i")")
    addrs+=("$(node_addr "$i")")
  done
  if $json; then
    printf '{'
  else
    printf '%-5s %-15s %15s %15s %12s\n' node address tx_bytes rx_bytes cpu_seconds
  fi
  for k in "${!names[@]}"; do
    # eth0 of the namespace: `ip netns exec` mounts the namespace's own /sys
    mapfile -t bytes < <(ip netns exec "${spaces[$k]}" cat /sys/class/net/eth0/statistics/tx_bytes \
      /sys/class/net/eth0/statistics/rx_bytes)
    tx="${bytes[0]:?cannot read the counters of ${spaces[$k]}:eth0}"
    rx="${bytes[1]:?cannot read the counters of ${spaces[$k]}:eth0}"
    cpu_s=""
    if [[ "${names[$k]}" != head ]]; then
      cpu_s="$(cpu_seconds "${spaces[$k]}")"
    fi
    if $json; then
      printf '%s"%s":{"address":"%s","tx_bytes":%s,"rx_bytes":%s' "$sep" "${names[$k]}" "${addrs[$k]}" "$tx" "$rx"
      if [[ -n "$cpu_s" ]]; then
        printf ',"cpu_seconds":%s' "$cpu_s"
      fi
      printf '}'
      sep=","
    else
      printf '%-5s %-15s %15s %15s %12s\n' "${names[$k]}" "${addrs[$k]}" "$tx" "$rx" "${cpu_s:--}"
    fi
  done
  if $json; then
    printf '}\n'
  fi
}

cmd_exec() {
  local i="${1:-}"
  if [[ ! "$i" =~ ^[1-9][0-9]*$ ]]; then
    invalid "exec ${i}: give a node number from 1, then the command, e.g. $0 exec 1 -- java -version"
  fi
  shift
  if [[ "${1:-}" == "--" ]]; then
    shift
  fi
  if [[ $# -eq 0 ]]; then
    invalid "exec $i: the command is missing, e.g. $0 exec $i -- java -version"
  fi
  check_root exec
  check_commands ip
  require_up
  if ((i > S[nodes])); then
    invalid "exec $i: the cluster has ${S[nodes]} node(s)"
  fi
  local -a procs
  mapfile -t procs < "$STATE/n$i/cgroup.procs.files"
  for f in "${procs[@]}"; do
    echo "$BASHPID" > "$f"
  done
  exec ip netns exec "$(ns_node "$i")" "$@"
}

# Mbit/s of a rate as tc writes it (1gbit: 1000), as the job records it.
rate_mbit() {
  awk -v bps="$(parse_rate --rate "$1")" 'BEGIN { printf "%g\n", bps / 1e6 }'
}

cmd_submit() {
  local -a spark_opts=() job_args=()
  local arg split=false
  for arg in "$@"; do
    if [[ "$arg" == "--" ]] && ! $split; then
      split=true
      spark_opts=("${job_args[@]}")
      job_args=()
    else
      job_args+=("$arg")
    fi
  done
  if [[ ${#job_args[@]} -eq 0 ]]; then
    invalid "submit: the job's command and options are missing, e.g. $0 submit -- train --data DATA --out OUT"
  fi
  for arg in "${spark_opts[@]}"; do
    case "$arg" in
      --master | --master=* | --deploy-mode | --deploy-mode=*)
        invalid "submit: $arg: the emulated cluster sets the master and client mode itself; leave it out"
        ;;
    esac
  done
  check_root submit
  check_commands ip
  require_jar
  require_up
  local n="${S[nodes]}" cores="${S[cores]}" driver_heap
  local -a driver_opts
  # what spark-submit's launcher adds to the driver JVM in client mode, from spark-defaults.conf
  driver_heap="$(spark_default spark.driver.memory)"
  read -r -a driver_opts <<< "$(spark_default spark.driver.extraJavaOptions)"
  local -a cmd=(ip netns exec "$(ns_head)" env "SPARK_LOCAL_IP=$HEAD_ADDR" "SPARK_LOCAL_HOSTNAME=$HEAD_ADDR"
    "$JAVA" "${JVM_FLAGS[@]}")
  if [[ -n "$driver_heap" ]]; then
    cmd+=("-Xmx$driver_heap")
  fi
  cmd+=("${driver_opts[@]}" -cp "$JOB_JAR" org.apache.spark.deploy.SparkSubmit
    --master "spark://$HEAD_ADDR:$MASTER_PORT" --deploy-mode client --class org.sqzspark.job.cli.Main
    --conf "spark.driver.host=$HEAD_ADDR"
    --conf "spark.executor.extraClassPath=$JOB_JAR"
    # one executor per node, as large as the node: spark-defaults.conf sizes them for 4-core Pis
    --conf "spark.executor.cores=$cores"
    --conf "spark.executor.memory=${S[memory]}"
    --total-executor-cores "$((n * cores))"
    # the job waits for all N executors before it maps replicas onto them (gradient sharing)
    --conf "spark.executor.instances=$n"
    # a node's native (OpenMP) threads match its cores
    --conf "spark.executorEnv.OMP_NUM_THREADS=$cores"
    # recorded with each run: the cost model reads it (scaling command, report)
    --conf "spark.sqzspark.linkMbit=$(rate_mbit "${S[rate]}")"
    # event logs on this machine (spark-defaults.conf names the Pis' HDFS), in Spark's default
    # folder, which a history server started without settings reads; the job creates it
    --conf "spark.eventLog.dir=$SPARK_EVENTS_DEFAULT"
    "${spark_opts[@]}")
  if [[ "${STAGED_JAR:-1}" == 0 ]]; then
    cmd+=("$JOB_JAR" "${job_args[@]}")
  else
    cmd+=("local:$JOB_JAR" "${job_args[@]}")
  fi
  exec "${cmd[@]}"
}

case "${1:-}" in
  up | down | status | counters | submit | exec)
    command="$1"
    shift
    check_name
    check_subnet
    "cmd_$command" "$@"
    ;;
  -h | --help)
    script_usage "${BASH_SOURCE[0]}"
    ;;
  *)
    usage
    ;;
esac
