#!/usr/bin/env bash
# Installs what Shoal needs that a fresh Debian/Ubuntu machine with the Swift
# toolchain lacks: libzmq and SQLite (headers and libraries), python3 (with
# venv) and the static C library, podman and runc (the oci runtime), graphviz,
# Chart.js, and Chromium with its driver (the console and its tests); as root, also the unprivileged user sandboxed jobs run as
# (shoal-job); and the virtual environment of the AWS clients the endpoint's
# tests use (.venv-aws, from scripts/requirements-aws.txt). Does nothing when
# all are present.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# A system user with no home and no shell: the sandbox's job user (see README, Sandbox).
if ! id shoal-job >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
    echo "setup: creating the user shoal-job that sandboxed jobs run as" >&2
    as_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin shoal-job
  fi
fi

missing=()
[ -f /usr/include/zmq.h ] || missing+=(libzmq3-dev)
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# An instance's volume (VolumeSizeInGB) is an ext4 made by mke2fs.
[ -x /usr/sbin/mke2fs ] || [ -x /sbin/mke2fs ] || missing+=(e2fsprogs)
# shoal-sandbox is linked statically: the C library's static archive.
[ -f "/usr/lib/$(uname -m)-linux-gnu/libc.a" ] || missing+=(libc6-dev)
# Virtual environments for the tests' Python clients (Debian splits venv out of python3),
# and for the python runtime's environments, which are made from the system's /usr/bin/python3.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
[ -x /usr/bin/python3 ] || missing+=(python3)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
# The oci runtime runs container images with podman (runc: crun refuses hosts
# whose cgroups are in hybrid mode); its tests build an image from busybox-static.
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /bin/busybox ] || missing+=(busybox-static)
# The console: graphs laid out by Graphviz's dot, charts by Chart.js (served from
# where Debian puts it); its tests drive a real headless Chromium.
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -f /usr/share/javascript/chart.js/chart.min.js ] || missing+=(libjs-chart.js)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# The HTTPS tests make a self-signed certificate.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The AWS clients the endpoint's tests use, in virtual environments of the
# repository's own, each from a fully pinned requirements file (pip freeze):
# .venv-aws (boto3, the AWS CLI, the SageMaker SDK v2) and .venv-sdk3 (the
# SDK v3, which needs a newer boto3). Remade only when its file changed.
cd "$(dirname "$0")/.."
for pair in aws:requirements-aws.txt sdk3:requirements-sdk3.txt; do
  venv=.venv-${pair%%:*}
  requirements=scripts/${pair#*:}
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
    echo "setup: creating $venv from $requirements (a minute or two)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
  fi
done
