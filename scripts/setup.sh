#!/usr/bin/env bash
# Installs what Shoal needs that a fresh Debian/Ubuntu machine with the Swift
# toolchain lacks: libzmq and SQLite (headers and libraries), python3 and the
# static C library. Does nothing when all are present.
set -euo pipefail

missing=()
[ -f /usr/include/zmq.h ] || missing+=(libzmq3-dev)
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# shoal-sandbox is linked statically: the C library's static archive.
[ -f "/usr/lib/$(uname -m)-linux-gnu/libc.a" ] || missing+=(libc6-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
