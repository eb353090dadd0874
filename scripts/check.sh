#!/bin/bash
# make check: everything, in order, each step counted. The last line is
# "N passed, N failed" over all steps (a step that runs many tests counts each).
# Runs on a fresh Debian 12 machine after `make setup` (the Makefile does that first).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/check
mkdir -p "$OUT"
passed=0 failed=0
t_start=$SECONDS

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1"; failed=$((failed + 1)); }

# step NAME CMD...: run, log to build/check/NAME.log, count as one test.
step() {
	local name=$1
	shift
	local t0=$SECONDS
	if "$@" >"$OUT/$name.log" 2>&1; then
		ok "$name ($((SECONDS - t0)) s)"
	else
		fail "$name ($((SECONDS - t0)) s): see build/check/$name.log"
		tail -n 20 "$OUT/$name.log" | sed 's/^/#   /'
		return 1
	fi
}

# A build is clean when it prints no compiler, sparse, objtool or modpost warning.
clean_build() {
	local k=$1
	rm -rf "$ROOT/build/kmod-$k"
	make -s module KERNEL="$k" KMAKEFLAGS="W=1 C=2" 2>&1 | tee "$OUT/build-$k.raw"
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	if grep -E 'warning|error|WARNING' "$OUT/build-$k.raw" | grep -v 'Skipping BTF generation'; then
		echo "build for $k printed warnings" >&2
		return 1
	fi
	test -f "$ROOT/build/kmod-$k/dbgkvm.ko"
}

echo "# dbgkvm make check"
for k in 6.1 6.12; do
	step "build-$k-W1-sparse-objtool" clean_build "$k"
done

# Host unit tests: each GoogleTest case is one CTest test; count them.
if step unit-build bash -c "cmake -S tests/unit -B build/unit -DCMAKE_BUILD_TYPE=Debug && cmake --build build/unit -j2"; then
	(cd build/unit && ctest -j2 --output-on-failure) >"$OUT/unit.log" 2>&1
	summary=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$OUT/unit.log" | tail -n1)
	total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
	nfail=$(sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/' <<<"$summary")
	if [ -z "$summary" ]; then
		fail "unit tests: no summary (see build/check/unit.log)"
	else
		echo "# unit: $summary"
		passed=$((passed + total - nfail))
		failed=$((failed + nfail))
		[ "$nfail" = 0 ] || grep -E '^\s+[0-9]+ - .*\(Failed\)' "$OUT/unit.log" | sed 's/^/#   /'
	fi
fi

step test-binaries-build make -s testbins  # selftests + tools/bpf (drwatch_test)
step bpf-host-checks make -s -C tools/bpf check O="$ROOT/build/bpf"

# The emulated machines. Each run prints TAP and "N passed, N failed".
vmtest() {
	local vm=$1 k=$2 target=$3 name="vmtest-$1-$2-$3"
	local t0=$SECONDS
	bash scripts/vmtest.sh --vm "$vm" --kernel "$k" --target "$target" \
		--module "$ROOT/build/kmod-$k/dbgkvm.ko" --tests "$ROOT/build/tests" \
		--out "$ROOT/build/vmtest/$vm-$k-$target" >"$OUT/$name.log" 2>&1
	local rc=$?
	grep -E '^(# |[a-z_]+: (not ok|# ))' "$OUT/$name.log" | grep -v ': # totals' | head -n 40
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$name.log" | tail -n1)
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	if [ -z "$line" ]; then
		fail "$name: no result line (rc $rc, see build/check/$name.log)"
		return
	fi
	echo "# $name: $line ($((SECONDS - t0)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		fail "$name exited $rc"
	fi
}

for k in 6.1 6.12; do
	for target in dbgkvm kvm; do
		vmtest qemu-svm "$k" "$target"
	done
done

# Intel VMX under Bochs, against dbgkvm and against Debian's kvm_intel in the same
# machine. Bochs is slow, so it runs what exercises the VMX backend: the ABI and exits,
# the three CPU modes, hotplug, coexistence, migration (VMCLEAR/VMPTRLD, with the guest's
# DR0 checked at every step) and the debug-register tests. The vendor-neutral rest
# (lifetime's thread and signal timing, the seed reproducers' thousands of switches,
# drwatch, the benchmark) is judged on QEMU. Bochs 2.7 has known gaps
# (shared/reference/test-machines.md: single-step right after VM entry, STI shadows), so
# a test is judged there by agreement: a failure counts only if kvm_intel passes it.
BOCHS_TESTS=dev_test,vm_test,vcpu_test,exits_test,modes_test,hotplug_test,coexist_test
BOCHS_TESTS+=,migrate_test,debug_test,guestdr_test,emul_debug_test
bochs_run() {
	local target=$1 name="vmtest-bochs-vmx-6.12-$1"
	local t0=$SECONDS
	bash scripts/vmtest.sh --vm bochs-vmx --kernel 6.12 --target "$target" \
		--module "$ROOT/build/kmod-6.12/dbgkvm.ko" --tests "$ROOT/build/tests" \
		--only "$BOCHS_TESTS" --timeout 1200 --out "$ROOT/build/vmtest/bochs-vmx-6.12-$target" \
		>"$OUT/$name.log" 2>&1
	echo "# $name: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$name.log" | tail -n1)" \
		"($((SECONDS - t0)) s)"
}
failed_names() { # the "binary: test" names of the failures in a vmtest log
	sed -n -E 's/^([a-z_]+): not ok ([0-9]+ )?- ([A-Za-z0-9_]+).*/\1: \3/p' "$1" | sort -u
}
bochs_run kvm
bochs_run dbgkvm
klog=$OUT/vmtest-bochs-vmx-6.12-kvm.log dlog=$OUT/vmtest-bochs-vmx-6.12-dbgkvm.log
dline=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dlog" | tail -n1)
if [ -z "$dline" ] || ! grep -q 'end of run' "$ROOT/build/vmtest/bochs-vmx-6.12-dbgkvm/serial.log"; then
	fail "bochs-vmx dbgkvm: the run did not finish (see build/check/vmtest-bochs-vmx-6.12-dbgkvm.log)"
