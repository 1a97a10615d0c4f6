#!/usr/bin/python3
"""Print one closing line for a meson test run: 'N passed, N failed'."""
import json
import sys

passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
except OSError as e:
    print(f"summary: cannot read test log: {e}", file=sys.stderr)
    sys.exit(1)
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
