#!/usr/bin/python3
"""OpenCV in one process, as bench/resize measures it: COUNT times
cv2.imdecode (full size) + cv2.resize to W x H with INTER_AREA +
cv2.imencode JPEG at quality Q, on one thread (cv2.setNumThreads(1)).
Two untimed rounds first. Prints JSON: seconds, count, out_bytes, out_w,
out_h, vmhwm_kb (this process's peak RSS), cpu (its CPU seconds in the
timed loop).

Usage: opencv_resize.py FILE COUNT W H Q"""
import json
import sys
import time

import cv2
import numpy


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    path, count, w, h, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    cv2.setNumThreads(1)
    with open(path, "rb") as f:
        data = numpy.frombuffer(f.read(), dtype=numpy.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, q]

    def one():
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        ok, out = cv2.imencode(".jpg", small, params)
        if not ok:
            raise SystemExit("imencode failed")
        return out, small.shape

    for _ in range(2):
        one()
    t0, c0 = time.monotonic(), time.process_time()
    for _ in range(count):
        out, shape = one()
    dt, cpu = time.monotonic() - t0, time.process_time() - c0
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": dt, "count": count, "out_bytes": int(out.size),
                      "out_w": shape[1], "out_h": shape[0], "vmhwm_kb": hwm, "cpu": cpu}))


if __name__ == "__main__":
    main()
