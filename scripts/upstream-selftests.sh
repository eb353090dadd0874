#!/bin/bash
# upstream-selftests.sh KERNEL OUTDIR (KERNEL: 6.1 or 6.12)
# Builds Linux's own KVM selftests (tools/testing/selftests/kvm), unmodified, from Debian's
# linux-source-KERNEL (the version of the installed headers: scripts/linux-source.sh),
# against that kernel's uapi (headers_install), as static binaries; cached per source
# version. OUTDIR gets the TAP wrapper upstream_test (scripts/vm/upstream_test) and
# upstream/ with the binaries and their LIST, for scripts/vmtest.sh --tests OUTDIR.
set -euo pipefail
k=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBGKVM_KERNEL_CACHE:-/var/cache/dbgkvm-kernel}

# The tests of issue 10 that dbgkvm can run. The others (set_sregs_test, cpuid_test,
# sync_regs_test, userspace_io_test, userspace_msr_exit_test, set_memory_region_test,
# platform_info_test, tsc_msrs_test, state_test, hardware_disable_test) create their VMs
# with vm_create*(), which on x86 asserts KVM_CREATE_IRQCHIP: they wait for the in-kernel
# irqchip (README, "Linux's KVM selftests").
TESTS=(kvm_create_max_vcpus x86_64/max_vcpuid_cap_test)
# RECIPE: bump when what is built changes (TESTS, flags).
RECIPE=1

src=$("$root/scripts/linux-source.sh" "$k")
ver=$(basename "$(dirname "$src")")
build=$cache/upstream-${ver#src-}-r$RECIPE
if [ ! -f "$build/.done" ]; then
	rm -rf "$build" && mkdir -p "$build"
	# O=: the source tree stays clean (the debug kernel builds from it with O= too).
	make -s -C "$src" O="$build/obj" ARCH=x86 headers_install INSTALL_HDR_PATH="$build/hdr"
	make -s -C "$src/tools/testing/selftests/kvm" OUTPUT="$build/bin" \
		KHDR_INCLUDES="-isystem $build/hdr/include" LDFLAGS="-static -pthread -no-pie" \
		"${TESTS[@]/#/$build/bin/}" >"$build/make.log" 2>&1 ||
		{ tail -n 30 "$build/make.log" >&2; exit 1; }
	rm -rf "$build/obj"
	touch "$build/.done"
fi
rm -rf "$out" && mkdir -p "$out/upstream"
cp "$root/scripts/vm/upstream_test" "$out/"
for t in "${TESTS[@]}"; do
	cp "$build/bin/$t" "$out/upstream/${t##*/}"
	echo "${t##*/}" >>"$out/upstream/LIST"
done
echo "upstream-selftests: linux-source-$k ${ver#src-}: ${TESTS[*]##*/}"
