#!/bin/bash
# uapi-headers.sh KDIR OUTDIR
# Exports the target kernel's uapi headers that <linux/kvm.h> needs, sanitized the way
# `make headers_install` does it (scripts/headers_install.sh), so the freestanding C++
# sees exactly the ABI of the kernel it is built for and nothing of glibc.
set -euo pipefail
kdir=$1 out=$2
src=$(readlink -f "$kdir/source" 2>/dev/null || true)
# Debian splits the tree: KDIR (arch part, generated headers) and the -common source.
if [ -z "$src" ] || [ ! -d "$src/include/uapi" ]; then
	src=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$kdir/Makefile" | head -n1)
fi
[ -d "$src/include/uapi" ] || { echo "uapi-headers: no uapi tree under $kdir" >&2; exit 1; }

resolve() { # include name -> source file
	local h=$1 c
	for c in "$src/include/uapi/$h" "$src/arch/x86/include/uapi/$h" \
		"$kdir/arch/x86/include/generated/uapi/$h" "$kdir/include/generated/uapi/$h"; do
		[ -f "$c" ] && { echo "$c"; return; }
	done
}

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
todo=(linux/kvm.h)
declare -A seen
while [ ${#todo[@]} -gt 0 ]; do
	h=${todo[0]}
	todo=("${todo[@]:1}")
	[ -n "${seen[$h]:-}" ] && continue
	seen[$h]=1
	f=$(resolve "$h")
	[ -n "$f" ] || continue # linux/compiler.h and friends: stripped below
	mkdir -p "$out.tmp/$(dirname "$h")"
	(cd "$kdir" && sh "$src/scripts/headers_install.sh" "$f" "$out.tmp/$h")
	while read -r inc; do todo+=("$inc"); done < <(sed -n "s/^#[[:space:]]*include <\([^>]*\)>.*/\1/p" "$out.tmp/$h")
done
rm -rf "$out" && mv "$out.tmp" "$out"
