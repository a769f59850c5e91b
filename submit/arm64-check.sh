#!/usr/bin/env bash
# Proves the linux-arm64 build on an x86-64 Debian machine: runs the linux-arm64 job jar with
# Debian's arm64 OpenJDK 17 under qemu-aarch64 user emulation (on an aarch64 host: natively, with
# the host's java), checks that the JVM is an aarch64 one and that ND4J loaded its linux-arm64
# native library, and trains a few steps at P=2 on small synthetic data (loss must go down); then
# predict classifies a few test records with the trained model and times it.
#
# Usage: submit/arm64-check.sh       (as root on a Debian machine if packages are missing; no options)
#   Builds the jar from a copy of the sources if absent (the x86-64 build outputs stay untouched;
#   delete the jar to rebuild it), installs what is missing (x86-64: qemu-user-static and the arm64
#   cross C/C++ runtime libraries from Debian; openjdk-17-jre-headless:arm64 and zlib1g:arm64 are
#   downloaded and unpacked with dpkg -x, so the machine's own Java is untouched), keeps the data,
#   log and results in a new folder under $TMPDIR, and prints one JSON summary line last.
#
# Variables:
#   ARM64_JAR       the linux-arm64 job jar (default: job/target/squeezenet-spark-job-linux-arm64.jar)
#   ARM64_JRE_DIR   where the arm64 OpenJDK 17 is unpacked and kept (default: ~/.cache/sqzspark/openjdk-17-arm64)
#   QEMU_LD_PREFIX  arm64 root of the C runtime libraries for qemu (default: /usr/aarch64-linux-gnu)
#   RUN_TIMEOUT     seconds the training run (and predict) may take before it is killed (default: 420)
#   MVN             Maven command (default: mvn)
#   JAVA            java on an aarch64 host (default: $JAVA_HOME/bin/java or java)
#   JAVA_OPTS       extra JVM options, e.g. -Xmx4g
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -gt 0 ]]; then
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

platform=linux-arm64
jar_name="squeezenet-spark-job-$platform"
ARM64_JAR="${ARM64_JAR:-$SQZ_ROOT/job/target/$jar_name.jar}"
ARM64_JRE_DIR="${ARM64_JRE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sqzspark/openjdk-17-arm64}"
QEMU_LD_PREFIX="${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}"
RUN_TIMEOUT="${RUN_TIMEOUT:-420}"
MVN="${MVN:-mvn}"
PYTHON=/usr/bin/python3
jre_java="usr/lib/jvm/java-17-openjdk-arm64/bin/java"
if [[ ! "$RUN_TIMEOUT" =~ ^[1-9][0-9]*$ ]]; then
  echo "arm64-check: error: RUN_TIMEOUT=$RUN_TIMEOUT is not a positive number of seconds" >&2
  exit 2
fi

# The training run: small enough for about 7 images/s under emulation, long enough for the loss to
# move. Five colour classes with pixel noise (as the tests' SyntheticCifar), batch 8 per replica,
# 4 steps per epoch. Parameter averaging, not gradient sharing: under emulation the short run's
# updates stayed below the sharing threshold and the loss did not move. DL4J's Spark path (as on a
# cluster of Pis), not the replicas in the driver, and Adam, whose few steps move the loss.
train_images=64 test_images=32 epochs=3 batch=8 partitions=2 lr=1e-3
train_args=(train --master "local[$partitions]" --partitions "$partitions" --training-master averaging
  --embedded spark --optimizer adam --l2 0
  --batch "$batch" --epochs "$epochs" --lr "$lr" --loss-sample "$train_images" --eval-batch "$test_images")

started=$SECONDS
step() { echo "arm64-check: $* ($((SECONDS - started)) s)"; }
fail() {
  echo "arm64-check: error: $*" >&2
  exit 1
}
# Runs a command with its output in a log; on failure shows the log's end and stops.
logged() {
  local what="$1" log="$2"
  shift 2
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    tail -n 40 "$log" >&2
    fail "$what failed (exit $rc); full output in $log"
  fi
}

