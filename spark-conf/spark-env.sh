#!/usr/bin/env bash
# Environment of Spark's daemons and of spark-submit, sourced by Spark's own scripts from
# SPARK_CONF_DIR (submit/*.sh point SPARK_CONF_DIR at this folder; submit/start-cluster.sh copies the
# folder to every worker host). Values already set in the environment win.
# Sized for a Raspberry Pi 4 (4 cores, 4 GB); see spark-defaults.conf for 8 GB.

# Java 17 for Spark 3.5 and DL4J 1.0.0-M2 (Debian's openjdk-17 on a 64-bit Raspberry Pi OS).
if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/java-17-openjdk-arm64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-arm64
fi

# Cores a worker offers: all 4 of a Pi 4, so one 4-core executor (spark.executor.cores) fills it.
export SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-4}"
# Heap a worker may hand to executors. Spark counts only the executor's heap against it
# (spark.executor.memory, 1g); ND4J's off-heap arrays and the JVM's own memory come on top and are
# capped by the JavaCPP limits in spark-defaults.conf. 8 GB Pis: 2g, with spark.executor.memory 2g.
export SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-1g}"
# Heap of the master and worker daemons (Spark's default: 1g). They need little, and a Pi's memory
# is for the executor.
export SPARK_DAEMON_MEMORY="${SPARK_DAEMON_MEMORY:-512m}"
# Every application copies the job jar (335 MB for linux-arm64) into the worker's work folder on the
# SD card; a sweep is one application per P. Delete the folders of finished applications after 6
# hours (checked every 30 minutes), keeping their logs long enough to read.
export SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:--Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=1800 -Dspark.worker.cleanup.appDataTtl=21600}"
