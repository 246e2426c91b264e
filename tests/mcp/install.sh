#!/usr/bin/env bash
# Installs the MCP test clients once per lock: the npm packages of
# package-lock.json (the TypeScript SDKs, the conformance suite, Node 22)
# and a Python venv with requirements.txt, into
# ${KWS_MCP_CACHE:-~/.cache/kws-mcp}/<sha256 of the locks>. Prints that
# directory; progress goes to stderr. Installs Debian's nodejs and npm when
# there is no npm.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${KWS_MCP_CACHE:-$HOME/.cache/kws-mcp}
key=$(cat "$here/package.json" "$here/package-lock.json" "$here/requirements.txt" \
  | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -f "$dir/.complete" ]; then
  echo "$dir"
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
cp "$here/package.json" "$here/package-lock.json" "$work/"
echo "npm ci into $dir" >&2
(cd "$work" && npm ci --no-audit --no-fund --cache "$cache/npm-cache" >&2)
echo "python venv with requirements.txt into $dir" >&2
python3 -m venv "$work/venv" >&2
"$work/venv/bin/pip" install --quiet --no-deps -r "$here/requirements.txt" >&2
touch "$work/.complete"
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
echo "$dir"
