#!/bin/bash
# make check: everything, in order, each step counted. The last line is
# "N passed, N failed" over all steps (a step that runs many tests counts each).
# Runs on a fresh Debian 12 machine after `make setup` (the Makefile does that first).
#
# The emulated machines are single-threaded (Bochs always; QEMU runs with
# thread=single, see scripts/vmtest.sh), so they run side by side, one per host CPU
# (CHECK_JOBS to change that), longest first. Their results are judged afterwards, in a
# fixed order, so the output reads the same whatever finished first. The last lines give
# the time of each ring.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/check
rm -rf "$OUT"
mkdir -p "$OUT"
passed=0 failed=0
t_start=$SECONDS
ring_times=()

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
t0=$SECONDS
for k in 6.1 6.12; do
	step "build-$k-W1-sparse-objtool" clean_build "$k"
done
ring_times+=("builds (W=1, sparse, objtool): $((SECONDS - t0)) s")

# Speculative-execution mitigations at entry/exit, against the target kernel's own KVM
# (no emulator models speculation): every mitigation KVM's entry/exit uses is matched or
# classified in the script, so a kernel that adds one is noticed.
t0=$SECONDS
for k in 6.1 6.12; do
	step "mitigations-vs-kvm-$k" scripts/mitigations-check.sh "$k"
done
ring_times+=("mitigations vs KVM's sources: $((SECONDS - t0)) s")

# Installable: DKMS builds the module through the project's own build (its MAKE line is
# `make module`) for Debian's 6.1 and 6.12, in a throw-away DKMS tree, with the vermagic
# of the kernel's own kvm.ko; the Debian package dbgkvm-dkms is built, unpacked into a
# throw-away root (no maintainer script runs), its files checked, its DKMS source built
# for 6.12, and linted (scripts/dkms-check.sh, scripts/deb-check.sh).
t0=$SECONDS
step dkms-build-6.1-6.12 bash scripts/dkms-check.sh &&
	grep -E '^(not )?ok - ' "$OUT/dkms-build-6.1-6.12.log" | sed 's/^/# /'
step deb-dbgkvm-dkms bash scripts/deb-check.sh &&
	grep -E '^(not )?ok - ' "$OUT/deb-dbgkvm-dkms.log" | sed 's/^/# /'
ring_times+=("DKMS and the Debian package: $((SECONDS - t0)) s")

# Host unit tests: each GoogleTest case is one CTest test; count them.
t0=$SECONDS
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
ring_times+=("host unit tests: $((SECONDS - t0)) s")

# Unit fuzzing of the pure C++ (libFuzzer under ASan and UBSan, tests/fuzz/): a short run
# of every harness from the corpus in the repo; `make fuzz-unit FUZZ_UNIT_SECONDS=N` for more.
t0=$SECONDS
step fuzz-unit env FUZZ_UNIT_SECONDS="${FUZZ_UNIT_SECONDS:-20}" bash scripts/fuzz-unit.sh &&
	grep -E '^(not )?ok - fuzz-unit' "$OUT/fuzz-unit.log" | sed 's/^/# /'
ring_times+=("unit fuzzing (libFuzzer): $((SECONDS - t0)) s")

t0=$SECONDS
step test-binaries-build make -s testbins # selftests + tools/bpf (drwatch_test)
step bpf-host-checks make -s -C tools/bpf check O="$ROOT/build/bpf"
# The machines' kernels, unpacked once here: the runs below start at the same time.
step kernel-images bash -c 'scripts/kernel-pkg.sh image-dir 6.1 && scripts/kernel-pkg.sh image-dir 6.12'
ring_times+=("test binaries, BPF checks, kernel images: $((SECONDS - t0)) s")

