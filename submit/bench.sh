#!/usr/bin/env bash
# Throughput of the project's network side by side with the PyTorch peer (torchvision
# squeezenet1_1), on the same machine, in one run, at the same batch and thread count.
#
# Usage: submit/bench.sh [--batch N] [--threads N] [--iters N] [--warmup N] [--spark-images N] [--spark-epochs N]
#                        [--sweep-images N] [--sweep-partitions P,P,...]
#   defaults: --batch 64 --threads 2 --iters 600 --warmup 500 --spark-images 8192 --spark-epochs 5
#   --sweep-images 3072 --sweep-partitions 1,2,4,8,16,24,32,48 (0 images skips the sweep part)
#   (both sides get the same warm-up and timed steps; the JVM compiles its hot paths over about 300:
#   2,030 images/s after 150, 3,176 after 300, 3,446 after 600; 600 timed steps span several of the
#   collector's cycles, where 200 gave 2,723-3,379 images/s between runs of one build; whole epochs,
#   plain and through Spark, are timed after five warm-up epochs, over which it compiles Spark's
#   and DL4J's path: through Spark, the fourth epoch still took 2.6-3.5 s against 2.2-2.8 s after)
# The project's side runs in two JVMs, one after the other: the training loop and inference; and
# the four Spark runs, the first of which (gradient sharing at P=1) takes turns with plain epochs of
# the same images in a third JVM it starts, one after each of its epochs, so that both are measured
# on the machine as it is at that minute. Prints each one's figures, the peer's, and last one JSON line with
# train_img_per_s, peer_train_img_per_s, ratio (project/peer), plain_epoch_img_per_s,
# spark_vs_plain (the epochs through Spark against the plain ones: their summed times),
# sweep_img_per_s and sweep_vs_plain (per training master and P, the study's embedded runs at batch 32
# per replica, each against the plain epochs of the same recipe just before and after it), sweep_plain_img_per_s,
# spark_vs_plain_by_epoch (the same, pair by pair), spark_vs_plain_steps (the epochs through Spark
# against train_img_per_s) and peak_rss_mb (the largest of the three processes).
#
# Variables:
#   PEER_BENCH   the peer script (default: ../shared/peers/torch_squeezenet_bench.py beside the repository)
#   PYTHON       Python with torch and torchvision (default: /usr/bin/python3; Debian: apt-get install
#                python3-torch python3-torchvision)
#   JAVA_OPTS    JVM options of the project's side (default: -Xmx2g)
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

batch=64 threads=2 iters=600 warmup=500 spark_images=8192 spark_epochs=5 sweep_images=3072
sweep_partitions=1,2,4,8,16,24,32,48
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 && "$2" =~ ^[0-9]+(,[0-9]+)*$ ]] || usage
  [[ "$1" == --sweep-partitions || "$2" =~ ^[0-9]+$ ]] || usage
  case "$1" in
    --batch) batch="$2" ;;
    --threads) threads="$2" ;;
    --iters) iters="$2" ;;
    --warmup) warmup="$2" ;;
    --spark-images) spark_images="$2" ;;
    --spark-epochs) spark_epochs="$2" ;;
    --sweep-images) sweep_images="$2" ;;
    --sweep-partitions) sweep_partitions="$2" ;;
    *) usage ;;
  esac
  shift 2
done
require_jar

PEER_BENCH="${PEER_BENCH:-$SQZ_ROOT/../shared/peers/torch_squeezenet_bench.py}"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [[ ! -f "$PEER_BENCH" ]]; then
  echo "error: peer benchmark not found at $PEER_BENCH; set PEER_BENCH to torch_squeezenet_bench.py" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import torch, torchvision' 2>/dev/null; then
  echo "error: $PYTHON lacks torch/torchvision; install them (Debian: apt-get install python3-torch python3-torchvision)" >&2
  exit 1
fi

read -r -a extra_opts <<< "${JAVA_OPTS:--Xmx2g}"
project_cmd=(env "OMP_NUM_THREADS=$threads" "$JAVA" "${JVM_FLAGS[@]}" "${extra_opts[@]}" -jar "$JOB_JAR" bench
  --batch "$batch" --iters "$iters" --warmup "$warmup" --spark-images "$spark_images" --spark-epochs "$spark_epochs"
  --sweep-images "$sweep_images" --sweep-partitions "$sweep_partitions")
peer_cmd=("$PYTHON" "$PEER_BENCH" --batch "$batch" --threads "$threads" --iters "$iters" --warmup "$warmup")

# each part in a JVM of its own: none starts from the heap, compiled code or native caches another left
parts=(steps)
if ((spark_images > 0)); then
  parts+=(spark)
fi
if ((sweep_images > 0)); then
  parts+=(sweep)
fi
project=()
for part in "${parts[@]}"; do
  line="$("${project_cmd[@]}" --part "$part" | tail -n 1)"
  echo "project ($part): $line"
  project+=("$line")
done
peer="$("${peer_cmd[@]}" | tail -n 1)"
echo "peer:    $peer"

"$PYTHON" - "$peer" "${project[@]}" <<'PY'
import json, sys
peer, parts = json.loads(sys.argv[1]), [json.loads(a) for a in sys.argv[2:]]
out = {}
for p in parts:
    out.update({k: v for k, v in p.items() if k != "peak_rss_mb"})
# the largest of the processes: each part ran in one
out["peak_rss_mb"] = max(p["peak_rss_mb"] for p in parts)
out["peer"] = peer.get("peer")
out["peer_torch"] = peer.get("torch")
out["peer_train_img_per_s"] = peer["train_img_per_s"]
out["peer_infer_img_per_s"] = peer["infer_img_per_s"]
out["ratio"] = round(out["train_img_per_s"] / peer["train_img_per_s"], 3)
out["infer_ratio"] = round(out["infer_img_per_s"] / peer["infer_img_per_s"], 3)
shared = out.get("spark_shared_p1_img_per_s")
out.setdefault("spark_vs_plain", None)
out["spark_vs_plain_steps"] = round(shared / out["train_img_per_s"], 3) if shared else None
print(json.dumps(out))
PY
