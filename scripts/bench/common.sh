# Sourced by every benchmark: from the repository root, a release build, a
# scratch folder removed on exit, and a fresh Shoal home in it.
cd "$(dirname "${BASH_SOURCE[1]}")/../.."
swift build -c release 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHOAL_HOME=$work/home
shoal=.build/release/shoal
