#!/usr/bin/env bash
# Installs the MCP test clients once per lock: the npm packages of
# package-lock.json (the TypeScript SDKs, the conformance suite, Node 22)
# and a Python venv with requirements.txt, into
# ${KWS_MCP_CACHE:-~/.cache/kws-mcp}/<sha256 of the locks>
# (deploy/npm-install.sh). Prints that directory; progress goes to stderr.
# Installs Debian's nodejs and npm when there is no npm.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${KWS_MCP_CACHE:-$HOME/.cache/kws-mcp}
key=$(cat "$here/package.json" "$here/package-lock.json" "$here/requirements.txt" \
  | sha256sum | cut -c1-16)
dir=$cache/$key

# The venv is made in the directory being installed, so .complete covers it.
# shellcheck disable=SC2016 # expanded by the inner shell
"$here/../../deploy/npm-install.sh" "$here" "$dir" bash -ec '
  echo "python venv with requirements.txt into $1" >&2
  python3 -m venv venv >&2
  venv/bin/pip install --quiet --no-deps -r "$2" >&2' venv "$dir" "$here/requirements.txt"
echo "$dir"
