#!/usr/bin/env python3
"""What the HTTP layer adds to a request, against a running glance serve (GLANCE_URL).

/infer: client round trip, server total and the sum of the engine stages (median of 200);
chat with 2000 tokens, plain and streamed: end-to-end tokens/s against the engine decode time.
Usage: python3 bench/server_overhead.py [IMAGE]  (needs requests; meant for the tiny fixture)
GLANCE_KEY=glk_... sends that API key (for a server with keys on).
"""
import base64, json, statistics, time, requests
import os, sys
url = os.environ.get("GLANCE_URL", "http://127.0.0.1:8080")
img = base64.b64encode(open(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/glm4v-tiny-a/case0_0.png", "rb").read()).decode()
s = requests.Session()
if os.environ.get("GLANCE_KEY"):
    s.headers["Authorization"] = "Bearer " + os.environ["GLANCE_KEY"]
def infer(n):
    t0 = time.perf_counter()
    r = s.post(url + "/infer", json={"image": img, "text": "What is in this picture?", "max_tokens": n, "temperature": 0, "ignore_eos": True})
    rt = (time.perf_counter() - t0) * 1000
    d = r.json(); t = d["timings"]
    engine = t["preprocess_ms"] + t["vision_ms"] + t["prefill_ms"] + t["decode_ms"]
    return rt, t["total_ms"], engine
for _ in range(30): infer(12)
rows = [infer(12) for _ in range(200)]
rt = statistics.median(r[0] for r in rows); srv = statistics.median(r[1] for r in rows); eng = statistics.median(r[2] for r in rows)
print(f"/infer 12 tokens, 200 requests: client round trip median {rt:.2f} ms, server total {srv:.2f} ms, engine stages {eng:.2f} ms; server overhead {srv-eng:.2f} ms, HTTP+client {rt-srv:.2f} ms")
model = s.get(url + "/v1/models").json()["data"][0]["id"]
def chat(stream, n=2000):
    body = {"model": model, "max_tokens": n, "ignore_eos": True, "temperature": 0, "stream": stream,
            "stream_options": {"include_usage": True}, "messages": [{"role": "user", "content": "Tell me a story."}]}
    t0 = time.perf_counter()
    r = s.post(url + "/v1/chat/completions", json=body, stream=stream)
    if stream:
        last = None; events = 0
        for line in r.iter_lines():
            if line.startswith(b"data: {"):
                events += 1; last = json.loads(line[6:])
        d = last
    else:
        d = r.json()
    wall = time.perf_counter() - t0
    return wall, d["timings"]["decode_ms"], d["usage"]["completion_tokens"]
for stream in (False, True, False, True):
    wall, dec, n = chat(stream)
    print(f"chat 2000 tokens stream={stream}: client wall {wall*1000:.0f} ms, engine decode {dec:.0f} ms, {n/wall:.0f} tokens/s end to end")
