#!/bin/bash
# qemu-mttcg-repro.sh [RUNS]: shows QEMU's multi-threaded TCG breaking nested SVM
# (kmod/svm/README.md, "QEMU's multi-threaded TCG"), without dbgkvm. It boots the
# qemu-svm machine with Debian's kvm_amd as the hypervisor and runs migrate_test (a vCPU
# thread moved between the two CPUs 4,000 times) RUNS times (default 10) under MTTCG, and
# RUNS times with thread=single, then prints how many runs of each failed. Under MTTCG some
# runs end in KVM_EXIT_SHUTDOWN (a triple fault); with thread=single none do.
# Needs `make setup` and `make testbins`. Exit status: 0 when it reproduced (MTTCG failed
# at least once, thread=single never), 1 otherwise.
set -uo pipefail
runs=${1:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/qemu-mttcg-repro
[ -x "$root/build/tests/migrate_test" ] || { echo "run make testbins first" >&2; exit 2; }
mkdir -p "$out"
declare -A fails
for mode in mttcg single; do
	fails[$mode]=0
	for i in $(seq "$runs"); do
		opt=()
		[ "$mode" = single ] || opt=(--mttcg)
		log=$out/$mode-$i.log
		if bash "$root/scripts/vmtest.sh" --vm qemu-svm --kernel 6.12 --target kvm \
			--tests "$root/build/tests" --only migrate_test --out "$out/$mode-$i" \
			"${opt[@]}" >"$log" 2>&1; then
			echo "$mode run $i: passed"
		else
			fails[$mode]=$((fails[$mode] + 1))
			why=$(grep -m1 -E 'got KVM_EXIT|timed out|complaint' "$log" || grep -m1 'not ok' "$log")
			echo "$mode run $i: FAILED: $why"
		fi
	done
done
echo "MTTCG: ${fails[mttcg]} of $runs runs failed; thread=single: ${fails[single]} of $runs runs failed"
[ "${fails[mttcg]}" -gt 0 ] && [ "${fails[single]}" = 0 ]
