#!/usr/bin/env bash
# Puts the CIFAR-10 binary version into an HDFS folder, in a layout the job reads (--data): the six
# batch files data_batch_1..5.bin and test_batch.bin (plain or .gz, taken from SOURCE or from its
# cifar-10-batches-bin/ subfolder), or else the official archive cifar-10-binary.tar.gz. Checks the
# files here before anything goes to HDFS; files already in HDFS_DIR are overwritten.
#
# Usage: submit/hdfs-put-cifar.sh SOURCE HDFS_DIR
#   SOURCE     a local folder with the batch files or the archive, or the archive itself
#   HDFS_DIR   the HDFS folder, e.g. /cifar10 or hdfs://head:9000/cifar10 (created if absent)
#   e.g. submit/hdfs-put-cifar.sh ~/cifar-10-binary.tar.gz /cifar10
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
if [[ $# -ne 2 || -z "$1" || -z "$2" ]]; then
  script_usage "${BASH_SOURCE[0]}" >&2
  exit 2
fi
source_path="$1"
target="$2"
if [[ "$target" != /* && "$target" != hdfs://* ]]; then
  echo "error: HDFS_DIR $target must be an absolute HDFS path (/cifar10) or an hdfs:// URI (hdfs://head:9000/cifar10)" >&2
  exit 2
fi

# One record is a label byte and 32x32x3 pixel bytes; a plain batch holds whole records.
record=3073
archive="cifar-10-binary.tar.gz"
batches=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)

files=()
if [[ -f "$source_path" ]]; then
  if [[ "$source_path" != *.tar.gz && "$source_path" != *.tgz && "$source_path" != *.tar ]]; then
    echo "error: $source_path is a file but not the archive $archive; give the folder that holds the batch files, or the archive" >&2
    exit 1
  fi
  files=("$source_path")
elif [[ -d "$source_path" ]]; then
  missing=()
  for batch in "${batches[@]}"; do
    found=""
    for candidate in "$source_path/$batch" "$source_path/$batch.gz" \
        "$source_path/cifar-10-batches-bin/$batch" "$source_path/cifar-10-batches-bin/$batch.gz"; do
      if [[ -f "$candidate" ]]; then
        found="$candidate"
        break
      fi
    done
    if [[ -z "$found" ]]; then
      missing+=("$batch")
    else
      files+=("$found")
    fi
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ -f "$source_path/$archive" ]]; then
      files=("$source_path/$archive")
    else
      echo "error: $source_path lacks ${missing[*]} (plain or .gz, there or in cifar-10-batches-bin/) and holds no $archive;" \
        "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz into it" >&2
      exit 1
    fi
  fi
else
  echo "error: $source_path does not exist; give the folder with the CIFAR-10 batch files or the archive $archive" >&2
  exit 1
fi

for file in "${files[@]}"; do
  size="$(stat -c %s "$file")"
  if [[ "$size" -eq 0 ]]; then
    echo "error: $file is empty; download it again" >&2
    exit 1
  fi
  if [[ "$file" == *.bin && $((size % record)) -ne 0 ]]; then
    echo "error: $file has $size bytes, not a whole number of $record-byte records (truncated?); download it again" >&2
    exit 1
  fi
done

require_hdfs
"$HDFS" dfs -mkdir -p "$target"
"$HDFS" dfs -put -f "${files[@]}" "$target/"
"$HDFS" dfs -ls "$target"
if [[ "$target" == hdfs://* ]]; then
  uri="$target"
else
  uri="$("$HDFS" getconf -confKey fs.defaultFS)$target"
fi
echo "train with: --data $uri"
