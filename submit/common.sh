#!/usr/bin/env bash
# Shared definitions of the submit/ scripts (sourced, not run).
#   SQZ_ROOT        repository root (derived)
#   JOB_JAR         the runnable job jar; built by `mvn -B package -DskipTests` (name: job/pom.xml job.jar.name)
#   SPARK_CONF_DIR  Spark configuration folder (default: spark-conf/ of this repository)
#   JAVA            java executable (default: $JAVA_HOME/bin/java, else java on PATH)

SQZ_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOB_JAR="${JOB_JAR:-$SQZ_ROOT/job/target/squeezenet-spark-job.jar}"
export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$SQZ_ROOT/spark-conf}"
if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="${JAVA:-$JAVA_HOME/bin/java}"
else
  JAVA="${JAVA:-java}"
fi

# JVM flags of an embedded (local[*]) run; spark-conf/spark-defaults.conf carries the same for spark-submit.
# shellcheck disable=SC2034 # used by the scripts that source this file
JVM_FLAGS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  -Daeron.publication.unblock.timeout=60000000000
  -Dorg.eclipse.deeplearning4j.helpers.disable=false
  "-Dlog4j2.configurationFile=$SPARK_CONF_DIR/log4j2.properties"
)

require_jar() {
  if [[ ! -f "$JOB_JAR" ]]; then
    echo "error: job jar not found at $JOB_JAR; build it first: (cd $SQZ_ROOT && mvn -B package -DskipTests)" >&2
    exit 1
  fi
}
