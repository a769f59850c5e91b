#!/usr/bin/env bash
# Submits the job with spark-submit to a Spark standalone master, from the cluster's head node, in
# client mode (the driver runs here and its exit code is this script's).
#
# Usage: submit/submit.sh COMMAND [OPTIONS]        COMMAND is train or sweep; options as for run-local.sh
#   e.g. SPARK_MASTER_URL=spark://head:7077 submit/submit.sh train --data hdfs://head:9000/cifar10 --partitions 8
#
# Without EXECUTORS, train runs on the executors submit/cluster-sweep.sh would give its P (--partitions,
# default 1): the largest divisor of P that the live workers can host, one executor per worker host
# (the master's JSON view lists them; where it does not answer, the hosts in the workers file), so
# gradient sharing gets P / executors replicas in each executor. A sweep runs every P in one
# application on one set of executors: it goes ahead when all its P get the same executor count, and
# otherwise is refused (exit 2) with a pointer to submit/cluster-sweep.sh, one application per P.
# The jar goes to spark-submit as local:<path> of its staged copy (submit/stage-jar.sh, which
# submit/start-cluster.sh runs) when this node has one of this very jar: the executors read it from
# their own disk. Otherwise, with a note, as its path here: every executor fetches it from the driver.
# Exit codes: those of the job (2 invalid option, 3 bad data, 4 run stopped by its cluster, 5 the
# cluster cannot host this P now); 5 also when the master lists no worker that can host an executor.
#
# Variables:
#   SPARK_MASTER_URL       master to submit to (required), e.g. spark://192.168.1.10:7077
#   SPARK_MASTER_WEBUI_PORT  its web UI port, whose JSON view lists the live workers (default: 8080)
#   SPARK_HOME             Spark installation (default: spark-submit on PATH)
#   EXECUTOR_MEMORY        heap of each executor (default: from spark-defaults.conf)
#   EXECUTORS              executors to run on, one per worker host: the job waits for this many
#                          (spark.executor.instances) and takes EXECUTORS x EXECUTOR_CORES cores
#                          (default: planned from P and the live workers, as above)
#   EXECUTOR_CORES         cores of one executor (default: spark.executor.cores of spark-defaults.conf)
#   TOTAL_EXECUTOR_CORES   cores the application takes from the cluster (default: EXECUTORS x
#                          EXECUTOR_CORES, else all)
#   OMP_THREADS            native (OpenMP) threads of each replica in the executors (default for a
#                          planned train: the executor's cores / replicas per executor; else ND4J's,
#                          all cores)
#   SPARK_WORKERS          workers file, where the master's web UI does not answer (default: spark-conf/workers)
#   DEPLOY_MODE            client (default; the only mode that works: cluster mode is refused, exit 2)
#   SPARK_SECRET_FILE      the cluster's shared secret, for a spark:// master (default:
#                          spark-conf/spark-secret, made by submit/start-cluster.sh; README, Security)
#   STAGED_JAR             0: send the jar from the driver even when it is staged (default: 1)
#   JAR_STAGE_DIR          folder of the staged jar, as in submit/stage-jar.sh
#   DRY_RUN                1: print the plan and the spark-submit command, run nothing
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$here/common.sh"

if [[ $# -lt 1 || -z "${SPARK_MASTER_URL:-}" ]]; then
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
fi
case "${DEPLOY_MODE:-client}" in
  client) ;;
  cluster)
    echo "error: DEPLOY_MODE=cluster cannot work here (the jar is a path on this head node, the driver needs its memory, and a standalone cluster-mode submit returns at once, losing the exit code): unset DEPLOY_MODE and run submit.sh on the head node in client mode" >&2
    exit 2
    ;;
  *)
    echo "error: DEPLOY_MODE=$DEPLOY_MODE: use client (the default), on the head node" >&2
    exit 2
    ;;
esac
for name in EXECUTORS EXECUTOR_CORES TOTAL_EXECUTOR_CORES OMP_THREADS; do
  if [[ -n "${!name:-}" ]]; then
    require_positive "$name" "${!name}"
  fi
done
require_jar

spark_submit="$(find_command "${SPARK_HOME:-}" bin/spark-submit spark-submit)"
if [[ -z "$spark_submit" ]]; then
  echo "error: spark-submit not found; set SPARK_HOME to the Spark 3.5 installation" >&2
  exit 1
fi

executor_cores="${EXECUTOR_CORES:-$(spark_default spark.executor.cores)}"

# The job command's P (-p/--partitions, as picocli reads it), and whether it only asks for help.
command="$1"
partitions=""
help=false
args=("${@:2}")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -h | --help | -V | --version) help=true ;;
    -p | --partitions) partitions="${args[i + 1]:-}"; i=$((i + 1)) ;;
    --partitions=* | -p=*) partitions="${args[i]#*=}" ;;
    -p*) partitions="${args[i]#-p}" ;;
  esac