# The debug kernel (scripts/debug-kernel.sh): Debian's 6.12 source with KASAN, KFENCE,
# lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, kmemleak. Built once per machine
# (its build time is printed here), then cached outside the repo; dbgkvm is built against
# it like against Debian's headers, warnings and all, C++ instrumented too.
t0=$SECONDS
step debug-kernel scripts/debug-kernel.sh build &&
	grep -h 'debug-kernel: built' "$OUT/debug-kernel.log" | sed 's/^/# /'
step build-debug-W1-sparse-objtool clean_build debug
ring_times+=("debug kernel (built once per machine, then cached) and dbgkvm against it: $((SECONDS - t0)) s")

# Linux's own KVM selftests, built unmodified from Debian's linux-source-6.1 and -6.12 (the
# headers' version, cached per version): judged by other people's tests.
t0=$SECONDS
for k in 6.1 6.12; do
	step "upstream-selftests-$k" scripts/upstream-selftests.sh "$k" "$ROOT/build/upstream-$k" &&
		grep -h '^upstream-selftests:' "$OUT/upstream-selftests-$k.log" | sed 's/^/# /'
done
ring_times+=("Linux's KVM selftests, built: $((SECONDS - t0)) s")

# Power-off with a vCPU inside KVM_RUN: the reboot notifier stops it and takes
# virtualization off every CPU, with no complaint (one short qemu-svm boot per kernel).
t0=$SECONDS
for k in 6.1 6.12; do
	step "poweroff-with-vcpu-running-$k" scripts/reboot-check.sh "$k" \
		"$ROOT/build/kmod-$k/dbgkvm.ko" "$ROOT/build/tests" "$OUT/reboot-$k"
done
ring_times+=("power-off with a VM running: $((SECONDS - t0)) s")

# --- The emulated machines ------------------------------------------------------------
# Intel VMX under Bochs, against dbgkvm and against Debian's kvm_intel in the same
# machine. Bochs is slow, so it runs what exercises the VMX backend: the ABI and exits,
# the three CPU modes, hotplug, coexistence, migration (VMCLEAR/VMPTRLD, with the guest's
# DR0 checked at every step), the debug-register tests, and the CPUID topology on an
# Intel CPU (leaf 4, leaves beyond the maximum: topology_test). The vendor-neutral rest
# (lifetime's thread and signal timing, the seed reproducers' thousands of switches,
# drwatch, the benchmark) is judged on QEMU. Bochs 2.7 has known gaps
# (shared/reference/test-machines.md: single-step right after VM entry, STI shadows), so
# a test is judged there by agreement: a failure counts only if kvm_intel passes it.
BOCHS_TESTS=dev_test,vm_test,vcpu_test,exits_test,modes_test,hotplug_test,coexist_test
BOCHS_TESTS+=,migrate_test,debug_test,guestdr_test,emul_debug_test,step_test,hostile_test,accounting_test
BOCHS_TESTS+=,topology_test,cpuid2_test,msr_test,events_test,fpu_test,strio_test
QEMU_RUNS=(6.1-dbgkvm 6.1-kvm 6.12-dbgkvm 6.12-kvm)
# The debug-kernel ring: every selftest on the debug kernel, against dbgkvm and KVM. Any
# KASAN, KFENCE, lockdep, RCU, atomic-sleep, object-debug or SLUB report fails the run, as
# does a kmemleak leak through module text after rmmod (scripts/vm/init.sh).
DEBUG_RUNS=(debug-dbgkvm debug-kvm)
# The fuzz ring: fuzz_test (selftests/fuzz/) on the debug kernel against dbgkvm (its
# compare test loads KVM there too and runs the same streams on both), then against KVM
# alone on Debian's 6.12 (KVM creates VMs too slowly under KASAN for the budget); both
# must survive, each run must reach the budget below.
FUZZ_RUNS=(debug-dbgkvm 6.12-kvm)
FUZZ_MIN_IOCTLS=100000 FUZZ_MIN_GUEST_INSNS=1000000
# Fault injection: each knob re-creates one historical bug, and exactly these tests must
# fail under it.
KNOB_TESTS=debug_test,guestdr_test,dr_switch_test,emul_debug_test
KNOBS=(no_reload_on_load svm_clobber_guest_dr6 skip_code_bp_check single_cause_on_coincident)
declare -A KNOB_CATCHES=(
	[no_reload_on_load]=seed000_vcpus_sharing_one_cpu_keep_their_breakpoints,seed003_ptrace_breakpoint_next_to_vcpus_on_one_cpu
	[svm_clobber_guest_dr6]=seed001_debug_exits_keep_guest_dr6_and_do_not_accumulate
	[skip_code_bp_check]=seed004_emul_guest_code_bp_checked_under_userspace_hw_bp
	[single_cause_on_coincident]=seed002_emul_single_step_and_code_bp_coincide
)

