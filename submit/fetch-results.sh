#!/usr/bin/env bash
# Copies a results folder (--out) from HDFS to this head node: run-<id>.json, results.csv and
# run-<id>.model.zip. Files already in LOCAL_DIR are overwritten with the HDFS ones, so fetching again
# after more runs brings the longer results.csv.
#
# Usage: submit/fetch-results.sh HDFS_DIR [LOCAL_DIR]
#   HDFS_DIR    the --out folder of the runs, e.g. /results/sweep or hdfs://head:9000/results/sweep
#   LOCAL_DIR   where to put the files (default: results/ and HDFS_DIR's last name, e.g. results/sweep)
#
# Variables:
#   HADOOP_HOME   Hadoop installation whose bin/hdfs is used (default: hdfs on PATH)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  script_usage "${BASH_SOURCE[0]}"
  exit 0
fi
if [[ $# -lt 1 || $# -gt 2 || -z "$1" ]]; then
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
fi
source_dir="${1%/}"
if [[ "$source_dir" != /* && "$source_dir" != hdfs://* ]]; then
  echo "error: HDFS_DIR $1 must be an absolute HDFS path (/results/sweep) or an hdfs:// URI; a local --out folder is already here" >&2
  exit 2
fi
name="${source_dir##*/}"
local_dir="${2:-results/${name:-results}}"

require_hdfs
if ! "$HDFS" dfs -test -d "$source_dir"; then
  echo "error: no results folder at $source_dir in HDFS; give the --out folder of the runs (list them with: $HDFS dfs -ls /)" >&2
  exit 1
fi
mkdir -p "$local_dir"
"$HDFS" dfs -get -f "$source_dir/*" "$local_dir/"
runs=("$local_dir"/run-*.json)
rows=0
if [[ -f "$local_dir/results.csv" ]]; then
  rows=$(($(wc -l < "$local_dir/results.csv") - 1))
fi
if [[ -e "${runs[0]}" ]]; then
  echo "fetched ${#runs[@]} run(s), $rows results.csv row(s) into $local_dir"
else
  echo "fetched into $local_dir; it holds no run-*.json yet"
fi
