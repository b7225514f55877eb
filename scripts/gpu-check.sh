#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with gpu-carry/ carried (docs/GPU.md):
# unpacks the carried Java runtime and jars, finds libcuda (driver) and cuBLASLt/NVRTC (the
# PyTorch wheels' nvidia/*/lib folders), then runs, each step logged even when an earlier one fails:
#   1. the binding tests against the real libraries,
#   2. the gpu-tagged tests (every kernel against its CPU twin; the fixture through the GPU),
#   3. glance ask --device cuda on the fixture (greedy ids must equal the reference's),
#   4. glance bench --device cuda (mid, then the GLM-4.6V-Flash shape).
# Results go to $OUT (the run tool's folder) or ./gpu-results; a summary ends the output.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$root/gpu-results}"
mkdir -p "$out"
work="${GLANCE_GPU_WORK:-/tmp/glance-gpu}"
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }

rm -rf "$work" && mkdir -p "$work"
archive="$root/gpu-carry/glance-gpu.tar.xz"
if ! tar -C "$work" -xJf "$archive" 2>/dev/null; then
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$work" \
    || { note "gpu-check: cannot unpack $archive"; exit 1; }
fi
g="$work/glance"
java="$g/jdk/bin/java"
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx24g)

# ---- where the CUDA libraries are -----------------------------------------------------------
{
  echo "## machine"; uname -a; nvidia-smi 2>&1 | head -20
  echo "## python site-packages"; python3 -c 'import site, sys; print(sys.version); print(site.getsitepackages())' 2>&1
} > "$out/env.txt"
libdirs="$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = list(site.getsitepackages())
try:
    roots.append(site.getusersitepackages())
except Exception:
    pass
dirs = []
for r in roots:
    for pattern in ("libcublasLt.so.1[23]", "libnvrtc.so.1[23]"):
        for f in sorted(glob.glob(os.path.join(r, "nvidia", "*", "lib", pattern))):
            d = os.path.dirname(f)
            if d not in dirs:
                dirs.append(d)
print(":".join(dirs))
PY
)"
if [ -z "$libdirs" ]; then
  libdirs="$(find / -xdev \( -name 'libcublasLt.so.1[23]' -o -name 'libnvrtc.so.1[23]' \) -not -path '/proc/*' 2>/dev/null \
    | xargs -r -n1 dirname | sort -u | paste -sd: -)"
fi
driver="$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}')"
if [ -z "$driver" ]; then
  driver="$(find /usr/lib /usr/lib64 /usr/local/nvidia /usr/lib/x86_64-linux-gnu -name 'libcuda.so.1' 2>/dev/null | head -1)"
fi
export GLANCE_CUDA_LIB_PATH="$libdirs${driver:+:$(dirname "$driver")}"
export LD_LIBRARY_PATH="$GLANCE_CUDA_LIB_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
note "gpu-check: libcuda: ${driver:-NOT FOUND}"
note "gpu-check: GLANCE_CUDA_LIB_PATH=$GLANCE_CUDA_LIB_PATH"
"$java" -version 2>&1 | head -1 | tee -a "$out/env.txt"

cp_tests="$g/test-classes:$(ls "$g"/lib/*.jar | paste -sd: -)"
junit() {
  local name="$1" limit="$2"; shift 2
  timeout "$limit" "$java" "${jvm[@]}" -Dglance.fixtures="$g/fixtures" -jar "$g/tools/junit-console.jar" execute \
    --class-path "$cp_tests" --details=tree --disable-banner --disable-ansi-colors \
    --reports-dir="$out/junit-$name" "$@" > "$out/$name.txt" 2>&1
  local rc=$?
  note "gpu-check: $name: exit $rc$([ $rc = 124 ] && echo " (timed out after $limit s)"); \
$(grep -E '(tests|containers) (successful|failed|skipped)' "$out/$name.txt" | tr -s ' []' | paste -sd, -)"
  grep -E '✘|Exception|relative error|greedy|GPU:' "$out/$name.txt" | grep -v Suppressed | head -60 >> "$summary"
}

# ---- 1. bindings against the real libraries ---------------------------------------------------
junit bindings 90 --select-class dev.glance.cuda.runtime.NvrtcCompileTest --select-class dev.glance.cuda.ffm.CublasLtBindingTest \
  --select-class dev.glance.cuda.runtime.CudaAvailabilityTest --select-class dev.glance.cuda.ffm.BindingLayoutTest \
  --select-class dev.glance.cuda.ffm.LibraryLocatorTest

# ---- 2. gpu-tagged tests --------------------------------------------------------------------
junit gpu-tests 180 --select-package dev.glance.cuda --include-tag gpu

# ---- 3. glance ask on the GPU ---------------------------------------------------------------
cli=("$java" "${jvm[@]}" -cp "$g/lib/*" dev.glance.cli.Main)
fx="$g/fixtures/glm4v-tiny-a"
timeout 60 "${cli[@]}" ask --device cuda --model "$fx" --image "$fx/case0_0.png" --temperature 0 --ignore-eos \
  --max-tokens 12 --json "What is in this picture?" > "$out/ask.json" 2> "$out/ask.err"
note "gpu-check: ask --device cuda: exit $? $(grep -v incubator "$out/ask.err" | head -c 400)"
python3 - "$out/ask.json" "$fx/expected.safetensors" <<'PY' 2>&1 | tee -a "$summary"
import json, struct, sys
try:
    got = json.load(open(sys.argv[1]))["token_ids"]
except Exception as e:
    print("gpu-check: ask gave no JSON:", e); sys.exit(0)
f = open(sys.argv[2], "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n))["case0.greedy_ids"]
f.seek(8 + n + h["data_offsets"][0]); want = list(struct.unpack("<12q", f.read(96)))
print("gpu-check: ask greedy ids", "EQUAL to the reference" if got == want else f"DIFFER: {got} vs {want}")
PY

# ---- 4. benchmarks --------------------------------------------------------------------------
for shape in mid glm46v-flash; do
  limit=$([ "$shape" = mid ] && echo 90 || echo 170)
  timeout "$limit" "${cli[@]}" bench --device cuda --shape "$shape" --work-dir "/tmp/glance-bench-$shape" --json \
    > "$out/bench-$shape.json" 2> "$out/bench-$shape.log"
  note "gpu-check: bench $shape: exit $? $(cat "$out/bench-$shape.json")"
  grep -v incubator "$out/bench-$shape.log" | tail -8 >> "$summary"
  rm -rf "/tmp/glance-bench-$shape"
done
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm,clocks.mem --format=csv >> "$summary" 2>&1

echo "===== summary ====="
cat "$summary"