# job NAME VM KERNEL TARGET [vmtest.sh options]: one machine run, logged to
# build/check/NAME.log, its console under build/vmtest/NAME.
job() {
	local name=$1 vm=$2 k=$3 target=$4
	shift 4
	local t0=$SECONDS
	bash scripts/vmtest.sh --vm "$vm" --kernel "$k" --target "$target" \
		--module "$ROOT/build/kmod-$k/dbgkvm.ko" --tests "$ROOT/build/tests" \
		--out "$ROOT/build/vmtest/$name" "$@" >"$OUT/$name.log" 2>&1
	echo "$? $((SECONDS - t0))" >"$OUT/$name.status"
}

# Longest first, so that the last job to start is a short one.
JOBS=(
	"bochs-vmx-6.12-kvm bochs-vmx 6.12 kvm --only $BOCHS_TESTS --timeout 2400"
	"bochs-vmx-6.12-dbgkvm bochs-vmx 6.12 dbgkvm --only $BOCHS_TESTS --timeout 2400"
)
for r in "${DEBUG_RUNS[@]}"; do
	JOBS+=("qemu-svm-$r qemu-svm ${r%-*} ${r#*-} --timeout 2700")
done
# The seed: a fixed one, so that a red check is the commit's doing and replays exactly
# (FUZZ_SEED to choose another; `make fuzz` draws a new one each run). The run prints it,
# and a failure its replay line.
FUZZ_SEED=${FUZZ_SEED:-0x9ae608db1809}
# KVM's run keeps one seed that it survives: the fuzzer is here to find dbgkvm's bugs, and
# another seed has hit a WARNING in Debian's 6.12.117 KVM (README, Fuzzing).
FUZZ_KVM_SEED=${FUZZ_KVM_SEED:-0x328aeec51aec}
for r in "${FUZZ_RUNS[@]}"; do
	seed=$FUZZ_SEED
	[ "${r#*-}" != kvm ] || seed=$FUZZ_KVM_SEED
	JOBS+=("fuzz-$r qemu-svm ${r%-*} ${r#*-} --only fuzz_test --test-timeout 1500 --append fuzz.seed=$seed")
done
for r in "${QEMU_RUNS[@]}"; do
	JOBS+=("qemu-svm-$r qemu-svm ${r%-*} ${r#*-}")
done
# Linux's KVM selftests (upstream_test), against dbgkvm and against KVM on each kernel.
UPSTREAM_RUNS=(6.1-dbgkvm 6.1-kvm 6.12-dbgkvm 6.12-kvm)
for r in "${UPSTREAM_RUNS[@]}"; do
	JOBS+=("upstream-$r qemu-svm ${r%-*} ${r#*-} --tests $ROOT/build/upstream-${r%-*}")
done
for knob in "${KNOBS[@]}"; do
	JOBS+=("knob-$knob qemu-svm 6.1 dbgkvm --only $KNOB_TESTS --append dbgkvm.$knob=1")