else
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$dline")
	passed=$((passed + p))
	while IFS= read -r t; do
		[ -n "$t" ] || continue
		if failed_names "$klog" | grep -qxF "$t"; then
			ok "bochs-vmx $t: fails with kvm_intel too (a Bochs gap)"
		else
			fail "bochs-vmx $t: fails with dbgkvm, passes with kvm_intel"
		fi
	done < <(failed_names "$dlog")
	grep -E '^complaint' "$dlog" | while IFS= read -r c; do echo "# $c"; done
	if grep -qE '^complaint' "$dlog"; then
		fail "bochs-vmx dbgkvm: kernel complaints or runner failures"
	fi
fi

# Fault injection: each knob re-creates one historical bug; the run passes when exactly
# the tests written for that bug fail (and the knob's warning line was printed).
knob_run() {
	local knob=$1 expect=$2 name="knob-$1"
	local t0=$SECONDS
	bash scripts/vmtest.sh --vm qemu-svm --kernel 6.1 --target dbgkvm \
		--module "$ROOT/build/kmod-6.1/dbgkvm.ko" --tests "$ROOT/build/tests" \
		--only debug_test,guestdr_test,dr_switch_test,emul_debug_test \
		--append "dbgkvm.$knob=1" --out "$ROOT/build/vmtest/$name" >"$OUT/$name.log" 2>&1
	local failed_tests
	failed_tests=$(sed -n -E 's/^[a-z_]+: not ok [0-9]+ - ([A-Za-z0-9_]+).*/\1/p' "$OUT/$name.log" |
		sort | paste -sd, -)
	if ! grep -q "fault injection on: $knob" "$ROOT/build/vmtest/$name/serial.log"; then
		fail "$name: no warning line for the knob in the kernel log"
	elif [ "$failed_tests" = "$expect" ]; then
		ok "$name: caught by $expect ($((SECONDS - t0)) s)"
	else
		fail "$name: expected exactly $expect to fail, got '${failed_tests:-nothing}'"
	fi
}

knob_run no_reload_on_load \
	seed000_vcpus_sharing_one_cpu_keep_their_breakpoints,seed003_ptrace_breakpoint_next_to_vcpus_on_one_cpu
knob_run svm_clobber_guest_dr6 seed001_debug_exits_keep_guest_dr6_and_do_not_accumulate
knob_run skip_code_bp_check seed004_emul_guest_code_bp_checked_under_userspace_hw_bp
knob_run single_cause_on_coincident seed002_emul_single_step_and_code_bp_coincide

echo "# make check took $((SECONDS - t_start)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
