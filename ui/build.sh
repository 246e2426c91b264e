#!/usr/bin/env bash
# Builds the timeline page into OUTDIR as exactly index.html, app.js and
# app.css (the files the server embeds and serves under /ui/). The pinned npm
# packages are installed once per lock into
# ${KWS_UI_CACHE:-~/.cache/kws-ui}/<key> (deploy/npm-install.sh); nothing is
# written into the source tree: sources are copied into a work dir next to
# OUTDIR. Fails on type errors (tsc --noEmit). Installs Debian's nodejs and
# npm when there is no npm.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cache=${KWS_UI_CACHE:-$HOME/.cache/kws-ui}
key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
deps=$cache/$key

"$here/../deploy/npm-install.sh" "$here" "$deps"

# The work dir holds copies of the sources and a link to the installed
# packages, so that tsc and esbuild resolve modules as in a normal checkout.
work=$(mktemp -d "$(dirname "$out")/.ui-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/src" "$work/src"
cp "$here/tsconfig.json" "$work/"
ln -s "$deps/node_modules" "$work/node_modules"

node "$deps/node_modules/typescript/bin/tsc" --noEmit -p "$work/tsconfig.json"

mkdir -p "$work/dist"
"$deps/node_modules/.bin/esbuild" "$work/src/main.ts" \
  --bundle --minify --target=es2020 --format=iife --log-level=warning \
  --outfile="$work/dist/app.js"
cp "$work/src/index.html" "$work/dist/index.html"

# OUTDIR ends up with exactly the three files. Only a directory that is
# empty or holds an earlier bundle is emptied: a mistyped OUTDIR is not.
if [ -n "$(ls -A "$out")" ] && [ ! -f "$out/app.js" ]; then
  echo "$out is not empty and holds no earlier bundle: not touching it" >&2
  exit 1
fi
find "$out" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
cp "$work/dist/index.html" "$work/dist/app.js" "$work/dist/app.css" "$out/"
