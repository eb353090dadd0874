#!/bin/bash
# bench.sh: bench_test under QEMU's -icount shift=0 (1 ns of guest clock = 1 instruction:
# the figures repeat from run to run), once against dbgkvm and once against Debian's KVM
# (kvm_amd), in the same machine with the same kernel and options, one boot after the
# other; then scripts/bench-guard.sh compares them. `make bench KERNEL=..` runs this.
#
#   scripts/bench.sh --kernel 6.1|6.12 [--target dbgkvm|kvm] [--module PATH] [--tests DIR]
#       [--log FILE] [--out DIR]
#   scripts/bench.sh --vmtest-args     print the vmtest.sh options of a bench run
#
# With both targets (the default): logs build/bench-K-T.log, consoles under
# build/bench/K-T/, results in build/bench/K.txt, and the exit status of bench-guard.sh
# (non-zero when any dbgkvm figure is above KVM's, or a figure is missing, or a run
# failed). With --target: that one run (--log, --out: where), vmtest.sh's exit status.
#
# cryptomgr.notests keeps the crypto self-tests (6.12's RSA test runs for seconds after
# boot) off the other vCPU: the guest clock counts the instructions of both vCPUs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VMTEST_ARGS=(--icount --no-harden --append cryptomgr.notests --only bench_test)

die() {
	echo "bench: $*" >&2
	exit 2
}

kernel='' targets=(dbgkvm kvm) module='' tests=$root/build/tests log='' out=''
while [ $# -gt 0 ]; do
	case "$1" in
	--vmtest-args)
		echo "${VMTEST_ARGS[*]}"
		exit 0
		;;
	--kernel | --target | --module | --tests | --log | --out)
		[ $# -ge 2 ] || die "$1 needs a value"
		case "$1" in
		--kernel) kernel=$2 ;;
		--target) targets=("$2") ;;
		--module) module=$2 ;;
		--tests) tests=$2 ;;
		--log) log=$2 ;;
		--out) out=$2 ;;
		esac
		shift 2
		;;
	-h | --help)
		sed -n '7,9p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
case "$kernel" in 6.1 | 6.12) ;; *) die "--kernel 6.1|6.12 is required" ;; esac
: "${module:=$root/build/kmod-$kernel/dbgkvm.ko}"
if [ ${#targets[@]} -gt 1 ] && { [ -n "$log" ] || [ -n "$out" ]; }; then
	die "--log and --out go with --target"
fi

# run TARGET LOG OUTDIR: one boot; vmtest.sh's exit status.
run() {
	local t=$1 log=$2 dir=$3
	mkdir -p "$(dirname "$log")"
	bash "$root/scripts/vmtest.sh" --vm qemu-svm --kernel "$kernel" --target "$t" \
		"${VMTEST_ARGS[@]}" --module "$module" --tests "$tests" --out "$dir" >"$log" 2>&1
}

if [ ${#targets[@]} = 1 ]; then
	t=${targets[0]}
	case "$t" in dbgkvm | kvm) ;; *) die "--target dbgkvm|kvm" ;; esac
	run "$t" "${log:-$root/build/bench-$kernel-$t.log}" "${out:-$root/build/bench/$kernel-$t}"
	exit
fi

# Both, one after the other (one emulated machine at a time: the figures do not depend on
# it, the wall time does). A failed run is reported by the guard, with the other's figures.
for t in dbgkvm kvm; do
	t0=$SECONDS
	if run "$t" "$root/build/bench-$kernel-$t.log" "$root/build/bench/$kernel-$t"; then
		echo "bench: $kernel $t: $((SECONDS - t0)) s, log build/bench-$kernel-$t.log"
		sed -n 's/^bench_test: # BENCH /  /p' "$root/build/bench-$kernel-$t.log"
	else
		echo "bench: $kernel $t: the run FAILED ($((SECONDS - t0)) s), log build/bench-$kernel-$t.log:"
		grep -E 'not ok|^complaint|^[0-9]+ passed' "$root/build/bench-$kernel-$t.log" | sed 's/^/bench:   /'
	fi
done
exec bash "$root/scripts/bench-guard.sh" --kernel "$kernel" \
	--dbgkvm "$root/build/bench-$kernel-dbgkvm.log" --kvm "$root/build/bench-$kernel-kvm.log" \
	--out "$root/build/bench/$kernel.txt"
