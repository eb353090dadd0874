#!/bin/bash
# reboot-check.sh KERNEL MODULE TESTS OUTDIR
# Powers a qemu-svm machine off while a vCPU of dbgkvm is inside KVM_RUN
# (selftests/reboot_test.cpp) and reads its console: the reboot notifier must have
# taken virtualization off every CPU, the kernel must reach "Power down", and nothing
# may complain (oops, WARNING, BUG, a hung task) on the way.
set -uo pipefail
kver=$1 module=$2 tests=$3 out=$4
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"
bash "$root/scripts/vmtest.sh" --vm qemu-svm --kernel "$kver" --target dbgkvm \
	--module "$module" --tests "$tests" --only reboot_test --timeout 180 --out "$out" \
	>"$out.log" 2>&1
serial=$out/serial.log
rc=0
need() {
	if grep -q -- "$1" "$serial"; then echo "ok - $kver: $2"; else
		echo "not ok - $kver: $2 (no \"$1\" in $serial)"
		rc=1
	fi
}
need 'powering off with a vCPU in KVM_RUN' 'a vCPU was in KVM_RUN when the machine powered off'
need 'dbgkvm: virtualization off on every CPU' 'the reboot notifier took virtualization off every CPU'
need 'reboot: Power down' 'the kernel powered down'
if [ ! -f "$serial" ] || sed -n '/vmtest: run reboot_test/,$p' "$serial" |
	grep -E 'Oops|WARNING:|BUG:|Call Trace|blocked for more than|general protection'; then
	echo "not ok - $kver: the kernel complained on the way down"
	rc=1
else
	echo "ok - $kver: no complaint on the way down"
fi
exit $rc
