#!/usr/bin/env bash
# Installs what the page tests and the page bench drive the browser with,
# once per lock: the npm packages of package-lock.json (playwright-core and
# Node 22, which it needs; Debian 12's nodejs is 18) into
# ${KWS_UI_TEST_CACHE:-~/.cache/kws-ui-tests}/<sha256 of the lock>
# (deploy/npm-install.sh). Prints that directory; progress goes to stderr.
# Playwright downloads no browser here: it drives Debian's chromium,
# installed from Debian when /usr/bin/chromium is missing (as nodejs and npm
# are when there is no npm).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${KWS_UI_TEST_CACHE:-$HOME/.cache/kws-ui-tests}

apt_install() {
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "installing $* from Debian" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "$@" >&2
}
[ -x /usr/bin/chromium ] || apt_install chromium
command -v npm >/dev/null || apt_install nodejs npm

key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/$key
"$here/../../deploy/npm-install.sh" "$here" "$dir"
echo "$dir"
