#!/bin/bash
# deb-check.sh: builds the Debian package dbgkvm-dkms (scripts/deb.sh, make deb),
# unpacks it into a throw-away root with dpkg -x (no maintainer script runs: DKMS on
# the host is not touched), and checks what it ships:
#   - the DKMS source tree /usr/src/dbgkvm-VERSION: dkms.conf with this version, the
#     build glue, kmod/ and include/, and nothing else (no tests, no build output); and
#     `dkms build` of that very tree for Debian's 6.12 (scripts/dkms-check.sh --source);
#   - the udev rule (/dev/dbgkvm: group kvm, mode 0660), drwatch (runs: -h), every
#     tools/bpf/*.bt script, the man pages (each module parameter of kmod/glue is
#     documented in dbgkvm(4); man renders them without a warning);
#   - the control data: Depends on dkms and g++-12, dh_dkms's postinst and prerm;
#   - lintian: no error and no warning (packaging/debian/dbgkvm-dkms.lintian-overrides
#     says why each override is there).
# Prints one line per check and exits non-zero on any failure. Installs lintian and the
# build dependencies if missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/deb
ver=$("$root/scripts/version.sh")

if ! command -v lintian >/dev/null; then
	echo "deb-check: installing lintian"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian >/dev/null || exit 1
fi

t0=$SECONDS
bash "$root/scripts/deb.sh" "$out" >/dev/null || {
	echo "not ok - make deb failed (see $out/build.log)"
	exit 1
}
deb=$(ls "$out"/dbgkvm-dkms_"$ver"_*.deb)
echo "ok - built $(basename "$deb") ($((SECONDS - t0)) s, $(stat -c %s "$deb") bytes)"

