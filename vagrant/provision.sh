#!/usr/bin/env bash
# Provisions the workshop lab VM (see Vagrantfile). Idempotent: running it
# again (vagrant provision) changes nothing that is already in place.
#
# Installs the Debian packages the runtime and its tests use, a pinned Go
# whose archive is checked against its published SHA-256, builds the
# runtime, and ends with `scratchcontainer check`, the host readiness report.
set -euo pipefail

PROJECT=${PROJECT:-/home/vagrant/scratchcontainer}
GO_VERSION=1.26.8
GO_SHA256=d0f743b33e8d8945e6b1f432edd15785c70507121d6e2a723b21285eddf8b57b
GO_ARCHIVE=go${GO_VERSION}.linux-amd64.tar.gz

export DEBIAN_FRONTEND=noninteractive

# Debian packages: build tools, the network tools the tests use from the
# host side, the static busybox the test rootfs is made of, and debootstrap
# for learners who want a full Debian rootfs.
packages=(make git curl ca-certificates iproute2 iptables kmod busybox-static debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "provision: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go, pinned: fetched only when /usr/local/go is not already this version.
if [ "$(head -n1 /usr/local/go/VERSION 2>/dev/null)" != "go${GO_VERSION}" ]; then
  echo "provision: installing Go ${GO_VERSION}"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL -o "$tmp/$GO_ARCHIVE" "https://go.dev/dl/$GO_ARCHIVE"
  echo "$GO_SHA256  $tmp/$GO_ARCHIVE" | sha256sum --check --quiet
  rm -rf /usr/local/go
  tar -C /usr/local -xzf "$tmp/$GO_ARCHIVE"
fi
# On every PATH, including sudo's secure_path (tests run as root).
ln -sfn /usr/local/go/bin/go /usr/local/bin/go
ln -sfn /usr/local/go/bin/gofmt /usr/local/bin/gofmt

# cgroup v2 is what this lab is for: say so if the box booted otherwise.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo "provision: warning: /sys/fs/cgroup is not cgroup v2 on this box;" \
    "boot it with systemd.unified_cgroup_hierarchy=1 or pick another SCRATCH_BOX" >&2
fi

# Open a login shell in the project.
profile=/home/vagrant/.profile
line="cd $PROJECT"
grep -qxF "$line" "$profile" 2>/dev/null || echo "$line" >>"$profile"

cd "$PROJECT"
CGO_ENABLED=0 go build -o scratchcontainer .
# The host readiness report: each item ok or what to fix. A box that is not
# ready still provisions; the report says why.
./scratchcontainer check || echo "provision: scratchcontainer check found something to fix (above)" >&2
