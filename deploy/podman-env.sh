# shellcheck shell=bash
# Podman set-up shared by deploy/build-image, deploy/podman and
# tests/e2e/image_test.sh (sourced, not run). Nothing here touches the
# machine's own container configuration: containers.conf, storage.conf and
# registries.conf are written into a cache folder and passed with
# CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.
#
#   kws_podman_env        computes the cache folder, writes the three files,
#                         exports the variables
#   kws_podman_install    installs podman, buildah, runc, mmdebstrap, uidmap
#                         with apt when one is missing
#   kws_podman_base       makes the Dockerfile's base, debian:bookworm-slim,
#                         with mmdebstrap from the Debian mirror (once per key)
#
# Environment:
#   KWS_PODMAN_CACHE           cache root ($HOME/.cache/kws-podman)
#   KWS_DEBIAN_MIRROR          Debian mirror (default: the one apt uses here,
#                              else http://deb.debian.org/debian)
#   KWS_DEBIAN_SECURITY_MIRROR security mirror (same rule, debian-security)
#
# The cache folder <root>/<key> holds the base image and podman's storage
# (the built images and their layer cache); <key> is a digest of what makes
# the base: suite, variant, merged-/usr hook, mirrors, dpkg and apt options
# and this recipe.

kws_podman_packages=(podman buildah runc mmdebstrap uidmap)
kws_debian_suite=bookworm
kws_base_image=docker.io/library/debian:bookworm-slim
# Bump when the base recipe or the generated configuration changes.
kws_podman_recipe=1
# Like the official slim images: no manuals, documentation or translations
# (the rule stays in the image, so the runtime stage's packages skip them too).
kws_dpkg_excludes=(
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/groff/*'
  'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/share/linda/*'
  'path-exclude=/usr/share/locale/*'
)
# Like the official images' /etc/apt/apt.conf.d/docker-*: no package cache
# files, downloaded packages removed after each install, no translations.
kws_apt_opts=(
  'Dir::Cache::pkgcache ""'
  'Dir::Cache::srcpkgcache ""'
  'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
  'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
  'Acquire::Languages "none"'
)

# _kws_apt_mirror PATTERN FALLBACK: the first apt source of this machine whose
# URI ends in PATTERN.
_kws_apt_mirror() {
  local uri
  uri=$(
    {
      awk '/^URIs:/{for (i = 2; i <= NF; i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null
      awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -m1 -E "/$1/?\$"
  )
  uri=${uri%/}
  echo "${uri:-$2}"
}

kws_podman_env() {
  local mirror security
  mirror=${KWS_DEBIAN_MIRROR:-$(_kws_apt_mirror debian http://deb.debian.org/debian)}
  security=${KWS_DEBIAN_SECURITY_MIRROR:-$(_kws_apt_mirror debian-security http://deb.debian.org/debian-security)}
  kws_apt_sources=(
    "deb $mirror $kws_debian_suite main"
    "deb $mirror $kws_debian_suite-updates main"
    "deb $security $kws_debian_suite-security main"
  )
  local key
  key=$(printf '%s\n' "recipe=$kws_podman_recipe" "suite=$kws_debian_suite" \
    "variant=minbase" "hook=merged-usr" "${kws_apt_sources[@]}" "${kws_dpkg_excludes[@]}" \
    "${kws_apt_opts[@]}" | sha256sum | cut -c1-16)
  kws_podman_dir="${KWS_PODMAN_CACHE:-$HOME/.cache/kws-podman}/$key"
  # Runtime state (mounts, locks) of this storage, on tmpfs; one per storage.
  local run_root run_key
  run_key=$(printf '%s' "$kws_podman_dir" | sha256sum | cut -c1-16)
  if [ "$(id -u)" -eq 0 ]; then
    run_root=/run/kws-podman/$run_key
  else
    run_root=${XDG_RUNTIME_DIR:-/tmp/kws-podman-$(id -u)}/kws-podman/$run_key
  fi
  mkdir -p "$kws_podman_dir/storage" "$run_root"

  # runc: crun refuses hybrid cgroup v1/v2 hosts. cgroupfs and a file event
  # log: no systemd needed. The ulimits stay below any host's hard limits.
  cat >"$kws_podman_dir/containers.conf.tmp" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$run_root/events.log"
tmp_dir = "$run_root/libpod"
EOF
  cat >"$kws_podman_dir/storage.conf.tmp" <<EOF
[storage]
driver = "overlay"
graphroot = "$kws_podman_dir/storage"
runroot = "$run_root/storage"
EOF
  # No registry is ever asked: images are built from the local base only.
  cat >"$kws_podman_dir/registries.conf.tmp" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
  local f
  for f in containers storage registries; do
    mv -f "$kws_podman_dir/$f.conf.tmp" "$kws_podman_dir/$f.conf"
  done
  export CONTAINERS_CONF="$kws_podman_dir/containers.conf" \
    CONTAINERS_STORAGE_CONF="$kws_podman_dir/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$kws_podman_dir/registries.conf"
}

kws_podman_install() {
  local missing=() p
  for p in "${kws_podman_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# kws_podman_base: debian:bookworm-slim in the cache's storage, made with
# mmdebstrap (minbase) when it is not there yet.
kws_podman_base() {
  podman image exists "$kws_base_image" && return 0
  (
    flock 9
    podman image exists "$kws_base_image" && exit 0
    local opts=() o start
    for o in "${kws_dpkg_excludes[@]}"; do opts+=(--dpkgopt="$o"); done
    for o in "${kws_apt_opts[@]}"; do opts+=(--aptopt="$o"); done
    echo "making $kws_base_image with mmdebstrap (${kws_apt_sources[0]}, once per cache key)" >&2
    start=$SECONDS
    rm -f "$kws_podman_dir/base.tar"
    # The merged-usr hook lays out merged /usr itself, so the usrmerge
    # package and the perl it needs stay out.
    mmdebstrap --quiet --variant=minbase "${opts[@]}" \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      "$kws_debian_suite" "$kws_podman_dir/base.tar" "${kws_apt_sources[@]}" \
      >"$kws_podman_dir/mmdebstrap.log" 2>&1 || {
      tail -20 "$kws_podman_dir/mmdebstrap.log" >&2
      exit 1
    }
    podman import --quiet --change 'CMD ["bash"]' \
      --message "mmdebstrap --variant=minbase $kws_debian_suite" \
      "$kws_podman_dir/base.tar" "$kws_base_image" >/dev/null || exit 1
    rm -f "$kws_podman_dir/base.tar"
    echo "base image made in $((SECONDS - start)) s" >&2
  ) 9>"$kws_podman_dir/.base.lock"
}