done
# The benchmark: bench_test under -icount (scripts/bench.sh's vmtest options), against
# dbgkvm and against KVM on each kernel, one boot each (short: last); judged afterwards by
# scripts/bench-guard.sh, one test per benchmark and kernel.
BENCH_KERNELS=(6.1 6.12)
BENCH_ARGS=$(bash scripts/bench.sh --vmtest-args)
for k in "${BENCH_KERNELS[@]}"; do
	for t in dbgkvm kvm; do
		JOBS+=("bench-$k-$t qemu-svm $k $t $BENCH_ARGS")
	done
done

slots=${CHECK_JOBS:-$(nproc)}
[ "$slots" -ge 1 ] 2>/dev/null || slots=1
echo "# machine runs: ${#JOBS[@]}, $slots at a time"
t_machines=$SECONDS
running=0
for j in "${JOBS[@]}"; do
	if [ "$running" -ge "$slots" ]; then
		wait -n
		running=$((running - 1))
	fi
	# shellcheck disable=SC2086 # the job line is split into its words on purpose
	job $j &
	running=$((running + 1))
done
wait
t_machines=$((SECONDS - t_machines))

status_of() { cut -d' ' -f1 "$OUT/$1.status" 2>/dev/null || echo 125; }
time_of() { cut -d' ' -f2 "$OUT/$1.status" 2>/dev/null || echo 0; }

# The qemu-svm runs print TAP and "N passed, N failed": every test counts.
judge_qemu() {
	local name=$1 rc line p f
	rc=$(status_of "$name")
	grep -E '^(# |[a-z_]+: (not ok|# ))' "$OUT/$name.log" | grep -v ': # totals' | head -n 40
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$name.log" | tail -n1)
	if [ -z "$line" ]; then
		fail "vmtest-$name: no result line (rc $rc, see build/check/$name.log)"
		return
	fi
	echo "# vmtest-$name: $line ($(time_of "$name") s)"
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		fail "vmtest-$name exited $rc"
	fi
}
# judge_ring WHAT PREFIX RUN...: judges the runs PREFIX-RUN and records their machine time.
judge_ring() {
	local what=$1 prefix=$2 r t=0
	shift 2
	for r in "$@"; do
		judge_qemu "$prefix-$r"
		t=$((t + $(time_of "$prefix-$r")))
	done
	ring_times+=("$what, $# runs: $t s of machine time")
}
judge_ring "qemu-svm (AMD SVM)" qemu-svm "${QEMU_RUNS[@]}"
judge_ring "debug kernel (qemu-svm)" qemu-svm "${DEBUG_RUNS[@]}"
judge_ring "Linux's KVM selftests (qemu-svm)" upstream "${UPSTREAM_RUNS[@]}"

# A fuzz run passes when fuzz_test passed, the machine saw no complaint, and its summary
# line shows the budget reached.
judge_fuzz() {
	local name=$1 line n_ioctls n_insns
	judge_qemu "$name"
	line=$(grep -E '^fuzz_test: # fuzz: ' "$OUT/$name.log" | tail -n1)
	n_ioctls=$(sed -nE 's/.* ioctls=([0-9]+).*/\1/p' <<<"$line")
	n_insns=$(sed -nE 's/.* guest_insns=([0-9]+).*/\1/p' <<<"$line")
	if [ -z "$line" ]; then
		fail "$name: no '# fuzz:' summary line"
	elif [ "${n_ioctls:-0}" -ge "$FUZZ_MIN_IOCTLS" ] && [ "${n_insns:-0}" -ge "$FUZZ_MIN_GUEST_INSNS" ]; then
		ok "$name: budget reached (${line#fuzz_test: # fuzz: })"
	else
		fail "$name: budget not reached: ${line#fuzz_test: # fuzz: } (want ioctls >= $FUZZ_MIN_IOCTLS, guest_insns >= $FUZZ_MIN_GUEST_INSNS)"
	fi
}
t_fuzz=0
for r in "${FUZZ_RUNS[@]}"; do
	judge_fuzz "fuzz-$r"
	t_fuzz=$((t_fuzz + $(time_of "fuzz-$r")))
done
ring_times+=("fuzz (fuzz_test on the debug kernel), ${#FUZZ_RUNS[@]} runs: $t_fuzz s of machine time")