tmp=$(mktemp -d /tmp/dbgkvm-deb-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/control"
r=$tmp/root
src=$r/usr/src/dbgkvm-$ver

failed=0
check() { # check DESCRIPTION COMMAND...: one line, ok or not ok
	local what=$1
	shift
	if "$@" >"$tmp/check.log" 2>&1; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		sed 's/^/#   /' "$tmp/check.log" | head -n 20
		failed=$((failed + 1))
	fi
}

files_present() {
	local f rc=0
	for f in "$@"; do
		[ -e "$r/$f" ] || { echo "missing: /$f"; rc=1; }
	done
	return $rc
}
src_tree_exact() { # only the build glue, kmod/ and include/ under /usr/src/dbgkvm-VERSION
	local extra
	extra=$(cd "$src" && find . -mindepth 1 -maxdepth 1 | sort | grep -vxE '\./(Makefile|VERSION|dkms\.conf|kmod|include|scripts)')
	extra+=$(cd "$src" && find scripts -type f | grep -vx scripts/uapi-headers.sh)
	extra+=$(cd "$src" && find . -name '*.o' -o -name '*.ko' -o -name '*.cmd')
	[ -z "$extra" ] || { echo "unexpected in /usr/src/dbgkvm-$ver: $extra"; return 1; }
	diff -r "$root/kmod" "$src/kmod" && diff -r "$root/include" "$src/include"
}
dkms_conf_ok() {
	local c=$src/dkms.conf
	# shellcheck disable=SC2016 # dkms.conf's own ${...}, literally
	if grep -qx "PACKAGE_VERSION=\"$ver\"" "$c" &&
		grep -qxF 'MAKE[0]="make module KERNEL=${kernelver} KDIR=${kernel_source_dir}"' "$c" &&
		grep -qxF 'BUILT_MODULE_LOCATION[0]="build/kmod-${kernelver}/"' "$c"; then
		return 0
	fi
	cat "$c"
	return 1
}
udev_rule_ok() {
	grep -qx 'KERNEL=="dbgkvm", GROUP="kvm", MODE="0660"' "$r/lib/udev/rules.d/65-dbgkvm.rules"
}
drwatch_runs() {
	[ -x "$r/usr/sbin/drwatch" ] && "$r/usr/sbin/drwatch" -h | grep -q '^usage: drwatch'
}
bt_scripts_all() {
	local f rc=0
	for f in "$root"/tools/bpf/*.bt; do
		cmp "$f" "$r/usr/share/dbgkvm/bpftrace/$(basename "$f")" || rc=1
	done
	return $rc
}
man_params_documented() { # every module_param_named of kmod/glue appears in dbgkvm(4)
	local p rc=0 page
	page=$(zcat "$r/usr/share/man/man4/dbgkvm.4.gz")
	while IFS= read -r p; do
		grep -q "^\.BR $p =1" <<<"$page" || { echo "dbgkvm(4) does not document $p"; rc=1; }
	done < <(sed -n 's/^module_param_named(\([a-z0-9_]*\),.*/\1/p' "$root"/kmod/glue/*.c)
	return $rc
}
man_renders_clean() {
	local m w
	for m in "$r/usr/share/man/man4/dbgkvm.4.gz" "$r/usr/share/man/man8/drwatch.8.gz"; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
		[ -z "$w" ] || { echo "$m: $w"; return 1; }
	done
}
control_ok() {
	local deps
	deps=$(sed -n 's/^Depends: //p' "$tmp/control/control")
	if grep -q 'dkms' <<<"$deps" && grep -q 'g++-12' <<<"$deps" &&
		grep -q 'dkms' "$tmp/control/postinst" && grep -q 'dkms' "$tmp/control/prerm"; then
		return 0
	fi
	echo "Depends: $deps"
	return 1
}

check "/usr/src/dbgkvm-$ver: Makefile, dkms.conf, scripts/uapi-headers.sh, kmod/Kbuild, the uapi header" \
	files_present "usr/src/dbgkvm-$ver/Makefile" "usr/src/dbgkvm-$ver/dkms.conf" \
	"usr/src/dbgkvm-$ver/scripts/uapi-headers.sh" "usr/src/dbgkvm-$ver/kmod/Kbuild" \
	"usr/src/dbgkvm-$ver/include/uapi/linux/dbgkvm.h"
check "/usr/src/dbgkvm-$ver holds only the build glue, kmod/ and include/ (as in the repository)" src_tree_exact
check "dkms.conf: PACKAGE_VERSION $ver, MAKE is the project's make module, module in build/kmod-\$kernelver/" dkms_conf_ok
check "/lib/udev/rules.d/65-dbgkvm.rules: KERNEL==\"dbgkvm\", GROUP=\"kvm\", MODE=\"0660\"" udev_rule_ok
check "/usr/sbin/drwatch runs (drwatch -h)" drwatch_runs
check "/usr/share/dbgkvm/bpftrace/: every tools/bpf/*.bt ($(cd "$root/tools/bpf" && echo *.bt))" bt_scripts_all
check "man pages dbgkvm(4) and drwatch(8) render without warnings" man_renders_clean
check "dbgkvm(4) documents every module parameter of kmod/glue" man_params_documented
check "control: Depends on dkms and g++-12; dh_dkms's postinst and prerm" control_ok

# The shipped tree builds: DKMS against Debian's 6.12 headers, in a throw-away tree.
if ! bash "$root/scripts/dkms-check.sh" --source "$src" 6.12 | sed 's/^\(ok - \|not ok - \)dkms build/\1dkms build of the package'"'"'s source:/'; then
	failed=$((failed + 1))
fi

lintian --fail-on error,warning -I "$deb" 2>&1 | grep -v 'running with root privileges' >"$tmp/lintian.log"
lrc=${PIPESTATUS[0]}
if [ "$lrc" = 0 ]; then
	echo "ok - lintian $(dpkg-query -W -f='${Version}' lintian): no error, no warning, $(grep -c '^I: ' "$tmp/lintian.log") info tags"
else
	echo "not ok - lintian (exit $lrc)"
	sed 's/^/#   /' "$tmp/lintian.log"
	failed=$((failed + 1))
fi
[ "$failed" = 0 ]
