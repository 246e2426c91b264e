#!/usr/bin/env bash
# Installs every Debian package needed to build and test k8s-watch-server.
# Idempotent and quiet: when everything is present it only checks and exits.
# Also used by the container image's build stage (without the test tools).
#   --test-tools   also clang, its sanitizer and fuzzer runtime (tests/fuzz),
#                  clang-format and clang-tidy (the quality gates of tests/run),
#                  and podman, buildah, runc, mmdebstrap, uidmap (the image
#                  test, tests/e2e/image_test.sh; deploy/build-image), and
#                  chromium (the page's browser tests, tests/ui), and wrk
#                  (the bench's HTTP load, bench_tiny included), and a JRE
#                  and Maven (the Kafka broker of the export tests, tests/kafka),
#                  and ccache (tests/run's compiler cache)
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git curl ca-certificates python3 python3-venv
  jq iproute2 util-linux procps
  libcaf-dev librocksdb-dev libzstd-dev libjemalloc-dev
  libboost1.81-dev libssl-dev librdkafka-dev
  rapidjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev
)
# The page's bundle (ui/build.sh) needs npm; a Node.js from elsewhere that
# brings its own npm is kept.
command -v npm >/dev/null || packages+=(nodejs npm)
if [ "${1:-}" = --test-tools ]; then
  packages+=(clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14)
  packages+=(podman buildah runc mmdebstrap uidmap)
  packages+=(chromium)
  packages+=(wrk)
  packages+=(openjdk-17-jre-headless maven)
  packages+=(ccache)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing build dependencies: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