failed_names() { # the "binary: test" names of the failures in a vmtest log
	sed -n -E 's/^([a-z_]+): not ok ([0-9]+ )?- ([A-Za-z0-9_]+).*/\1: \3/p' "$1" | sort -u
}
for t in kvm dbgkvm; do
	echo "# vmtest-bochs-vmx-6.12-$t: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/bochs-vmx-6.12-$t.log" |
		tail -n1) ($(time_of "bochs-vmx-6.12-$t") s)"
done
klog=$OUT/bochs-vmx-6.12-kvm.log dlog=$OUT/bochs-vmx-6.12-dbgkvm.log
dline=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dlog" | tail -n1)
if [ -z "$dline" ] || ! grep -q 'end of run' "$ROOT/build/vmtest/bochs-vmx-6.12-dbgkvm/serial.log"; then
	fail "bochs-vmx dbgkvm: the run did not finish (see build/check/bochs-vmx-6.12-dbgkvm.log)"
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
ring_times+=("bochs-vmx (Intel VMX), 2 runs: $(($(time_of bochs-vmx-6.12-kvm) + $(time_of bochs-vmx-6.12-dbgkvm))) s of machine time")

# A knob's run passes when exactly its tests fail (and its warning line was printed).
judge_knob() {
	local knob=$1 expect=${KNOB_CATCHES[$1]} name="knob-$1"
	local failed_tests
	failed_tests=$(sed -n -E 's/^[a-z_]+: not ok [0-9]+ - ([A-Za-z0-9_]+).*/\1/p' "$OUT/$name.log" |
		sort | paste -sd, -)
	if ! grep -q "fault injection on: $knob" "$ROOT/build/vmtest/$name/serial.log" 2>/dev/null; then
		fail "$name: no warning line for the knob in the kernel log"
	elif [ "$failed_tests" = "$expect" ]; then
		ok "$name: caught by $expect ($(time_of "$name") s)"
	else
		fail "$name: expected exactly $expect to fail, got '${failed_tests:-nothing}'"
	fi
}
t_knobs=0
for knob in "${KNOBS[@]}"; do
	judge_knob "$knob"
	t_knobs=$((t_knobs + $(time_of "knob-$knob")))
done
ring_times+=("fault injection, 4 runs: $t_knobs s of machine time")

# The bench ring: each benchmark on each kernel passes when dbgkvm's instruction count is
# at most KVM's; a missing figure or a failed run is a failure (scripts/bench-guard.sh).
judge_bench() {
	local k=$1 line n=0
	while IFS= read -r line; do
		case "$line" in
		"ok - "*)
			ok "${line#ok - }"
			n=$((n + 1))
			;;
		"not ok - "*)
			fail "${line#not ok - }"
			n=$((n + 1))
			;;
		"#"*) echo "$line" ;;
		*) echo "#   $line" ;;
		esac
	done < <(bash scripts/bench-guard.sh --kernel "$k" --dbgkvm "$OUT/bench-$k-dbgkvm.log" \
		--kvm "$OUT/bench-$k-kvm.log" --out "$OUT/bench-$k.txt" 2>&1)
	[ "$n" -gt 0 ] || fail "bench $k: nothing judged (see build/check/bench-$k-*.log)"
}
t_bench=0
for k in "${BENCH_KERNELS[@]}"; do
	judge_bench "$k"
	t_bench=$((t_bench + $(time_of "bench-$k-dbgkvm") + $(time_of "bench-$k-kvm")))
done
ring_times+=("bench (-icount, dbgkvm vs KVM), ${#BENCH_KERNELS[@]} kernels x 2 runs: $t_bench s of machine time")
ring_times+=("machine runs, $slots at a time: $t_machines s")

echo "# time per ring:"
for r in "${ring_times[@]}"; do
	echo "#   $r"
done
echo "# make check took $((SECONDS - t_start)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
