#!/bin/bash
# bench-guard.sh: dbgkvm must not cost more than Linux's KVM. Compares the figures of
# two bench_test runs (scripts/vmtest.sh logs, lines "bench_test: # BENCH <name> <ns per
# op> ..."), one against dbgkvm and one against KVM, booted with the same kernel and
# options under QEMU's -icount shift=0, where a figure is a count of guest instructions
# that repeats from boot to boot (bench_test takes the median of timed chunks, leaving out
# the chunks a timer interrupt hit). So this is a ratio check, not a timing test: there is
# no tolerance and no retry.
#
#   scripts/bench-guard.sh --kernel K --dbgkvm LOG --kvm LOG [--out FILE]
#
# Prints a table (name, dbgkvm, kvm, dbgkvm/kvm), then one line per benchmark:
# "ok - bench K NAME: ..." when dbgkvm's figure is at most KVM's, "not ok - ..." when it
# is above, or when either figure is missing (a benchmark that could not be measured,
# or whose checks failed, prints no figure). A run that reported a failure (a failed test,
# a kernel complaint, no end marker) adds a "not ok" line of its own. --out FILE gets the
# table. Exit status: 0 if every line is ok, else 1.
set -uo pipefail

# Every benchmark bench_test has: one that prints no figure fails.
BENCHMARKS=(pio_roundtrip cpuid_long64 cpuid_real mmio_roundtrip pio_bp_enabled pio_wont_exit vcpu_switch)

die() {
	echo "bench-guard: $*" >&2
	exit 2
}

kernel='' dlog='' klog='' out=''
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case "$1" in
	--kernel) kernel=$2 ;;
	--dbgkvm) dlog=$2 ;;
	--kvm) klog=$2 ;;
	--out) out=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
if [ -z "$kernel" ] || [ -z "$dlog" ] || [ -z "$klog" ]; then
	die "--kernel, --dbgkvm and --kvm are required"
fi

declare -A fig=() # fig[TARGET:NAME]
names=("${BENCHMARKS[@]}")
verdicts=()
nfail=0
not_ok() {
	verdicts+=("not ok - bench $kernel $1")
	nfail=$((nfail + 1))
}

# read_log TARGET LOG: its figures into fig; a run-level failure is a "not ok".
read_log() {
	local t=$1 log=$2 name value header result rel
	if [ ! -s "$log" ]; then
		not_ok "$t run: no log $log"
		return
	fi
	header=$(grep -m1 '^==== vmtest:' "$log")
	if ! grep -q " kernel=$kernel (.* target=$t " <<<"$header"; then
		not_ok "$t run: $log is not a $kernel $t run (${header:-no header})"
		return
	fi
	rel=$(sed -E 's/.* kernel=[^ ]+ \(([^)]+)\).*/\1/' <<<"$header")
	release=${release:-$rel}
	while read -r name value; do
		fig["$t:$name"]=$value
		case " ${names[*]} " in *" $name "*) ;; *) names+=("$name") ;; esac
	done < <(sed -n -E 's/^bench_test: # BENCH ([A-Za-z0-9_]+) ([0-9]+)( .*)?$/\1 \2/p' "$log")
	result=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	if [ -z "$result" ]; then
		not_ok "$t run: no result line (see $log)"
	elif ! grep -qE '^[0-9]+ passed, 0 failed' <<<"$result"; then
		not_ok "$t run: $result (see $log)"
	fi
}
release=''
read_log dbgkvm "$dlog"
read_log kvm "$klog"

rows=()
for n in "${names[@]}"; do
	d=${fig["dbgkvm:$n"]:-} k=${fig["kvm:$n"]:-}
	if [ -z "$d" ] || [ -z "$k" ]; then
		ratio=-
		not_ok "$n: not measured (dbgkvm ${d:-none}, kvm ${k:-none})"
	else
		ratio=$(awk -v d="$d" -v k="$k" 'BEGIN { if (k > 0) printf "%.3f", d / k; else print "inf" }')
		if [ "$d" -le "$k" ]; then
			verdicts+=("ok - bench $kernel $n: dbgkvm $d <= kvm $k ($((d - k)), x$ratio)")
		else
			not_ok "$n: dbgkvm $d > kvm $k (+$((d - k)) instructions, x$ratio)"
		fi
	fi
	rows+=("$n ${d:--} ${k:--} $ratio")
done

table() {
	echo "# bench_test, kernel $kernel${release:+ ($release)}, QEMU -icount shift=0: guest instructions per operation"
	printf '%-16s %8s %8s %7s\n' name dbgkvm kvm ratio
	printf '%s\n' "${rows[@]}" | while read -r n d k r; do
		printf '%-16s %8s %8s %7s\n' "$n" "$d" "$k" "$r"
	done
}
if [ -n "$out" ]; then
	mkdir -p "$(dirname "$out")"
	table >"$out"
fi
table
printf '%s\n' "${verdicts[@]}"
echo "# bench $kernel: $((${#verdicts[@]} - nfail)) ok, $nfail not ok"
[ "$nfail" = 0 ]