work="$(mktemp -d "${TMPDIR:-/tmp}/sqzspark-arm64-check.XXXXXX")"
job_pid="" added_arch=false build_dir=""
# Stops the training run: TERM lets Spark shut down, KILL if it has not ended within 30 s.
stop_job() {
  local i
  kill "$job_pid" 2>/dev/null || return 0
  for ((i = 0; i < 30; i++)); do
    kill -0 "$job_pid" 2>/dev/null || break
    sleep 1
  done
  kill -KILL "$job_pid" 2>/dev/null || true
  wait "$job_pid" 2>/dev/null || true
}
cleanup() {
  if [[ -n "$job_pid" ]]; then
    stop_job
  fi
  if [[ "$added_arch" == true ]]; then
    dpkg --remove-architecture arm64 || echo "arm64-check: warning: could not remove dpkg architecture arm64" >&2
  fi
  rm -rf "$work/javacpp-cache" "$work/debs"
  if [[ -n "$build_dir" ]]; then
    rm -rf "$build_dir"
  fi
}
trap cleanup EXIT

case "$(uname -m)" in
  x86_64) mode="qemu-aarch64" ;;
  aarch64) mode=native ;;
  *) fail "host architecture $(uname -m) is neither x86-64 (the jar runs under qemu-aarch64) nor aarch64 (it runs natively)" ;;
esac
if [[ "$mode" == native ]]; then
  step "host aarch64: the $platform jar runs natively, with the host's java"
else
  step "host x86_64: the $platform jar runs under qemu-aarch64 with Debian's arm64 OpenJDK 17"
fi

# --- packages from Debian, only those missing -----------------------------------------------------
command -v dpkg-query >/dev/null 2>&1 || fail "this check installs and unpacks Debian packages; run it on Debian (or Raspberry Pi OS)"
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }
apt_updated=false
# A failed index (a mirror in sync, say) is reported but not fatal: a package that then cannot be
# found stops the check at the install or download that needs it.
apt_update() {
  if [[ "$apt_updated" == false ]]; then
    if ! apt-get update >"$work/apt-update.log" 2>&1; then
      grep '^[EW]:' "$work/apt-update.log" >&2 || true
      echo "arm64-check: warning: apt-get update reported errors (above; full output in $work/apt-update.log)" >&2
    fi
    apt_updated=true
  fi
}
if [[ "$mode" == qemu-aarch64 ]]; then
  wanted=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libgomp1-arm64-cross)
else
  wanted=(libgomp1)
fi
[[ -x "$PYTHON" ]] || wanted+=(python3)
missing=()
for p in "${wanted[@]}"; do
  installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $EUID -eq 0 ]] || fail "missing Debian packages ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
  step "installing ${missing[*]}"
  apt_update
  logged "apt-get install ${missing[*]}" "$work/apt-install.log" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
if [[ "$mode" == qemu-aarch64 ]]; then
  qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
  [[ -n "$qemu" ]] || fail "qemu-aarch64-static not found on PATH although qemu-user-static is installed"
  [[ -f "$QEMU_LD_PREFIX/lib/ld-linux-aarch64.so.1" ]] \
    || fail "no arm64 dynamic loader at $QEMU_LD_PREFIX/lib/ld-linux-aarch64.so.1; install libc6-arm64-cross or set QEMU_LD_PREFIX"
fi

