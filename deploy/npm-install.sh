#!/usr/bin/env bash
# Installs the npm packages of a package.json and its package-lock.json once:
#
#   deploy/npm-install.sh PKG_DIR TARGET [COMMAND [ARG...]]
#
# npm ci of PKG_DIR's two files into TARGET (<cache>/<key>, the key chosen by
# the caller), with npm's cache in <cache>/npm-cache. Does nothing when
# TARGET/.complete exists. COMMAND, if given, runs in the new directory
# after npm ci and before .complete, so that it is part of the install.
# The directory is made next to TARGET and renamed into place, so TARGET is
# either complete or missing. Progress goes to stderr. Installs Debian's
# nodejs and npm when there is no npm. Used by ui/build.sh,
# tests/ui/install.sh and tests/mcp/install.sh.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 PKG_DIR TARGET [COMMAND [ARG...]]" >&2
  exit 2
fi
pkg=$1
target=$2
shift 2
cache=$(dirname "$target")
if [ -f "$target/.complete" ]; then
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "installing nodejs and npm from Debian" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends nodejs npm >&2
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$pkg/package.json" "$pkg/package-lock.json" "$work/"
echo "npm ci into $target" >&2
(cd "$work" && npm ci --no-audit --no-fund --cache "$cache/npm-cache" >&2)
if [ $# -gt 0 ]; then
  (cd "$work" && "$@")
fi
touch "$work/.complete"
# Another run may have finished TARGET meanwhile: keep the first.
if [ -f "$target/.complete" ]; then
  rm -rf "$work"
else
  rm -rf "$target"
  mv "$work" "$target"
fi
trap - EXIT
