#!/usr/bin/env bash
# Glance against llama.cpp on this machine, in one run per weight format.
#
# Builds llama.cpp's llama-bench and llama-quantize (CPU only, -march=native) from the llama.cpp
# source that the npm package node-llama-cpp ships as a git bundle (npm is reachable where GitHub
# is not), writes random-weight GGUF files of a `glance bench` shape (bench/gguf_random.py, then
# `llama-quantize --pure` so every matrix is in the named format, as in Glance), and runs
# `glance bench --llama-bench ... --llama-gguf ...` for each format: Glance's timings first, then
# llama-bench on the same shape with the same threads, and the ratios in the JSON's vs_llama_cpp.
#
#   bash bench/llamacpp.sh                      # mid shape: bf16 (vs F16), q8_0, q4_0
#   SHAPE=glm46v-flash FORMATS=q4_0 bash bench/llamacpp.sh
#
# Environment: SHAPE (mid), FORMATS ("bf16 q8_0 q4_0"), WORK (/tmp/glance-llamacpp: the build and
# the GGUF files, reused by later runs), OUT_DIR ($WORK/results), DECODE_TOKENS (32), THREADS (all).
# Needs cmake, g++, npm, git, python3 with numpy. Takes ~15 minutes the first time on 2 cores.
set -euo pipefail
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHAPE=${SHAPE:-mid}
FORMATS=${FORMATS:-bf16 q8_0 q4_0}
WORK=${WORK:-/tmp/glance-llamacpp}
OUT_DIR=${OUT_DIR:-$WORK/results}
DECODE_TOKENS=${DECODE_TOKENS:-32}
NODE_LLAMA_CPP=3.22.1   # its llama/gitRelease.bundle is the llama.cpp source it was built from
THREAD_FLAG=()
[[ -n "${THREADS:-}" ]] && THREAD_FLAG=(--threads "$THREADS")

for tool in cmake g++ npm git python3; do
  command -v "$tool" >/dev/null || { echo "llamacpp.sh: $tool is not installed" >&2; exit 2; }
done
python3 -c 'import numpy' 2>/dev/null || { echo "llamacpp.sh: python3 has no numpy (apt install python3-numpy)" >&2; exit 2; }
mkdir -p "$WORK" "$OUT_DIR"
LLAMA="$WORK/llama.cpp"
# build DIR [CMAKE FLAGS...]: llama-bench and llama-quantize, CPU only, -march=native.
build() {
  local dir=$1; shift
  cmake -S "$LLAMA" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF "$@" > "$WORK/cmake.log" 2>&1
  cmake --build "$dir" -j "$(nproc)" --target llama-bench llama-quantize > "$WORK/build.log" 2>&1 \
    || { echo "llamacpp.sh: the llama.cpp build failed, see $WORK/build.log" >&2; exit 1; }
}
BIN="$LLAMA/build/bin"
# A build without AMX exists only where the native one died on AMX instructions (see below).
[[ -x "$LLAMA/build-noamx/bin/llama-bench" ]] && BIN="$LLAMA/build-noamx/bin"
if [[ ! -x "$BIN/llama-bench" || ! -x "$BIN/llama-quantize" ]]; then
  echo "llamacpp.sh: building llama.cpp from node-llama-cpp@$NODE_LLAMA_CPP's source bundle" >&2
  (cd "$WORK" && rm -rf package node-llama-cpp-*.tgz && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP" >/dev/null \
    && tar xzf "node-llama-cpp-$NODE_LLAMA_CPP.tgz" package/llama/gitRelease.bundle)
  rm -rf "$LLAMA"
  git clone -q "$WORK/package/llama/gitRelease.bundle" "$LLAMA" 2>/dev/null
  build "$LLAMA/build"
fi
echo "llamacpp.sh: llama.cpp $(git -C "$LLAMA" log -1 --format=%h) at $BIN" >&2

gguf() { echo "$WORK/$SHAPE-$1.gguf"; }
F16=$(gguf f16)
need_f16=0
for f in $FORMATS; do
  case $f in
    bf16) [[ -f "$F16" ]] || need_f16=1 ;;
    q8_0|q4_0) [[ -f "$(gguf "$f")" ]] || need_f16=1 ;;
    *) echo "llamacpp.sh: FORMATS: '$f' is not bf16, q8_0 or q4_0" >&2; exit 2 ;;
  esac
