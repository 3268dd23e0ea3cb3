"""Studio timings through its HTTP API, as the page sees them: time to the first progress event (first
paint, a repaint of the same painting with another seed, the same doodle again) and how soon Stop ends
a paint. Start the studio first, in another terminal:

    doodle studio --style samples/seaside.png --weights ../shared/weights/vgg16_hed_caffe_fp16.pth --port 8765
    python benchmarks/bench_studio.py [--url http://127.0.0.1:8765]
"""

import argparse
import json
import time
import urllib.request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    url = parser.parse_args().url

    def get(path):
        return json.loads(urllib.request.urlopen(url + path).read())

    def post(path, data):
        request = urllib.request.Request(url + path, json.dumps(data).encode(), {"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request).read())

    def follow(job, started):
        """(seconds to the first progress event or None, the last event's type, seconds to it)."""
        first = None
        with urllib.request.urlopen(f"{url}/api/jobs/{job}/events") as stream:
            for line in stream:
                if not line.startswith(b"data: "):
                    continue
                event = json.loads(line[6:])
                if event["type"] == "progress" and first is None:
                    first = time.perf_counter() - started
                if event["type"] in ("done", "error", "stopped"):
                    return first, event["type"], time.perf_counter() - started

    state = get("/api/state")["defaults"]
    labels = get(f"/api/labels?width={state['width']}&height={state['height']}")
    for what, seed in (("first paint", 0), ("same painting, another seed", 1), ("same doodle again", 1)):
        started = time.perf_counter()
        first, end, total = follow(post("/api/paint", {**labels, "options": {"random_seed": seed}})["job"], started)
        shown = "none" if first is None else f"{first:.2f} s"
        print(f"{what:30s} first progress {shown:>8s}  {end} after {total:.1f} s")
    for delay in (0.3, 5.0):
        job = post("/api/paint", {**labels, "options": {"random_seed": 100 + int(delay * 10)}})["job"]
        time.sleep(delay)
        started = time.perf_counter()
        post("/api/stop", {})
        _, end, total = follow(job, started)
        print(f"Stop {delay:.1f} s into a paint: {end} {total:.2f} s later")


if __name__ == "__main__":
    main()
