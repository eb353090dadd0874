#!/bin/bash
# linux-source.sh KERNEL (6.1 or 6.12): prints the directory of Debian's linux-source-KERNEL,
# the version of the installed KERNEL headers (make setup), fetching and unpacking it once
# into the machine's cache (DBGKVM_KERNEL_CACHE, /var/cache/dbgkvm-kernel).
set -euo pipefail
k=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBGKVM_KERNEL_CACHE:-/var/cache/dbgkvm-kernel}
hdr=$("$root/scripts/kernel-pkg.sh" headers-dir "$k")
pkgver=$(dpkg-query -W -f '${Version}' "$(basename "$hdr")" 2>/dev/null) || {
	echo "linux-source: the $k headers are not installed (make setup)" >&2
	exit 1
}
top=$cache/src-$pkgver
if [ ! -f "$top/.done" ]; then
	rm -rf "$top" && mkdir -p "$top/dl"
	(cd "$top/dl" && apt-get download -qq -o APT::Sandbox::User=root "linux-source-$k=$pkgver" >/dev/null)
	dpkg-deb --fsys-tarfile "$top"/dl/*.deb | tar -xO --wildcards '*linux-source-*.tar.xz' |
		tar -xJ -C "$top"
	rm -rf "$top/dl"
	touch "$top/.done"
fi
echo "$top/linux-source-$k"