done
if [[ $need_f16 == 1 && ! -f "$F16" ]]; then
  echo "llamacpp.sh: writing $F16" >&2
  PYTHONPATH="$LLAMA/gguf-py" python3 "$ROOT/bench/gguf_random.py" --shape "$SHAPE" --out "$F16.part"
  mv "$F16.part" "$F16"
fi
for f in $FORMATS; do
  if [[ $f != bf16 && ! -f "$(gguf "$f")" ]]; then
    echo "llamacpp.sh: quantising to $f" >&2
    "$BIN/llama-quantize" --pure "$F16" "$(gguf "$f").part" "${f^^}" > "$WORK/quantize-$f.log" 2>&1
    mv "$(gguf "$f").part" "$(gguf "$f")"
  fi
done

# On an Intel KVM guest whose CPU flags list AMX (Xeon family 6 model 207), the native build's
# AMX kernels died on their first tile load (SIGILL, exit 132) with Q8_0 and Q4_0 although a
# plain AMX test program ran there; F16 does not use them. Glance cannot use AMX either (the
# Vector API has no tile instructions), so such a machine gets a build without AMX, and says so.
for f in $FORMATS; do
  [[ $f == bf16 ]] && continue
  status=0
  "$BIN/llama-bench" -m "$(gguf "$f")" -t 1 -p 8 -n 0 -r 1 -o json > /dev/null 2>&1 || status=$?
  if [[ $status == 132 && $BIN == "$LLAMA/build/bin" ]]; then
    echo "llamacpp.sh: llama-bench died on an illegal instruction with $f (AMX, see the script); building llama.cpp without AMX" >&2
    build "$LLAMA/build-noamx" -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" \
      -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    BIN="$LLAMA/build-noamx/bin"
  fi
  break
done
[[ $BIN == "$LLAMA/build-noamx/bin" ]] && echo "llamacpp.sh: llama.cpp built without AMX (the AMX build crashed here)" >&2
for f in $FORMATS; do
  file=$(gguf "$f")
  [[ $f == bf16 ]] && file=$F16
  echo "llamacpp.sh: glance bench --shape $SHAPE --weights $f, then llama-bench on $(basename "$file")" >&2
  "$ROOT/glance" bench --shape "$SHAPE" --weights "$f" --no-vision --decode-tokens "$DECODE_TOKENS" \
    "${THREAD_FLAG[@]}" --llama-bench "$BIN/llama-bench" --llama-gguf "$file" --json > "$OUT_DIR/$SHAPE-$f.json"
done

python3 - "$OUT_DIR" "$SHAPE" $FORMATS <<'EOF'
import json, sys
out, shape, formats = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"| {shape} | Glance prefill 128 / 512 | llama.cpp pp128 / pp512 | ratios | Glance decode | llama.cpp tg | ratio | roofline | read loop GB/s |")
print("|---|---|---|---|---|---|---|---|---|")
for f in formats:
    j = json.load(open(f"{out}/{shape}-{f}.json"))
    l = j["vs_llama_cpp"]
    print(f"| {f} | {j['prefill_128_tokens_per_s']:.1f} / {j['prefill_512_tokens_per_s']:.1f} "
          f"| {l['reference_prompt_128_tokens_per_s']:.1f} / {l['reference_prompt_512_tokens_per_s']:.1f} "
          f"| {l['prefill_128_ratio']:.2f} / {l['prefill_512_ratio']:.2f} "
          f"| {j['decode_tokens_per_s']:.2f} | {l['reference_generation_tokens_per_s']:.2f} | {l['decode_ratio']:.2f} "
          f"| {j['decode_roofline_fraction']:.2f} | {j['memory_read_bandwidth_gb_per_s']:.1f} |")
EOF
