#!/usr/bin/env python3
"""Asks Glance about an image through the simple /infer API with `requests`.

Usage: python3 examples/infer.py IMAGE [QUESTION]
The server address comes from GLANCE_URL (default http://127.0.0.1:8080).
"""
import base64
import os
import sys

import requests


def infer(url, image_path, question, max_tokens=256, temperature=0.0):
    with open(image_path, "rb") as f:
        image = base64.b64encode(f.read()).decode("ascii")
    response = requests.post(
        url + "/infer",
        json={"image": image, "text": question, "max_tokens": max_tokens, "temperature": temperature},
        timeout=600,
    )
    if response.status_code != 200:
        # Errors come as {"error": {"message", "type", "param", "code"}}.
        raise SystemExit(f"glance: HTTP {response.status_code}: {response.json()['error']['message']}")
    return response.json()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    url = os.environ.get("GLANCE_URL", "http://127.0.0.1:8080")
    question = sys.argv[2] if len(sys.argv) > 2 else "What is in this picture?"
    result = infer(url, sys.argv[1], question)
    print(result["output"])
    usage, timings = result["usage"], result["timings"]
    print(
        f"[{usage['prompt_tokens']} prompt tokens ({usage['image_tokens']} for the image), "
        f"{usage['completion_tokens']} generated, {timings['total_ms']:.0f} ms]",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