done

# Plan the executors from P, unless given, asked for help, or on a master that is not standalone.
if [[ -z "${EXECUTORS:-}" && "$help" == false && "$SPARK_MASTER_URL" == spark://* \
  && ("$command" == train || "$command" == sweep) ]]; then
  if [[ "$command" == train ]]; then
    partitions="${partitions:-$TRAIN_PARTITIONS_DEFAULT}"
  else
    partitions="${partitions:-$SWEEP_PARTITIONS_DEFAULT}"
  fi
  # a malformed P goes to the job, whose message names the option
  if [[ "$partitions" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ && ("$command" == sweep || "$partitions" != *,*) ]]; then
    if [[ ! "$executor_cores" =~ ^[1-9][0-9]*$ ]]; then
      echo "error: planning executors needs the cores of one executor: set EXECUTOR_CORES or spark.executor.cores in $SPARK_CONF_DIR/spark-defaults.conf (or set EXECUTORS)" >&2
      exit 2
    fi
    executor_memory="$(memory_mb "${EXECUTOR_MEMORY:-$(spark_default spark.executor.memory)}")"
    live_workers "$executor_cores" "${executor_memory:-1024}"
    IFS=, read -r -a plist <<< "$partitions"
    executors=""
    counts=()
    for p in "${plist[@]}"; do
      plan_run "$p" "$LIVE_WORKERS" "$executor_cores"
      counts+=("$PLAN_EXECUTORS")
      if [[ -z "$executors" ]]; then
        executors=$PLAN_EXECUTORS
      elif [[ "$executors" != "$PLAN_EXECUTORS" ]]; then
        executors=mixed
      fi
    done
    if [[ "$executors" == mixed ]]; then
      echo "error: sweep runs every P in one application on one set of executors, but on $LIVE_WORKERS workers P=$partitions need ${counts[*]} executors; run submit/cluster-sweep.sh (one application per P, same options), or set EXECUTORS to a divisor of every P" >&2
      exit 2
    fi
    EXECUTORS=$executors
    if [[ "$command" == train ]]; then
      OMP_THREADS="${OMP_THREADS:-$PLAN_THREADS}"
      echo "plan: P=$partitions on $EXECUTORS executor(s) x $PLAN_REPLICAS replica(s), $OMP_THREADS thread(s) each" >&2
    else
      echo "plan: P=$partitions on $EXECUTORS executor(s)" >&2
    fi
  fi
fi

cmd=("$spark_submit" --master "$SPARK_MASTER_URL" --deploy-mode client)
# A standalone master authenticates every application with the cluster's secret. The driver reads
# the file itself (ClusterSecret), so that the secret is on no command line.
if [[ "$SPARK_MASTER_URL" == spark://* ]]; then
  require_secret
  cmd+=(--conf spark.authenticate=true --conf "spark.sqzspark.secretFile=$SPARK_SECRET_FILE")
fi
if [[ -n "${EXECUTOR_MEMORY:-}" ]]; then
  cmd+=(--executor-memory "$EXECUTOR_MEMORY")
fi
total_cores="${TOTAL_EXECUTOR_CORES:-}"
if [[ -n "${EXECUTORS:-}" ]]; then
  if [[ -z "$total_cores" ]]; then
    if [[ ! "$executor_cores" =~ ^[1-9][0-9]*$ ]]; then
      echo "error: EXECUTORS needs the cores of one executor: set EXECUTOR_CORES or spark.executor.cores in $SPARK_CONF_DIR/spark-defaults.conf" >&2
      exit 2
    fi
    total_cores=$((EXECUTORS * executor_cores))
  fi
  cmd+=(--conf "spark.executor.instances=$EXECUTORS")
fi
if [[ -n "${EXECUTOR_CORES:-}" ]]; then
  cmd+=(--executor-cores "$EXECUTOR_CORES")
fi
if [[ -n "$total_cores" ]]; then
  cmd+=(--total-executor-cores "$total_cores")
fi
if [[ -n "${OMP_THREADS:-}" ]]; then
  cmd+=(--conf "spark.executorEnv.OMP_NUM_THREADS=$OMP_THREADS")
fi
app_jar="$JOB_JAR"
if [[ "${STAGED_JAR:-1}" != 0 ]]; then
  staged="$(staged_jar)"
  if [[ -f "$staged" ]]; then
    app_jar="local:$staged"
  else
    echo "note: this build of the job jar is not staged (no $staged), so every executor fetches it from the driver; submit/stage-jar.sh stages it" >&2
  fi
fi
cmd+=("$app_jar" "$@")
if [[ "${DRY_RUN:-}" == 1 ]]; then
  printf '%q ' "${cmd[@]}"
  echo
  exit 0
fi
exec "${cmd[@]}"
