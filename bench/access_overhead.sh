#!/usr/bin/env bash
# What access control and the usage ledger add per request: runs bench/server_overhead.py (its
# /infer line) against three servers in turn, three rounds: BASE (a built checkout of an older
# commit, e.g. `git archive 36af614 | tar -x -C /tmp/base && (cd /tmp/base && ./mvnw -q -DskipTests
# package)`), this checkout with keys off, and this checkout with a key that has every limit and a
# budget. Both of this checkout's servers get a settings.json with a monthly hardware price.
# Usage: bench/access_overhead.sh BASE_DIR   (build this checkout first: ./mvnw -q -DskipTests package)
set -u
base="$1"
here="$(cd "$(dirname "$0")/.." && pwd)"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
fixture="$here/../shared/fixtures/glm4v-tiny-a"
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
cp() { echo "$1/glance-cli/target/glance-cli-0.1.0-SNAPSHOT.jar:$1/glance-cli/target/lib/*"; }
serve() { # checkout port [flags]; java itself in the background, so that $pid is the server's
  "$java" "${jvm[@]}" -cp "$(cp "$1")" dev.glance.cli.Main serve --model "$fixture" --port "$2" --request-log '' \
    "${@:3}" 2>/dev/null &
  pid=$!
  for _ in $(seq 1 150); do curl -sf "localhost:$2/health" >/dev/null 2>&1 && break; sleep 0.2; done
}
measure() { GLANCE_URL="http://127.0.0.1:$1" python3 "$here/bench/server_overhead.py" "$fixture/case0_0.png" 2>/dev/null | head -1; }
off="$(mktemp -d)"; on="$(mktemp -d)"
key="$("$java" "${jvm[@]}" -cp "$(cp "$here")" dev.glance.cli.Main keys create --name bench --rpm 100000 --tpm 100000000 --max-concurrent 8 --budget 1000000 \
  --data-dir "$on" 2>/dev/null)"
for d in "$off" "$on"; do
  echo '{"cost": {"currency": "CNY", "hardware_per_month": 1200,
    "reference": {"name": "r", "input_per_million": 2, "output_per_million": 8}}}' > "$d/settings.json"
done
for round in 1 2 3; do
  echo "== round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  serve "$base" 18181; echo "-- base: $base"; measure 18181; kill $pid; wait $pid 2>/dev/null
  serve "$here" 18182 --data-dir "$off"; echo "-- keys off, SQLite ledger"; measure 18182; kill $pid; wait $pid 2>/dev/null
  serve "$here" 18183 --data-dir "$on"; echo "-- key with every limit and a budget, SQLite ledger"
  GLANCE_KEY="$key" measure 18183; kill $pid; wait $pid 2>/dev/null
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$off" "$on"
