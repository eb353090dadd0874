#!/bin/bash
# Installs everything dbgkvm's build and test machines need on Debian 12, as root.
# bookworm-backports (QEMU 10, the 6.12 kernel) is added by reusing the URI of the
# machine's existing Debian entry: no host name is written here.
set -euo pipefail

STAMP=/var/lib/dbgkvm-setup.stamp
NEED_PKGS=(build-essential gcc-12 g++-12 bc flex bison libelf-dev libssl-dev dwarves sparse cpio rsync
	libgtest-dev googletest
	busybox-static xz-utils zstd kmod clang-format cmake
	bochs bochsbios vgabios bochs-x isolinux syslinux-common xorriso clang llvm bpftool libbpf-dev libzstd-dev bpftrace
	libclang-rt-14-dev
	dkms dh-dkms debhelper lintian)
BP_PKGS=(qemu-system-x86)

if [ "$(id -u)" != 0 ]; then
	echo "setup-host: run as root (apt-get)" >&2
	exit 1
fi

find_debian_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
		[ -f "$f" ] || continue
		# deb822: URIs: line in a stanza whose Suites include bookworm
		awk '
			/^URIs:/ { uri=$2 }
			/^Suites:/ { if ($0 ~ /bookworm( |$)/ && uri ~ /debian\/?$/) { print uri; exit } }
			/^deb / { if ($0 ~ / bookworm /) { for (i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) { print $i; exit } } }
		' "$f"
	done | head -n1
}

if [ ! -f /etc/apt/sources.list.d/dbgkvm-backports.list ]; then
	uri=$(find_debian_uri)
	if [ -z "$uri" ]; then
		echo "setup-host: no Debian bookworm entry found in apt sources" >&2
		exit 1
	fi
	echo "deb $uri bookworm-backports main" >/etc/apt/sources.list.d/dbgkvm-backports.list
	rm -f "$STAMP"
fi

# Done today with this very script (its package lists included): nothing to do.
want_stamp="$(date +%F) $(md5sum <"$0" | cut -c1-12)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${NEED_PKGS[@]}" >/dev/null
apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BP_PKGS[@]}" >/dev/null

# Kernel headers for both targets: newest ABI from apt-cache, never hard-coded.
"$(dirname "$0")/kernel-pkg.sh" install-headers 6.1
"$(dirname "$0")/kernel-pkg.sh" install-headers 6.12
echo "$want_stamp" >"$STAMP"