# --- the linux-arm64 jar ----------------------------------------------------------------------------
if [[ ! -f "$ARM64_JAR" ]]; then
  # Built from a copy: building in place would rewrite the x86-64 build's classes and module jars.
  build_dir="$work/build"
  step "building $ARM64_JAR from a copy of the sources in $build_dir"
  mkdir -p "$build_dir"
  (cd "$SQZ_ROOT" && tar --exclude=target -cf - pom.xml model data-prep job spark-conf) | tar -xf - -C "$build_dir" \
    || fail "copying the sources from $SQZ_ROOT to $build_dir failed"
  logged "the $platform build (mvn package -Djavacpp.platform=$platform)" "$work/build.log" \
    "$MVN" -B -q -f "$build_dir/pom.xml" package -DskipTests -pl job -am \
    "-Djavacpp.platform=$platform" "-Djob.jar.name=$jar_name"
  mkdir -p "$(dirname "$ARM64_JAR")"
  mv "$build_dir/job/target/$jar_name.jar" "$ARM64_JAR"
  rm -rf "$build_dir"
  build_dir=""
fi
step "jar $ARM64_JAR ($(($(stat -c %s "$ARM64_JAR") / 1000000)) MB)"

# The jar's build platform, and no JavaCPP or ND4J native library of another platform in it.
"$PYTHON" - "$ARM64_JAR" "$platform" <<'PY' || fail "$ARM64_JAR is not a $platform build (see above); delete it to rebuild"
import re, sys, zipfile
jar, platform = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    names = z.namelist()
    props = dict(l.split("=", 1) for l in z.read("sqzspark-build.properties").decode().splitlines() if "=" in l)
classifier = props.get("nd4j.classifier")
natives = [n for n in names if n.startswith(("org/bytedeco/", "org/nd4j/")) and re.search(r"\.(so|dylib|dll)(\.\d+)*$", n)]
foreign = [n for n in natives if f"/{platform}/" not in n]
nd4j = [n for n in natives if n.endswith(f"/{platform}/libnd4jcpu.so")]
problems = []
if classifier != platform:
    problems.append(f"built for nd4j.classifier={classifier}, expected {platform}")
if foreign:
    problems.append(f"{len(foreign)} JavaCPP/ND4J native libraries of other platforms, e.g. {foreign[:3]}")
if not nd4j:
    problems.append(f"no {platform}/libnd4jcpu.so")
