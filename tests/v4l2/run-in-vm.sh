#!/bin/bash
# Capture from real V4L2 drivers. Run from the project root, inside the VM:
#   ../shared/tools/v4l2-vm/v4l2-vm --mjpeg 640x360@15 -- bash tests/v4l2/run-in-vm.sh
# /dev/video0 is vivid (YUYV); /dev/video10 is v4l2loopback fed JPEG frames
# (by the VM's --mjpeg feeder, or by one started here when there is none).
# First the V4L2 source and hub alone (v4l2-capture), then pixd over the
# native protocol (test_vm_pixd.py). Broken and stalled MJPEG feeds are
# run-mjpeg-faults.sh, in a VM of their own. BUILD selects the build (build-test).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-test}
FEED=../shared/tools/v4l2-vm/mjpeg-feed
export PIXD=${PIXD:-$BUILD/daemon/pixd}
export FRAMES=${FRAMES:-/run/vm-job/frames} FEED_FPS=${FEED_FPS:-15}
tmp=$(mktemp -d)
feeder=""
trap '[ -n "$feeder" ] && kill "$feeder" 2>/dev/null; rm -rf "$tmp"' EXIT

say() { printf '== %s\n' "$*"; }

# A node of v4l2loopback can capture once its producer writes.
loopback_ready() { v4l2-ctl -d /dev/video10 -D 2>/dev/null | grep -q 'Video Capture'; }

if [ ! -d "$FRAMES" ]; then
  FRAMES=$tmp/frames
  say "no feeder: feeding /dev/video10 640x360 at $FEED_FPS fps"
  /usr/bin/python3 "$FEED" make 640x360 30 "$FRAMES"
  /usr/bin/python3 "$FEED" play "$FRAMES" "$FEED_FPS" /dev/video10 &
  feeder=$!
fi
for _ in $(seq 100); do loopback_ready && break; sleep 0.2; done
loopback_ready || { echo "/dev/video10 never became a capture device"; exit 1; }
v4l2-ctl --list-devices 2>/dev/null || true

say "v4l2-capture: the V4L2 source and hub on vivid (YUYV) and v4l2loopback (MJPEG)"
"$BUILD/tests/camera/v4l2-capture" --seconds 8 --pause --out "$tmp" \
  cam=/dev/video0,width=640,height=360,fps=15 mj=/dev/video10 | tee "$tmp/capture.txt"
grep -q '^cam .* OK$' "$tmp/capture.txt"
grep -q '^mj .* OK$' "$tmp/capture.txt"
same=""
for f in "$FRAMES"/*.jpg; do cmp -s "$f" "$tmp/mj.jpg" && same=$f && break; done
[ -n "$same" ] || { echo "the MJPEG frame is not byte-identical to any frame fed"; exit 1; }
say "MJPEG passed through untouched: the last frame is $(basename "$same")"

say "faults from vivid's controls, while capturing"
( ctl() { sleep "$1"; echo "-- $2"; v4l2-ctl -d /dev/video0 -c "$2"; }
  ctl 2 inject_v4l2_buf_flag_error=1
  ctl 2 percentage_of_dropped_buffers=50
  ctl 2 percentage_of_dropped_buffers=0
  ctl 0 inject_vidioc_streamon_error=1
  ctl 0 inject_fatal_streaming_error=1
  ctl 5 disconnect=1
  # The capture has seen the unplug (its third time offline, after the
  # fatal error and the failed STREAMON; the driver reports it as a poll
  # error or as ENODEV from DQBUF) before the clock for "frames again" starts.
  for _ in $(seq 120); do
    [ "$(grep -c ') offline: ' "$tmp/faults.txt")" -ge 3 ] && break; sleep 0.5
  done
  touch "$tmp/injected" ) &
injector=$!
# Until every fault is injected and frames flow again after the last (the
# unplug); 120 s is a cap for a very busy host, not the expected time.
"$BUILD/tests/camera/v4l2-capture" --log-level debug --seconds 120 --until "$tmp/injected" \
  cam=/dev/video0,width=640,height=360,fps=15 2>&1 | tee "$tmp/faults.txt" | grep -v '^t='
wait "$injector"
# Each fault handled: the bad buffer skipped, the stream error and the
# unplug reopened, the failed STREAMON retried, and frames at the end.
grep -q 'buffer marked bad by the driver, skipped' "$tmp/faults.txt"
grep -q 'offline: poll: device error' "$tmp/faults.txt"
grep -q 'offline: VIDIOC_STREAMON' "$tmp/faults.txt"
[ "$(grep -c 'is back' "$tmp/faults.txt")" -ge 3 ]
grep -q '^cam .* state=online OK$' "$tmp/faults.txt"

say "pixd over the native protocol"
/usr/bin/python3 tests/v4l2/test_vm_pixd.py

say "all V4L2 VM tests passed"
