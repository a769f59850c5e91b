#!/usr/bin/env bash
# Stages the job jar on the cluster: copies it once into the same folder on every worker host in
# spark-conf/workers and on this (head) node, under a name carrying its content hash. submit/submit.sh
# then submits that copy as local:<path>, so each executor reads the jar from its own disk instead
# of fetching it from the driver, which spark-submit otherwise has every executor do for every
# application (the whole jar into every Pi, again for each P of submit/cluster-sweep.sh).
# A host that holds this jar already is sent nothing; a host that does not gets it over ssh, and the
# jars staged there before are deleted. This node gets its copy last, and only when every worker
# host holds the jar (on any failure its copy is removed), so that submit.sh, which looks here, uses
# the staged jar only where all workers have it. submit/start-cluster.sh runs this; run it yourself
# after rebuilding the jar while the cluster runs. One line per host says what happened; exits 1
# naming the hosts where staging failed.
#
# Usage: submit/stage-jar.sh
#
# Variables:
#   JOB_JAR            the jar to stage (default: job/target/squeezenet-spark-job.jar)
#   JAR_STAGE_DIR      folder of the staged jar, the same absolute path on every node (default:
#                      $WORKER_SPARK_HOME/lib-squeezenet-spark)
#   WORKER_SPARK_HOME  Spark installation on the worker hosts (default: $SPARK_HOME, else /opt/spark)
#   SPARK_WORKERS      workers file (default: spark-conf/workers)
#   SPARK_SSH_OPTS     options of every ssh (default: -o BatchMode=yes -o ConnectTimeout=10)
#   SPARK_SSH_TIMEOUT  seconds asking one host which jar it holds may take (default: 60)
#   STAGE_TIMEOUT      seconds sending the jar to one host may take (default: 900; all hosts are
#                      sent to at once, sharing this node's link: 24 Pis x 350 MB is about 70 s of
#                      Gigabit Ethernet)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_arguments "${BASH_SOURCE[0]}" "$@"

require_jar
read_workers
stage_timeout="${STAGE_TIMEOUT:-900}"
require_positive STAGE_TIMEOUT "$stage_timeout"
require_positive SPARK_SSH_TIMEOUT "${SPARK_SSH_TIMEOUT:-60}"
dir="$(stage_dir)"
if [[ "$dir" != /* ]]; then
  echo "error: JAR_STAGE_DIR ($dir) must be an absolute path, the same on every node" >&2
  exit 2
fi
staged="$(staged_jar)"
name="${staged##*/}"
bytes="$(stat -c %s "$JOB_JAR")"
echo "job jar: $JOB_JAR ($bytes bytes) as $staged"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$work/empty"

# On a host (POSIX sh, arguments: folder, name): whether it holds the jar.
# shellcheck disable=SC2016 # expanded by the remote shell
holds='if [ -f "$1/$2" ]; then echo staged; else echo missing; fi'
# On a host (arguments: folder, name, bytes): receive the jar on standard input into a temporary
# file, check its size, move it into place (so a cut-off copy is never taken for the jar), then
# delete the other staged jars.
# shellcheck disable=SC2016 # expanded by the remote shell
receive='set -e; mkdir -p "$1"; part="$1/.$2.part"; cat > "$part"; got=$(wc -c < "$part"); if [ "$got" -ne "$3" ]; then rm -f "$part"; echo "received $got of $3 bytes" >&2; exit 1; fi; mv -f "$part" "$1/$2"; for f in "$1"/*.jar; do if [ "$f" != "$1/$2" ]; then rm -f "$f"; fi; done'

all_hosts=("${WORKER_HOSTS[@]}")
on_workers "$work" "$work/empty" sh -c "$holds" stage-jar "$dir" "$name"
failed=()
send=()
for i in "${!all_hosts[@]}"; do
  host="${all_hosts[$i]}"
  rc="$(cat "$work/$i.rc")"
  if [[ "$rc" -eq 0 && "$(tail -n 1 "$work/$i.log")" == staged ]]; then
    echo "$host: job jar already staged"
  elif [[ "$rc" -eq 0 ]]; then
    send+=("$host")
  else
    echo "$host: error: cannot tell which jar it holds: $(host_failure "$rc" "$work/$i.log")" >&2
    failed+=("$host")
  fi
done

if [[ ${#send[@]} -gt 0 ]]; then
  WORKER_HOSTS=("${send[@]}")
  mkdir "$work/send"
  started=$SECONDS
  SPARK_SSH_TIMEOUT="$stage_timeout" on_workers "$work/send" "$JOB_JAR" sh -c "$receive" stage-jar "$dir" "$name" "$bytes"
  for i in "${!send[@]}"; do
    rc="$(cat "$work/send/$i.rc")"
    if [[ "$rc" -eq 0 ]]; then
      echo "${send[$i]}: job jar staged (sent $bytes bytes; $((SECONDS - started)) s for all ${#send[@]} host(s) at once)"
    else
      echo "${send[$i]}: error: job jar not staged: $(SPARK_SSH_TIMEOUT="$stage_timeout" host_failure "$rc" "$work/send/$i.log")" >&2
      failed+=("${send[$i]}")
    fi
  done
fi

if [[ ${#failed[@]} -gt 0 ]]; then
  rm -f "$staged"
  echo "error: job jar not staged on ${failed[*]}; submit/submit.sh sends it with every application until it is: check ssh and the free space in $dir there (df -h $dir), then run submit/stage-jar.sh again" >&2
  exit 1
fi

# This node last: the driver reads the jar from the same path in client mode.
if [[ -f "$staged" ]]; then
  echo "this node: job jar already staged"
else
  mkdir -p "$dir"
  cp "$JOB_JAR" "$dir/.$name.part"
  mv -f "$dir/.$name.part" "$staged"
  for f in "$dir"/*.jar; do
    if [[ "$f" != "$staged" ]]; then
      rm -f "$f"
    fi
  done
  echo "this node: job jar staged"
fi
