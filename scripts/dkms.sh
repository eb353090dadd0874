#!/bin/bash
# dkms.sh install [KERNELVER] | remove: dbgkvm through the host's DKMS, from this checkout
# (make dkms-install, make dkms-remove). As root.
#   install  puts the DKMS source tree (scripts/dkms-src.sh) in /usr/src/dbgkvm-VERSION,
#            then dkms add, build and install for KERNELVER (default: the running
#            kernel). The same version added before is removed first, so a re-run
#            installs the tree as it is now. DKMS rebuilds it for each new kernel.
#   remove   dkms remove --all of every dbgkvm version DKMS knows, and their
#            /usr/src/dbgkvm-* trees, except those a Debian package (dbgkvm-dkms) owns:
#            remove those with apt.
# Installs Debian's dkms if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
[ "$(id -u)" = 0 ] || { echo "dkms.sh: run as root" >&2; exit 1; }
if ! command -v dkms >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dkms >/dev/null
fi

owned_by_package() { dpkg -S "$1" >/dev/null 2>&1; }
versions() { dkms status -m dbgkvm 2>/dev/null | sed -n 's|^dbgkvm/\([^,:]*\)[,:].*|\1|p' | sort -u; }

case "$cmd" in
install)
	kver=${2:-$(uname -r)}
	ver=$("$root/scripts/version.sh")
	src=/usr/src/dbgkvm-$ver
	if owned_by_package "$src"; then
		echo "dkms.sh: $src belongs to $(dpkg -S "$src" | cut -d: -f1): remove that package first" >&2
		exit 1
	fi
	if versions | grep -qxF "$ver"; then
		dkms remove -m dbgkvm -v "$ver" --all
	fi
	bash "$root/scripts/dkms-src.sh" "$src" "$ver"
	dkms add -m dbgkvm -v "$ver"
	dkms build -m dbgkvm -v "$ver" -k "$kver"
	dkms install -m dbgkvm -v "$ver" -k "$kver"
	dkms status -m dbgkvm -v "$ver"
	;;
remove)
	for ver in $(versions); do
		if owned_by_package "/usr/src/dbgkvm-$ver"; then
			echo "dkms.sh: dbgkvm/$ver belongs to package $(dpkg -S "/usr/src/dbgkvm-$ver" | cut -d: -f1): left alone"
			continue
		fi
		dkms remove -m dbgkvm -v "$ver" --all
		rm -rf "/usr/src/dbgkvm-$ver"
	done
	# Trees that were copied but never added (an install stopped half-way).
	for d in /usr/src/dbgkvm-*; do
		[ -d "$d" ] && ! owned_by_package "$d" && rm -rf "$d"
	done
	true
	;;
*)
	echo "usage: dkms.sh install [KERNELVER] | remove" >&2
	exit 1
	;;
esac
