"""--help and the man pages list the same flags, for pixd and pixctl."""
import os
import re
import subprocess
import unittest

from pixdtest import PIXCTL, PIXD, SRCDIR


def help_flags(exe):
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10).stdout
    return {m.group(1) for m in re.finditer(r"^\s+(?:-\w, )?--([a-z0-9-]+)", out, re.M)}


def man_flags(page):
    """Flags documented as .TP items in the OPTIONS section."""
    with open(os.path.join(SRCDIR, "man", page)) as f:
        text = f.read()
    sec = re.search(r"^\.SH\s+\"?OPTIONS\"?\s*$(.*?)(?=^\.SH\s)", text, re.M | re.S)
    assert sec, f"{page} has no OPTIONS section"
    lines = sec.group(1).splitlines()
    flags = set()
    for i, line in enumerate(lines[:-1]):
        if line.startswith(".TP"):
            m = re.search(r"\\-\\-((?:[a-z0-9]|\\-)+)", lines[i + 1])
            if m:
                flags.add(m.group(1).replace("\\", ""))
    return flags


class ManPages(unittest.TestCase):
    def check(self, exe, page):
        h, m = help_flags(exe), man_flags(page)
        self.assertTrue(h, f"{exe} --help lists no flags")
        self.assertEqual(sorted(h - m), [], f"in {exe} --help but not in man/{page}")
        self.assertEqual(sorted(m - h), [], f"in man/{page} but not in {exe} --help")

    def test_manpages_pixd(self):
        self.check(PIXD, "pixd.8")

    def test_manpages_pixctl(self):
        self.check(PIXCTL, "pixctl.1")

    def test_manpages_render_cleanly(self):
        for page in ("pixd.8", "pixctl.1", "pixd-protocol.7", "pixd-legacy.7"):
            r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(SRCDIR, "man", page)],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", f"{page}: {r.stderr}")


if __name__ == "__main__":
    unittest.main()
