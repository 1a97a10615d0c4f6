#!/bin/bash
# MJPEG as cheap cameras send it (no DHT, truncated, garbage) and a feed that
# stalls, on v4l2loopback. Run from the project root inside the VM, without
# the VM's own feeder (v4l2loopback takes its format from its first producer):
#   ../shared/tools/v4l2-vm/v4l2-vm -- bash tests/v4l2/run-mjpeg-faults.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-test}
export PIXD=${PIXD:-$BUILD/daemon/pixd}
FEED=../shared/tools/v4l2-vm/mjpeg-feed
tmp=$(mktemp -d)
feeder=""
trap '[ -n "$feeder" ] && kill -CONT "$feeder" 2>/dev/null && kill "$feeder" 2>/dev/null; rm -rf "$tmp"' EXIT

/usr/bin/python3 tests/v4l2/test_vm_mjpeg_faults.py --make "$tmp/frames"
/usr/bin/python3 "$FEED" play "$tmp/frames" 15 /dev/video10 &
feeder=$!
for _ in $(seq 100); do
  v4l2-ctl -d /dev/video10 -D 2>/dev/null | grep -q 'Video Capture' && break; sleep 0.2
done
/usr/bin/python3 tests/v4l2/test_vm_mjpeg_faults.py
echo "== broken and stalled MJPEG feeds handled"
