#!/usr/bin/env bash
# Environment of Spark's daemons and of spark-submit, sourced by Spark's own scripts from
# SPARK_CONF_DIR (submit/*.sh point SPARK_CONF_DIR at this folder; submit/start-cluster.sh copies the
# folder to every worker host). Values already set in the environment win.
# Sized for a Raspberry Pi 4 (4 cores, 4 GB); see spark-defaults.conf for 8 GB.

# Java: JAVA_HOME as set; else Debian's OpenJDK 17 for this machine's architecture (dpkg's name for
# it: arm64 on a 64-bit Raspberry Pi OS), the Java the job is built and tested on (Raspberry Pi OS
# Legacy, Debian 12, has it); else OpenJDK 21 (Debian 13 has no 17; not covered by the tests:
# docs/pi-cluster.md, step 1); else the JDK of the java on PATH. 17 is looked for by name first
# because Debian's `java` command points at the newest JDK installed.
if [[ -z "${JAVA_HOME:-}" ]]; then
  sqz_arch="$(dpkg --print-architecture 2> /dev/null)" || sqz_arch='*'
  # shellcheck disable=SC2231 # without dpkg, $sqz_arch is * and matches any architecture
  for sqz_jdk in /usr/lib/jvm/java-17-openjdk-${sqz_arch} /usr/lib/jvm/java-21-openjdk-${sqz_arch}; do
    if [[ -x "$sqz_jdk/bin/java" ]]; then
      export JAVA_HOME="$sqz_jdk"
      break
    fi
  done
  if [[ -z "${JAVA_HOME:-}" ]] && sqz_jdk="$(command -v java)"; then
    sqz_jdk="$(readlink -f "$sqz_jdk")"
    if [[ "$sqz_jdk" == */bin/java ]]; then
      export JAVA_HOME="${sqz_jdk%/bin/java}"
    fi
  fi
  unset sqz_arch sqz_jdk
fi

# Cores a worker offers: all 4 of a Pi 4, so one 4-core executor (spark.executor.cores) fills it.
export SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-4}"
# Heap a worker may hand to executors. Spark counts only the executor's heap against it
# (spark.executor.memory, 1g); ND4J's off-heap arrays and the JVM's own memory come on top and are
# capped by the JavaCPP limits in spark-defaults.conf. 8 GB Pis: 2g, with spark.executor.memory 2g.
export SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-1g}"
# Heap of the master and worker daemons (Spark's default: 1g). A worker with one executor, or a
# master with 24 workers and one application at a time, needs little; 256 MB keeps a 4 GB worker's
# executor, worker and DataNode within its memory (docs/pi-cluster.md, "Memory per Pi").
export SPARK_DAEMON_MEMORY="${SPARK_DAEMON_MEMORY:-256m}"
# Every application copies the job jar (335 MB for linux-arm64; from its staged copy on the
# Pi, submit/stage-jar.sh) into the worker's work folder on the SD card ($SPARK_HOME/work, Spark's
# default); a sweep is one application per P. Delete the folders
# of finished applications after 6 hours (checked every 30 minutes), keeping their logs long enough
# to read. sqzspark.daemon names the worker's log file (log4j2-daemons.properties).
export SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:--Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=1800 -Dspark.worker.cleanup.appDataTtl=21600} -Dsqzspark.daemon=worker"
export SPARK_MASTER_OPTS="${SPARK_MASTER_OPTS:-} -Dsqzspark.daemon=master"
# Authentication (README, Security): the cluster's shared secret, made once on the head node by
# submit/start-cluster.sh (SPARK_SECRET_FILE, default spark-secret in this folder, mode 600) and
# copied with this folder to every worker host. With it, the master and the workers accept RPC
# connections (applications, workers, executors) only from processes that hold the same secret.
# Spark 3.5 reads a secret file only on Kubernetes, so the daemons get it in Spark's own variable
# for it, _SPARK_AUTH_SECRET, which no command line (ps) shows; a worker hands it to its executors
# the same way. Without the file the daemons run without authentication, as Spark's default.
sqz_secret="${SPARK_SECRET_FILE:-${SPARK_CONF_DIR:-.}/spark-secret}"
if [[ -f "$sqz_secret" ]]; then
  _SPARK_AUTH_SECRET="$(< "$sqz_secret")"
  export _SPARK_AUTH_SECRET
  export SPARK_MASTER_OPTS="$SPARK_MASTER_OPTS -Dspark.authenticate=true"
  export SPARK_WORKER_OPTS="$SPARK_WORKER_OPTS -Dspark.authenticate=true"
fi
unset sqz_secret
# Logs of the master and worker daemons: INFO (workers registering, executors launched and exited
# with their exit codes) into a file of their own in SPARK_LOG_DIR, rolled by size
# (log4j2-daemons.properties). The driver, the executors and embedded runs log with
# log4j2.properties instead. Spark's default folder, in the Spark installation on the SD card.
if [[ -n "${SPARK_HOME:-}" ]]; then
  export SPARK_LOG_DIR="${SPARK_LOG_DIR:-$SPARK_HOME/logs}"
fi
if [[ -f "${SPARK_CONF_DIR:-}/log4j2-daemons.properties" ]]; then
  # quoted for Spark, which splits the value as bash would
  export SPARK_DAEMON_JAVA_OPTS="${SPARK_DAEMON_JAVA_OPTS:-} \"-Dlog4j2.configurationFile=$SPARK_CONF_DIR/log4j2-daemons.properties\""
fi
# Ports: fixed, so that a firewall can list them (docs/pi-cluster.md, step 2). The worker's
# (Spark's default: random) and its web UI's; the master's are set by submit/start-cluster.sh (7077,
# web UI 8080), the driver's and the block managers' in spark-defaults.conf.
export SPARK_WORKER_PORT="${SPARK_WORKER_PORT:-7078}"
export SPARK_WORKER_WEBUI_PORT="${SPARK_WORKER_WEBUI_PORT:-8081}"
# Scratch folder of the driver's block manager and, through the workers, of the executors' (broadcast
# pieces and cached blocks that spill, shuffle files). Spark's default, /tmp, is RAM (tmpfs) on
# Debian 13-based Raspberry Pi OS, so spilling there would take the memory it is meant to free;
# /var/tmp is on the SD card on every Debian.
export SPARK_LOCAL_DIRS="${SPARK_LOCAL_DIRS:-/var/tmp}"
# PID files of the master and worker daemons (Spark's default: /tmp, which systemd-tmpfiles empties
# of files older than 10 days: a long-running worker then cannot be stopped by its script). Beside
# the daemons' logs in the Spark installation, which Spark already needs writable;
# submit/stop-cluster.sh reads them to wait for the daemons and their executors to exit.
if [[ -n "${SPARK_HOME:-}" ]]; then
  export SPARK_PID_DIR="${SPARK_PID_DIR:-$SPARK_HOME/pids}"
fi
