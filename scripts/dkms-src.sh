#!/bin/bash
# dkms-src.sh OUTDIR [VERSION]: the DKMS source tree of dbgkvm in OUTDIR (normally
# .../dbgkvm-VERSION): what the module build needs and nothing else. The top-level
# Makefile (its `module` target), scripts/uapi-headers.sh, kmod/ and include/, and
# dkms.conf with VERSION (default: scripts/version.sh) in place of #MODULE_VERSION#.
# With VERSION "-" no dkms.conf is written (the Debian package's dh_dkms installs it).
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
ver=${2:-$("$root/scripts/version.sh")}
rm -rf "$out"
mkdir -p "$out/scripts"
cp -R "$root/kmod" "$root/include" "$out/"
# Nothing a build may have left in kmod/ (the repository's builds go to build/).
find "$out" \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' -o -name '*.mod' -o -name '*.mod.c' \
	-o -name '*.d' -o -name Module.symvers -o -name modules.order \) -delete
cp "$root/Makefile" "$root/VERSION" "$out/"
cp "$root/scripts/uapi-headers.sh" "$out/scripts/"
if [ "$ver" != - ]; then
	sed "s/#MODULE_VERSION#/$ver/" "$root/packaging/dkms.conf" >"$out/dkms.conf"
fi
