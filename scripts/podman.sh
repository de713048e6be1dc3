# Sourced by scripts/test-image and scripts/test-stack: podman on a machine without a container
# registry (what worked here is recorded in docs/deployment.md). Installs podman when missing,
# keeps its storage under $PODMAN_WORK, and builds the images from what is on this machine:
#   base_image   Debian bookworm (mmdebstrap, from the machine's apt sources) with this
#                machine's CPython copied into /usr/local, as the official slim image has it
#   app_image    the Dockerfile on that base (the image users build from python:3.11.7-slim)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PODMAN_WORK=${PODMAN_WORK:-/tmp/alliance-podman}
APP_IMAGE=localhost/alliance-assistant:latest
BASE_IMAGE=localhost/alliance-python:3.11.7-slim
BASE_PYTHON_VERSION=3.11.7  # the Dockerfile's default base; the lock needs >= 3.11.5
# Runtime libraries of the official slim image that CPython's modules link against.
BASE_LIBRARIES=ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libexpat1,libuuid1,libnsl2,libtirpc3,libcrypt1
# netavark and aardvark-dns: containers on one network find each other by name; catatonit: pods.
PODMAN_PACKAGES=(podman buildah mmdebstrap uidmap fuse-overlayfs slirp4netns runc
  containernetworking-plugins netavark aardvark-dns catatonit iptables)

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS" >&2; }

if [ "$(id -u)" -ne 0 ]; then  # rootless podman needs subordinate ids set up: not done here
  echo "the image and stack tests run podman as root (run them with sudo)" >&2
  exit 2
fi

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null ||
   [ ! -x /usr/lib/podman/aardvark-dns ] || ! command -v catatonit >/dev/null; then
  step "installing podman"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${PODMAN_PACKAGES[@]}" >/dev/null
fi

mkdir -p "$PODMAN_WORK"
# crun refuses the hybrid cgroups of a sandbox and the default rlimits are refused: runc, the
# cgroupfs manager and explicit limits; no systemd, so events go to a file.
cat > "$PODMAN_WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[network]
network_backend = "netavark"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat > "$PODMAN_WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PODMAN_WORK/storage"
runroot = "$PODMAN_WORK/run"
EOF
export CONTAINERS_CONF=$PODMAN_WORK/containers.conf
export CONTAINERS_STORAGE_CONF=$PODMAN_WORK/storage.conf
# pip inside a build verifies TLS against the machine's CA bundle, mounted read-only with a pip
# configuration naming it (nothing of either stays in the image); HEALTHCHECK survives only in
# the Docker image format.
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$PODMAN_WORK/pip.conf"
BUILD_OPTIONS=(--format docker --ulimit nofile=20000:20000 --ulimit nproc=4096:4096
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
  -v "$PODMAN_WORK/pip.conf:/etc/pip.conf:ro")

base_image() {
  podman image exists "$BASE_IMAGE" && return
  step "building $BASE_IMAGE"
  local python prefix
  python=$(command -v "python$BASE_PYTHON_VERSION" || command -v python3.11 || true)
  prefix=$("${python:-false}" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
  if [ ! -x "$prefix/bin/python3.11" ] ||
     [ "$("$prefix/bin/python3.11" -c 'import platform; print(platform.python_version())')" != "$BASE_PYTHON_VERSION" ]; then
    echo "the base image needs CPython $BASE_PYTHON_VERSION on this machine (found: ${prefix:-none})" >&2
    return 2
  fi
  # The interpreter and its standard library, without tests, Tk or static libraries; pip and
  # setuptools from ensurepip's own wheels, as in the official image.
  tar -C "$prefix" -cf "$PODMAN_WORK/python.tar" --exclude='lib/python3.11/site-packages' \
    --exclude=lib/python3.11/test --exclude=lib/python3.11/idlelib \
    --exclude=lib/python3.11/tkinter --exclude='lib/python3.11/lib-dynload/_tkinter*' \
    --exclude=__pycache__ --exclude='*.a' lib include bin/python3.11
  local mirrors=()  # the machine's own apt sources when it has them, else Debian's default
  [ -f /etc/apt/sources.list.d/debian.sources ] && mirrors=(/etc/apt/sources.list.d/debian.sources)
  mmdebstrap --quiet --variant=minbase --include="$BASE_LIBRARIES" \
    --customize-hook="tar -C \"\$1/usr/local\" -xf $PODMAN_WORK/python.tar" \
    --customize-hook='for n in python3 python; do ln -sf python3.11 "$1/usr/local/bin/$n"; done' \
    --customize-hook='chroot "$1" /sbin/ldconfig' \
    --customize-hook='chroot "$1" /usr/local/bin/python3 -m ensurepip --default-pip >/dev/null 2>&1' \
    --customize-hook='chroot "$1" /usr/local/bin/python3 -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, venv, ensurepip"' \
    bookworm "$PODMAN_WORK/base.tar" "${mirrors[@]}"
  podman import --quiet --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$PODMAN_WORK/base.tar" "$BASE_IMAGE" >/dev/null
  rm -f "$PODMAN_WORK/python.tar" "$PODMAN_WORK/base.tar"
}

app_image() {
  base_image
  step "building $APP_IMAGE"
  podman build --quiet "${BUILD_OPTIONS[@]}" --build-arg BASE="$BASE_IMAGE" -t "$APP_IMAGE" . >/dev/null
}
