#!/bin/bash
# deb.sh [OUTDIR]: the Debian package dbgkvm-dkms_VERSION_amd64.deb in OUTDIR (default
# build/deb/; make deb). VERSION is scripts/version.sh's, a native Debian version.
#
# The package is built from a copy of what it needs (the build glue, kmod/, include/,
# tools/bpf/, packaging/ and README.md; packaging/debian/ becomes debian/, with a
# changelog written here) by dpkg-buildpackage -b: packaging/debian/rules. Installs the
# missing build dependencies (debhelper, dh-dkms, the BPF toolchain) as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
ver=$("$root/scripts/version.sh")

need=(dpkg-dev debhelper dh-dkms bpftool clang llvm libbpf-dev libelf-dev libzstd-dev zlib1g-dev)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deb: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stage=$out/dbgkvm-$ver
rm -rf "$out"/dbgkvm-* "$out"/dbgkvm_* "$out"/dbgkvm-dkms_* "$out"/dbgkvm-dkms-dbgsym_*
mkdir -p "$stage/scripts" "$stage/tools"
cp -R "$root/kmod" "$root/include" "$root/packaging" "$stage/"
cp -R "$root/tools/bpf" "$stage/tools/"
cp "$root/Makefile" "$root/VERSION" "$root/README.md" "$stage/"
cp "$root/scripts/dkms-src.sh" "$root/scripts/uapi-headers.sh" "$root/scripts/version.sh" "$stage/scripts/"
mv "$stage/packaging/debian" "$stage/debian"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(git -C "$root" log -1 --format=%cD 2>/dev/null || date -R)
cat >"$stage/debian/changelog" <<CHANGELOG
dbgkvm ($ver) unstable; urgency=medium

  * Built by make deb from commit $commit.

 -- $(sed -n 's/^Maintainer: //p' "$stage/debian/control")  $date
CHANGELOG

echo "deb: building dbgkvm-dkms $ver (log: $out/build.log)"
if ! (cd "$stage" && dpkg-buildpackage -b -us -uc -j2) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	exit 1
fi
ls "$out"/dbgkvm-dkms_"$ver"_*.deb
