"""The Debian packages: dpkg-buildpackage -us -uc -b builds pixd, pixctl,
libpixproto1 and libpixproto-dev; their contents; the service is enabled
on install; apt accepts them; pixd --version runs from the extracted tree.

A release build of the whole tree: run alone with `./dev test --suite deb`.
It builds in BUILDDIR/deb (a fixed path, so ccache, when installed, hits
on the next run)."""
import glob
import os
import shutil
import subprocess
import unittest

SRCDIR = os.environ.get("SRCDIR", ".")
BUILDDIR = os.environ.get("BUILDDIR", "build-test")
MISSING = [p for p in ("dpkg-buildpackage", "dh", "dpkg-deb") if not shutil.which(p)]

_built = {}


def copy_source(dst):
    """The source tree without build trees, VCS data or earlier packages."""
    def ignore(d, names):
        if os.path.abspath(d) == os.path.abspath(SRCDIR):
            return [n for n in names if n.startswith("build") or n in (".git", "var")]
        return [n for n in names if n == "__pycache__"]
    shutil.copytree(SRCDIR, dst, ignore=ignore, symlinks=True)


def build():
    if _built:
        return _built
    top = os.path.join(os.path.abspath(BUILDDIR), "deb")
    shutil.rmtree(top, ignore_errors=True)
    src = os.path.join(top, "pixd")
    copy_source(src)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASAN_", "UBSAN_", "CC", "CXX", "CFLAGS", "LDFLAGS", "MESON"))}
    env["DEB_BUILD_OPTIONS"] = f"noddebs nocheck parallel={os.cpu_count() or 1}"
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=1500)
    if r.returncode != 0:
        raise AssertionError(f"dpkg-buildpackage failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    debs = {os.path.basename(p).split("_")[0]: p for p in glob.glob(os.path.join(top, "*.deb"))}
    tree = os.path.join(top, "extracted")
    for p in debs.values():
        subprocess.run(["dpkg-deb", "-x", p, tree], check=True, timeout=60)
    _built.update(debs=debs, tree=tree, top=top)
    return _built


def contents(deb):
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return {line.split()[-1].lstrip(".") for line in out.splitlines()}


@unittest.skipIf(MISSING, f"{' '.join(MISSING)} not installed (Debian packages dpkg-dev, "
                          "debhelper; ./dev deps installs them)")
class Deb(unittest.TestCase):
    def test_deb_builds_the_packages(self):
        self.assertEqual(sorted(build()["debs"]),
                         ["libpixproto-dev", "libpixproto1", "pixctl", "pixd"])

    def test_deb_contents(self):
        debs = build()["debs"]
        want = {
            "pixd": ["/usr/sbin/pixd", "/lib/systemd/system/pixd.service",
                     "/lib/systemd/system/pixd.socket", "/lib/systemd/system/pixd-http.socket",
                     "/etc/pixd/pixd.conf", "/usr/share/man/man8/pixd.8.gz",
                     "/usr/share/man/man7/pixd-protocol.7.gz",
                     "/usr/share/man/man7/pixd-legacy.7.gz",
                     "/usr/share/bash-completion/completions/pixd"],
            "pixctl": ["/usr/bin/pixctl", "/usr/share/man/man1/pixctl.1.gz",
                       "/usr/share/bash-completion/completions/pixctl"],
            "libpixproto1": [],
            "libpixproto-dev": ["/usr/include/pixproto/pixproto.h",
                                "/usr/include/pixproto/pixproto.hpp"],
        }
        for pkg, files in want.items():
            have = contents(debs[pkg])
            for f in files:
                self.assertIn(f, have, f"{pkg}: {f}")
        self.assertTrue(any(f.endswith("/pixd/pixd-codecs.so") for f in contents(debs["pixd"])))
        self.assertTrue(any("/libpixproto.so.1" in f for f in contents(debs["libpixproto1"])))
        self.assertTrue(any(f.endswith("pkgconfig/libpixproto.pc")
                            for f in contents(debs["libpixproto-dev"])))

    def test_deb_service_enabled_on_install(self):
        d = os.path.join(build()["top"], "control")
        subprocess.run(["dpkg-deb", "-e", build()["debs"]["pixd"], d], check=True, timeout=60)
        with open(os.path.join(d, "postinst")) as f:
            post = f.read()
        for unit in ("pixd.service", "pixd.socket", "pixd-http.socket"):
            self.assertIn(f"deb-systemd-helper enable '{unit}'", post)
        with open(os.path.join(d, "conffiles")) as f:
            self.assertIn("/etc/pixd/pixd.conf", f.read())

    def test_deb_apt_would_install_them(self):
        debs = build()["debs"]
        r = subprocess.run(["apt-get", "install", "--simulate", "--no-download", "-q"] +
                           [os.path.abspath(p) for p in debs.values()],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Inst pixd ", r.stdout)

    def test_deb_pixd_runs_from_extracted_tree(self):
        tree = build()["tree"]
        libdir = os.path.dirname(glob.glob(os.path.join(tree, "usr/lib/*/libpixproto.so.1"))[0])
        env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        for exe, rx in (("usr/sbin/pixd", r"^pixd \d+\.\d+\.\d+"),
                        ("usr/bin/pixctl", r"\d+\.\d+\.\d+")):
            r = subprocess.run([os.path.join(tree, exe), "--version"], capture_output=True,
                               text=True, env=env, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, rx)
        # The packaged example configuration is valid as shipped.
        store = os.path.join(build()["top"], "store")
        r = subprocess.run([os.path.join(tree, "usr/sbin/pixd"), "--check-config", "--config",
                            os.path.join(tree, "etc/pixd/pixd.conf"), "--store", store],
                           capture_output=True, text=True, env=env, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
