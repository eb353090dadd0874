#!/bin/bash
# kernel-pkg.sh install-headers|headers-dir|image-dir VERSION (6.1, 6.12 or debug)
# Resolves Debian's newest 6.1 (bookworm) or 6.12 (bookworm-backports) kernel
# packages at run time, installs the headers, and unpacks the image (vmlinuz and
# modules) into build/kernels/<release>/ with dpkg -x.
set -euo pipefail
cmd=$1 ver=$2
root=$(cd "$(dirname "$0")/.." && pwd)

# KERNEL=debug: the debug kernel built from Debian's 6.12 source (scripts/debug-kernel.sh).
if [ "$ver" = debug ]; then
	case "$cmd" in
	release) exec "$root/scripts/debug-kernel.sh" release ;;
	install-headers) exit 0 ;;
	headers-dir) exec "$root/scripts/debug-kernel.sh" kdir ;;
	image-dir) "$root/scripts/debug-kernel.sh" build && exec "$root/scripts/debug-kernel.sh" dir ;;
	esac
fi

release() {
	local pat
	case "$ver" in
	6.1) pat='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	6.12) pat='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
	*) echo "kernel-pkg: unknown KERNEL=$ver (6.1 or 6.12)" >&2; exit 1 ;;
	esac
	apt-cache pkgnames linux-image- | grep -E "$pat" | sed -e 's/^linux-image-//' -e 's/-unsigned$//' |
		sort -V | tail -n1
}

rel=$(release)
[ -n "$rel" ] || { echo "kernel-pkg: no linux-image for $ver in apt-cache (run apt-get update)" >&2; exit 1; }
case "$cmd" in
release) echo "$rel" ;;
install-headers)
	if [ ! -d "/usr/src/linux-headers-$rel" ]; then
		if [ "$ver" = 6.12 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports "linux-headers-$rel" >/dev/null
		else
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-headers-$rel" >/dev/null
		fi
	fi
	;;
headers-dir) echo "/usr/src/linux-headers-$rel" ;;
image-dir)
	dir="$root/build/kernels/$rel"
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir" && mkdir -p "$dir/dl"
		pkg="linux-image-$rel"
		[ "$ver" = 6.12 ] && pkg="$pkg-unsigned"
		(cd "$dir/dl" && apt-get download -qq "$pkg" >/dev/null)
		dpkg -x "$dir"/dl/*.deb "$dir/root"
		rm -rf "$dir/dl"
		touch "$dir/.done"
	fi
	echo "$dir"
	;;
*) echo "kernel-pkg: unknown command $cmd" >&2; exit 1 ;;
esac
