#!/usr/bin/env bash
# Environment of Spark's daemons and of spark-submit, sourced by Spark's own scripts from
# SPARK_CONF_DIR (submit/*.sh point SPARK_CONF_DIR at this folder). Values already set in the
# environment win.

# Java 17 for Spark 3.5 and DL4J 1.0.0-M2.
if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/java-17-openjdk-arm64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-arm64
fi
