#!/bin/bash
# debug-kernel.sh build|dir|release|kdir
#
# dbgkvm's debug kernel: Debian's linux-source-6.12 (the version of the 6.12 headers
# dbgkvm builds against, resolved at run time), configured from
# scripts/debug-kernel/debug.config on top of allnoconfig: KASAN (generic, inline),
# KFENCE, lockdep with PROVE_RCU, DEBUG_ATOMIC_SLEEP/PREEMPT, DEBUG_OBJECTS, DEBUG_LIST,
# SLUB debug, kmemleak, UBSAN, full preemption, KVM as modules, tracing and BPF, CPU
# hotplug. Nothing else, so that it builds in minutes on two CPUs.
#
# Built once per machine and cached outside the repo, keyed by the source version and a
# hash of the configuration, the compiler's version and the build recipe's number:
#   $DBGKVM_KERNEL_CACHE (default /var/cache/dbgkvm-kernel)/<pkgver>-<hash>/
#     build/                      the O= tree: KDIR for building dbgkvm against it
#     root/boot/vmlinuz-<release> root/lib/modules/<release>/   what the test machine boots
# The same layout as scripts/kernel-pkg.sh's unpacked Debian images, so vmtest.sh treats
# KERNEL=debug like 6.1 and 6.12.
#
#   build    build it unless cached (prints the time it took); prints nothing else
#   dir      the cache directory (built or not)
#   kdir     the O= tree
#   release  its kernel release
set -euo pipefail
cmd=${1:?usage: debug-kernel.sh build|dir|kdir|release}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBGKVM_KERNEL_CACHE:-/var/cache/dbgkvm-kernel}
frag=$root/scripts/debug-kernel/debug.config
cc=gcc-12

hdr=$("$root/scripts/kernel-pkg.sh" headers-dir 6.12)
pkgver=$(dpkg-query -W -f '${Version}' "$(basename "$hdr")" 2>/dev/null) || {
	echo "debug-kernel: the 6.12 headers are not installed (make setup)" >&2
	exit 1
}
# RECIPE: bump when build() changes what it produces (not for comments or messages).
RECIPE=1
key=$(cat "$frag" <(echo "recipe $RECIPE") <($cc --version | head -n1) | sha256sum | cut -c1-12)
dir=$cache/$pkgver-$key
src=$cache/src-$pkgver/linux-source-6.12

release() { cat "$dir/build/include/config/kernel.release"; }

fetch_source() { "$root/scripts/linux-source.sh" 6.12 >/dev/null; }

# Every option the fragment names must have its value in the final .config: allnoconfig
# silently drops an option whose dependencies are off, and a debug kernel without, say,
# KASAN would pass every run while finding nothing.
check_config() {
	local line k got bad=0
	while IFS= read -r line; do
		case "$line" in '#'* | '') continue ;; esac
		k=${line%%=*}
		got=$(grep -E "^$k=" "$dir/build/.config" || true)
		if [ "$got" != "$line" ]; then
			echo "debug-kernel: $line did not stick (got '${got:-unset}'): a dependency is off" >&2
			bad=1
		fi
	done <"$frag"
	return $bad
}

build() {
	[ -f "$dir/.done" ] && return
	local t0=$SECONDS
	fetch_source
	rm -rf "$dir" && mkdir -p "$dir/build" "$dir/root/boot"
	make -s -C "$src" O="$dir/build" CC=$cc allnoconfig KCONFIG_ALLCONFIG="$frag" >/dev/null
	check_config
	# scripts/unifdef: scripts/uapi-headers.sh exports the uapi headers from this tree.
	make -s -C "$dir/build" CC=$cc -j"$(nproc)" bzImage modules scripts_unifdef
	make -s -C "$dir/build" CC=$cc INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 modules_install
	cp "$dir/build/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$(release)"
	# Older keys' trees: one debug kernel per machine is enough.
	find "$cache" -mindepth 1 -maxdepth 1 -name "*-*" ! -name "src-*" ! -path "$dir" -exec rm -rf {} +
	touch "$dir/.done"
	echo "debug-kernel: built $(release) in $((SECONDS - t0)) s ($dir)" >&2
}

case "$cmd" in
build) build ;;
dir) echo "$dir" ;;
kdir) echo "$dir/build" ;;
release) release ;;
*) echo "debug-kernel: unknown command $cmd" >&2; exit 1 ;;
esac
