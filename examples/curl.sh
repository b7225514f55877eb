#!/usr/bin/env bash
# Asks Glance about an image with curl: first the simple /infer API, then the OpenAI-compatible
# chat API, streamed. Usage: examples/curl.sh IMAGE [QUESTION]
# The server address comes from GLANCE_URL (default http://127.0.0.1:8080).
set -euo pipefail
url="${GLANCE_URL:-http://127.0.0.1:8080}"
image="${1:?usage: $0 IMAGE [QUESTION]}"
question="${2:-What is in this picture?}"
b64="$(base64 -w0 "$image")"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

# /infer: {"image", "text", "max_tokens", "temperature"} in, {"output", ...} out.
printf '{"image":"%s","text":%s,"max_tokens":64,"temperature":0}' "$b64" \
  "$(printf '%s' "$question" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" > "$body"
curl -sS --fail-with-body "$url/infer" -H 'Content-Type: application/json' --data-binary @"$body"
echo

# /v1/chat/completions, streamed as server-sent events (one "data:" line per piece, then [DONE]).
model="$(curl -sS --fail-with-body "$url/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')"
printf '{"model":"%s","stream":true,"stream_options":{"include_usage":true},"max_tokens":64,"temperature":0,
  "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},
  {"type":"text","text":%s}]}]}' "$model" "$b64" \
  "$(printf '%s' "$question" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" > "$body"
curl -sS -N --fail-with-body "$url/v1/chat/completions" -H 'Content-Type: application/json' --data-binary @"$body"