for p in problems:
    print(f"arm64-check: error: {jar}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# --- the JVM ------------------------------------------------------------------------------------------
if [[ "$mode" == qemu-aarch64 ]]; then
  if [[ ! -x "$ARM64_JRE_DIR/$jre_java" ]]; then
    [[ $EUID -eq 0 ]] || fail "no arm64 JRE at $ARM64_JRE_DIR; run once as root to download it (it needs dpkg --add-architecture arm64)"
    step "downloading openjdk-17-jre-headless:arm64 and zlib1g:arm64 into $ARM64_JRE_DIR"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
      added_arch=true
      apt_updated=false
    fi
    apt_update
    mkdir -p "$work/debs"
    cd "$work/debs"
    logged "apt-get download openjdk-17-jre-headless:arm64 zlib1g:arm64" "$work/apt-download.log" \
      apt-get download -o APT::Sandbox::User=root openjdk-17-jre-headless:arm64 zlib1g:arm64
    cd - >/dev/null
    rm -rf "$ARM64_JRE_DIR.partial"
    mkdir -p "$ARM64_JRE_DIR.partial"
    for deb in "$work/debs"/*.deb; do
      dpkg -x "$deb" "$ARM64_JRE_DIR.partial" || fail "unpacking $deb into $ARM64_JRE_DIR.partial failed"
    done
    # The package links its configuration to /etc/java-17-openjdk; point the links at the unpacked
    # copy, so the arm64 JVM reads its own files and not the host JDK's.
    while IFS= read -r -d '' link; do
      target="$(readlink "$link")"
      if [[ -e "$ARM64_JRE_DIR.partial$target" ]]; then
        ln -sfn "$ARM64_JRE_DIR$target" "$link"
      fi
    done < <(find "$ARM64_JRE_DIR.partial" -type l -lname '/*' -print0)
    rm -rf "$ARM64_JRE_DIR"
    mv "$ARM64_JRE_DIR.partial" "$ARM64_JRE_DIR"
    if [[ "$added_arch" == true ]]; then
      dpkg --remove-architecture arm64
      added_arch=false
    fi
  fi
  # FORK: the default posix_spawn goes through the arm64 jspawnhelper, which the host kernel cannot
  # exec unless binfmt_misc hands it to qemu; with fork the child execs the host's commands directly
  java_cmd=(env "QEMU_LD_PREFIX=$QEMU_LD_PREFIX"
    "LD_LIBRARY_PATH=$ARM64_JRE_DIR/usr/lib/aarch64-linux-gnu:$ARM64_JRE_DIR/lib/aarch64-linux-gnu"
    "$qemu" "$ARM64_JRE_DIR/$jre_java" -Djdk.lang.Process.launchMechanism=FORK)
else
  command -v "$JAVA" >/dev/null 2>&1 || fail "java not found ($JAVA); install openjdk-17-jre-headless or set JAVA"
  java_cmd=("$JAVA")
fi

os_arch="$("${java_cmd[@]}" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *os\.arch = //p')" \
  || fail "the JVM did not start: ${java_cmd[*]} -version"
[[ "$os_arch" == aarch64 ]] || fail "the JVM reports os.arch '$os_arch', expected aarch64 (${java_cmd[*]})"
java_version="$("${java_cmd[@]}" -version 2>&1 | head -n 1)"
step "JVM: $java_version, os.arch $os_arch"

# --- the training run ---------------------------------------------------------------------------------
data="$work/cifar" out="$work/results" cache="$work/javacpp-cache" log="$work/train.log"
"$PYTHON" - "$data" "$train_images" "$test_images" <<'PY' || fail "writing synthetic CIFAR-10 files into $data failed"
# CIFAR-10 binary layout: 3,073-byte records, a label byte then 32x32 R, G and B planes.
import os, random, sys
out, train, test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
palette = [(230, 30, 30), (30, 230, 30), (30, 30, 230), (230, 230, 30), (230, 30, 230)]
rng = random.Random(42)
def records(first, n):
    buf = bytearray()
    for i in range(first, first + n):
        label = i % len(palette)
        buf.append(label)
        for level in palette[label]:
            buf += bytes(max(0, min(255, level + rng.randint(-12, 12))) for _ in range(1024))
    return bytes(buf)
os.makedirs(out)
names = [f"data_batch_{k}.bin" for k in range(1, 6)]
per_file, done = -(-train // len(names)), 0
for name in names:
    n = min(per_file, train - done)
    with open(os.path.join(out, name), "wb") as f:
        f.write(records(done, n))
    done += n
with open(os.path.join(out, "test_batch.bin"), "wb") as f:
    f.write(records(0, test))
PY

read -r -a extra_opts <<< "${JAVA_OPTS:-}"
run_cmd=("${java_cmd[@]}" "${JVM_FLAGS[@]}" "${extra_opts[@]}" "-Dorg.bytedeco.javacpp.cachedir=$cache"
  -jar "$ARM64_JAR" "${train_args[@]}" --data "$data" --out "$out")
step "training: P=$partitions, $train_images images, $epochs epochs, batch $batch (log: $log)"
# qemu-user can deadlock when two threads of the emulated JVM fork at once: Hadoop's chmod of a
# result file and Spark's heartbeat thread asking getconf for the page size were seen stuck in
# ProcessImpl.forkAndExec together, the child never reaching exec, in two runs in a row. Results
# are written without a process (ResultStore), which leaves the JVM's few other forks at start
# and at exit. A run that times out gets a thread dump in its log, and the stacks of its training
# threads are printed; the first such run is run once more from scratch, whatever it hung in: a run
# that finishes here takes 2-3.5 minutes, and one in a CI run hung past its 7 with no thread in
# forkAndExec, where the same build passed in 125 s on the same kind of machine.
for attempt in 1 2; do
  rm -rf "$out"
  run_started=$SECONDS
  "${run_cmd[@]}" >"$log" 2>&1 &
  job_pid=$!
  run_pid=$job_pid
  # ND4J's native library as the running process mapped it: the proof that this JVM loaded it.
  mapped=""
  timed_out=false
  while kill -0 "$job_pid" 2>/dev/null; do
    if [[ -z "$mapped" ]]; then
      mapped="$(grep -o '/[^ ]*/libnd4jcpu\.so$' "/proc/$job_pid/maps" 2>/dev/null | head -n 1 || true)"
      [[ -z "$mapped" ]] || step "ND4J's native library mapped: $mapped"
    fi
    if ((SECONDS - run_started > RUN_TIMEOUT)); then
      timed_out=true
      kill -QUIT "$job_pid" 2>/dev/null || true
      sleep 5
      stop_job
      job_pid=""
      break
    fi
    sleep 1
  done
  if [[ "$timed_out" == false ]]; then
    break
  fi
  forking="$(grep -c 'java.lang.ProcessImpl.forkAndExec' "$log" || true)"
  # the stacks of the threads that train and of main, from the dump, as the clue to where it hung
  awk '/^"(main|Executor task launch worker[^"]*|ParallelWrapper[^"]*)"/ { show = 1; n = 0 }
       /^$/ { show = 0 } show && n++ < 14' "$log" >&2 || true
  if [[ $attempt -eq 1 ]]; then
    cp "$log" "$log.attempt1"
    step "the run hung past $RUN_TIMEOUT s ($forking threads in forkAndExec; dump in $log.attempt1); running it again"
    continue
  fi
  tail -n 40 "$log" >&2
  fail "the training run took more than $RUN_TIMEOUT s and was killed; full log (with a thread dump) in $log"
done
rc=0
wait "$job_pid" || rc=$?
job_pid=""
run_seconds=$((SECONDS - run_started))
if [[ $rc -ne 0 ]]; then
  tail -n 40 "$log" >&2
  fail "the training run failed (exit $rc) after $run_seconds s; full log in $log"
fi
grep ' INFO Trainer: ' "$log" || true
[[ -n "$mapped" ]] || fail "the run never mapped libnd4jcpu.so (looked in /proc/$run_pid/maps every second); log in $log"

# --- predict with the trained model -------------------------------------------------------------------
# The edge's use of the model: its top classes for a few test records, then its latency (batch 1) and
# throughput (batch 32), timed briefly: emulation is slow and the figures are not the Pi's.
predict_images=8 predict_runs=3
predict_log="$work/predict.log"
models=("$out"/run-*.model.zip)
[[ -f "${models[0]}" ]] || fail "the training run wrote no run-*.model.zip into $out"
step "predict: the trained model on $predict_images test records, timed over $predict_runs runs (log: $predict_log)"
logged "predict" "$predict_log" timeout "$RUN_TIMEOUT" "${java_cmd[@]}" "${JVM_FLAGS[@]}" "${extra_opts[@]}" \
  "-Dorg.bytedeco.javacpp.cachedir=$cache" -jar "$ARM64_JAR" predict --model "${models[0]}" "$data/test_batch.bin" \
  --limit "$predict_images" --runs "$predict_runs" --warmup 1
top_lines="$(grep -cE '^.+#[0-9]+ \(label [a-z]+\): [a-z]+ [0-9.]+%, [a-z]+ [0-9.]+%, [a-z]+ [0-9.]+%$' "$predict_log" || true)"
[[ "$top_lines" -eq "$predict_images" ]] \
  || fail "predict printed the top classes of $top_lines images, expected $predict_images; output in $predict_log"
latency_ms="$(sed -n 's/^Latency at batch 1: \([0-9.]*\) ms per image.*/\1/p' "$predict_log")"
predict_img_per_s="$(sed -n 's/^Throughput at batch 32: \([0-9.]*\) images\/s.*/\1/p' "$predict_log")"
[[ -n "$latency_ms" && -n "$predict_img_per_s" ]] \
  || fail "predict printed no latency or no throughput line; output in $predict_log"
step "predict: top 3 classes of $top_lines images, $latency_ms ms per image at batch 1, $predict_img_per_s images/s at batch 32"

step "data, log and results kept in $work"

# --- the result ---------------------------------------------------------------------------------------
"$PYTHON" - "$out" "$platform" "$epochs" "$mapped" "$cache" "$mode" "$run_seconds" "$((SECONDS - started))" \
  "$latency_ms" "$predict_img_per_s" <<'PY' \
  || fail "the result in $out does not show an arm64 run that learned (see above); log in $log"
import csv, glob, json, math, os, sys
out, platform, epochs, mapped, cache, mode = sys.argv[1:7]
epochs, run_seconds, seconds = int(epochs), int(sys.argv[7]), int(sys.argv[8])
predict_latency_ms, predict_img_per_s = float(sys.argv[9]), float(sys.argv[10])
problems = []
runs = glob.glob(os.path.join(out, "run-*.json"))
if len(runs) != 1:
    sys.exit(f"arm64-check: error: expected one run-*.json in {out}, found {len(runs)}")
with open(runs[0]) as f:
    r = json.load(f)
env = r["environment"]
if env.get("osArch") != "aarch64":
    problems.append(f"environment.osArch is {env.get('osArch')!r}, expected 'aarch64'")
if env.get("nd4jPlatform") != platform:
    problems.append(f"environment.nd4jPlatform is {env.get('nd4jPlatform')!r}, expected {platform!r}")
if env.get("nd4jBackend") != "CpuBackend":
    problems.append(f"environment.nd4jBackend is {env.get('nd4jBackend')!r}, expected 'CpuBackend'")
if not r.get("completed"):
    problems.append("completed is not true")
if not mapped.startswith(cache + "/") or f"/{platform}/" not in mapped:
    problems.append(f"the mapped libnd4jcpu.so {mapped} is not the {platform} one extracted into {cache}")
else:
    with open(mapped, "rb") as f:
        head = f.read(20)
    # ELF header: magic, then e_machine (little-endian) at offset 18; 183 is EM_AARCH64
    if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != 183:
        problems.append(f"{mapped} is not an AArch64 ELF library")
losses = [e["trainLoss"] for e in r["epochs"]]
if len(losses) != epochs or not all(math.isfinite(x) for x in losses):
    problems.append(f"expected {epochs} finite training losses, got {losses}")
elif not losses[-1] < losses[0]:
    problems.append(f"training loss did not go down: {losses}")
with open(os.path.join(out, "results.csv")) as f:
    rows = list(csv.DictReader(f))
if len(rows) != epochs or any(row["os_arch"] != "aarch64" or row["nd4j_platform"] != platform for row in rows):
    problems.append(f"results.csv: expected {epochs} rows with os_arch aarch64 and nd4j_platform {platform}")
for p in problems:
    print(f"arm64-check: error: {runs[0]}: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
last = r["epochs"][-1]
print(json.dumps({
    "check": "arm64", "mode": mode, "os_arch": env["osArch"], "java_version": env["javaVersion"],
    "nd4j_backend": env["nd4jBackend"], "nd4j_platform": env["nd4jPlatform"],
    "native_library": os.path.relpath(mapped, cache), "partitions": r["layout"]["partitions"],
    "train_images": r["trainImages"], "epochs": epochs, "first_loss": round(losses[0], 4),
    "last_loss": round(losses[-1], 4), "test_accuracy": last["testAccuracy"],
    "images_per_s": round(last["imagesPerSecond"], 1), "predict_latency_ms": predict_latency_ms,
    "predict_img_per_s": predict_img_per_s, "run_seconds": run_seconds, "seconds": seconds,
}))
PY
