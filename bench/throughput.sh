#!/usr/bin/env bash
# Issue 7's throughput benchmark: `glance loadtest` against `glance serve` with a zero-weight
# checkpoint of the `mid` shape, at 1, 4, 8 and 16 clients, for each weight format given
# (default: bf16 q8_0). Prints one line per run (clients, generated tokens/s, load before/after)
# and writes every loadtest JSON under $OUT_DIR (default /tmp/glance-throughput).
# Every run gets a seed of its own: a run that repeated an earlier run's seed would send the same
# images and prompts, and the server's vision and prefix caches would answer them.
# REPEAT is loadtest's --repeat: the fraction of requests reusing one of 4 images (default 0:
# every image new, the worst case; loadtest's own default is 0.5).
# SERVE_ARGS adds `glance serve` flags, for A/B runs (e.g. SERVE_ARGS="--max-prefill-tokens 256").
# Usage: bash bench/throughput.sh [bf16|q8_0|q4_0 ...]   (env: CLIENTS, DURATION, WARMUP, MAX_TOKENS, PORT, REPEAT, SERVE_ARGS)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
formats=("$@"); [ ${#formats[@]} -gt 0 ] || formats=(bf16 q8_0)
clients="${CLIENTS:-1 4 8 16}"
duration="${DURATION:-40}"
max_tokens="${MAX_TOKENS:-32}"
repeat="${REPEAT:-0}"
port="${PORT:-18080}"
ckpt="${CHECKPOINT:-/tmp/glance-mid-serve}"
out="${OUT_DIR:-/tmp/glance-throughput}"
mkdir -p "$out"
load() { cut -d' ' -f1 /proc/loadavg; }

if [ ! -f "$ckpt/config.json" ]; then
  ./glance bench --write-checkpoint "$ckpt" --shape mid --tokenizer-from ../shared/fixtures/glm4v-tiny-a >&2
fi
model="$(basename "$ckpt")"
for fmt in "${formats[@]}"; do
  quant=(); [ "$fmt" = bf16 ] || quant=(--quantize "$fmt")
  data="$(mktemp -d)"
  ./glance serve --model "$ckpt" --max-batch 16 --port "$port" --kv-budget 16384 --response-cache 0 \
    --data-dir "$data" "${quant[@]}" ${SERVE_ARGS:-} > "$out/serve-$fmt.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
    kill -0 $server 2>/dev/null || { echo "throughput: serve exited, see $out/serve-$fmt.log" >&2; exit 1; }
    sleep 1
  done
  # Warm-up, not recorded: until C2 has compiled the kernels (tens of seconds of traffic) a
  # request runs several times slower, and the first client count measured would pay for it.
  ./glance loadtest --server "http://127.0.0.1:$port" --model "$model" --clients 4 --duration "${WARMUP:-30}" \
    --max-tokens "$max_tokens" --image-size 112 --repeat 0 --seed 7 --json > "$out/$fmt-warmup.json"
  run=0
  for n in $clients; do
    run=$((run + 1))
    before=$(load)
    ./glance loadtest --server "http://127.0.0.1:$port" --model "$model" --clients "$n" --duration "$duration" \
      --max-tokens "$max_tokens" --image-size 112 --repeat "$repeat" --seed $((1000 + 10 * n + 1000 * run)) \
      --json > "$out/$fmt-$run-$n.json"
    tps=$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print("%.2f vision_hits=%.2f" % (d["generated_tokens_per_second"], d["vision_cache_hit_rate"]))' "$out/$fmt-$run-$n.json")
    echo "$fmt clients=$n generated_tokens_per_s=$tps load=$before/$(load)"
  done
  kill $server; wait $server 2>/dev/null || true
  rm -rf "$data"
done
