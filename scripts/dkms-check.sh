#!/bin/bash
# dkms-check.sh [--source DIR] [KERNEL...]: `dkms build` of dbgkvm for Debian's kernels
# (KERNEL: 6.1 and/or 6.12, as `make KERNEL=`; default both), in a throw-away DKMS tree.
#
# The source tree is scripts/dkms-src.sh's (what `make dkms-install` adds), or DIR (the
# /usr/src/dbgkvm-VERSION of an unpacked Debian package: scripts/deb-check.sh). DKMS runs
# its MAKE line (the project's `make module`) against the headers of each kernel, as it
# would for an installed kernel. Nothing is left in /var/lib/dkms, /usr/src or
# /lib/modules: --dkmstree, --sourcetree and --installtree point into a temporary
# directory, and so do the module-signing key and certificate DKMS makes (Debian's DKMS
# signs what it builds). The host's /var/lib/dkms is compared before and after.
#
# One line per kernel: the release, the build time, and the module's vermagic, which
# must equal that of the kernel's own kvm.ko (from Debian's image package, unpacked by
# scripts/kernel-pkg.sh image-dir). A build that prints a compiler, objtool or modpost
# warning fails. Exits non-zero on any failure. Installs Debian's dkms if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=
if [ "${1:-}" = --source ]; then
	src=$(cd "$2" && pwd)
	shift 2
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)

if ! command -v dkms >/dev/null; then
	echo "dkms-check: installing dkms"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dkms >/dev/null
fi

tmp=$(mktemp -d /tmp/dbgkvm-dkms-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree" "$tmp/src" "$tmp/install"
if [ -n "$src" ]; then
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/dkms.conf")
	cp -R "$src" "$tmp/src/dbgkvm-$ver"
else
	ver=$("$root/scripts/version.sh")
	bash "$root/scripts/dkms-src.sh" "$tmp/src/dbgkvm-$ver" "$ver"
fi
[ -n "$ver" ] || { echo "dkms-check: no PACKAGE_VERSION in $src/dkms.conf" >&2; exit 1; }

host_state() { find /var/lib/dkms -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum; }
before=$(host_state)

# dkms reads the signing key's path from its framework.conf, else from the environment.
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
dk=(dkms --dkmstree "$tmp/tree" --sourcetree "$tmp/src" --installtree "$tmp/install")
"${dk[@]}" add -m dbgkvm -v "$ver" >"$tmp/add.log" 2>&1 || {
	cat "$tmp/add.log" >&2
	exit 1
}

failed=0
for k in "${kernels[@]}"; do
	"$root/scripts/kernel-pkg.sh" install-headers "$k"
	rel=$("$root/scripts/kernel-pkg.sh" release "$k")
	kdir=$("$root/scripts/kernel-pkg.sh" headers-dir "$k")
	t0=$SECONDS
	log=$tmp/build-$rel.log
	if ! "${dk[@]}" build -m dbgkvm -v "$ver" -k "$rel" --kernelsourcedir "$kdir" -j 2 >"$log" 2>&1; then
		echo "not ok - dkms build dbgkvm/$ver for $rel: failed"
		tail -n 20 "$log" | sed 's/^/#   /'
		tail -n 20 "$tmp/tree/dbgkvm/$ver/build/make.log" 2>/dev/null | sed 's/^/#   /'
		failed=$((failed + 1))
		continue
	fi
	secs=$((SECONDS - t0))
	mdir=$tmp/tree/dbgkvm/$ver/$rel/$(uname -m)
	ko=$(find "$mdir/module" -name 'dbgkvm.ko*' | head -n1)
	# The kernel's own module, as Debian ships it: the vermagic modprobe and the kernel
	# compare.
	kvm=$(find "$("$root/scripts/kernel-pkg.sh" image-dir "$k")/root/lib/modules/$rel" -name 'kvm.ko*' | head -n1)
	got=$(modinfo -F vermagic "$ko" 2>/dev/null || true)
	want=$(modinfo -F vermagic "$kvm" 2>/dev/null || true)
	signer=$(modinfo -F signer "$ko" 2>/dev/null || true)
	warnings=$(grep -E 'warning|error|WARNING' "$mdir/log/make.log" | grep -v 'Skipping BTF generation' || true)
	if [ -z "$ko" ]; then
		echo "not ok - dkms build dbgkvm/$ver for $rel: no dbgkvm.ko under $mdir/module"
		failed=$((failed + 1))
	elif [ -z "$want" ] || [ "$got" != "$want" ]; then
		echo "not ok - dkms build dbgkvm/$ver for $rel: vermagic '$got', the kernel's kvm.ko has '$want'"
		failed=$((failed + 1))
	elif [ -n "$warnings" ]; then
		echo "not ok - dkms build dbgkvm/$ver for $rel: the build printed warnings"
		while IFS= read -r w; do echo "#   $w"; done <<<"$warnings"
		failed=$((failed + 1))
	else
		echo "ok - dkms build dbgkvm/$ver for $rel ($secs s): $(basename "$ko"), vermagic '${got% }' as kvm.ko's, signed by '${signer:-nobody}', no warnings"
	fi
done

"${dk[@]}" remove -m dbgkvm -v "$ver" --all >"$tmp/remove.log" 2>&1 || {
	echo "not ok - dkms remove dbgkvm/$ver --all"
	sed 's/^/#   /' "$tmp/remove.log"
	failed=$((failed + 1))
}
if [ "$(host_state)" != "$before" ]; then
	echo "not ok - the host's /var/lib/dkms changed"
	failed=$((failed + 1))
fi
[ "$failed" = 0 ]
