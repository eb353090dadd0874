#!/bin/bash
# exit-profile.sh: where the guest-kernel instructions of one VM exit go, by symbol,
# for dbgkvm or Debian's KVM, in the QEMU TCG test machine (not part of make check).
#
#   scripts/exit-profile.sh --kernel 6.1|6.12 --target dbgkvm|kvm
#       [--module PATH/dbgkvm.ko] [--work DIR] [--top N] [--append "kernel args"]
#
# It builds (into --work, default /tmp/prof/exitprof-build) a QEMU TCG plugin
# (scripts/exit-profile/plugin.c) and a static probe (scripts/exit-profile/probe.cpp,
# the loops of selftests/bench_test.cpp with marker NOPs around them, built from the
# selftests/lib sources), boots the machine once through scripts/vmtest.sh
# (--icount, --append nokaslr, QEMU_EXTRA_ARGS="-plugin ...") and prints:
#   - instructions per CPUID exit handled in the kernel: (w1 - w2) / (R * (M - 1)),
#     w1 = R rounds of M CPUIDs + 1 OUT, w2 = R rounds of 1 CPUID + 1 OUT
#   - instructions per PIO round trip through user space: w3 / R
# each by symbol (core kernel and modules from the guest's /proc/kallsyms; the
# core kernel once per kernel, cached) and by area, plus the guest's clock per window
# (-icount shift=0: 1 ns = 1 instruction) and the CPU vulnerability mitigations.
# Counts are exact per translation block (a block left early by an exception is
# counted whole), summed over both vCPUs: under -icount in thread=single TCG the
# guest clock counts every vCPU's instructions, so work on the other vCPU during a
# window inflates bench_test's numbers. On 6.12 the crypto manager's boot-time RSA
# self-test (mpi_powm) runs into the bench window: --append defaults to
# "cryptomgr.notests" to keep it out (--append "" puts it back). The split by vCPU
# ("credited to OTHER vCPUs") is approximate: thread=single TCG credits a block to
# the vCPU that translated it.
#
# Files in --work/<kernel>-<target>/: exitprof.prof (plugin output: address count
# lines per window), serial.log, report.txt. One run takes ~30 s plus the build.
#
# Example: scripts/exit-profile.sh --kernel 6.12 --target dbgkvm --module /tmp/prof/dbgkvm-6.12.ko
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/exit-profile
kver='' target='' module='' work=/tmp/prof/exitprof-build top=30 extra_append=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kver=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--top) top=$2; shift 2 ;;
	--append) extra_append=$2; shift 2 ;;
	-h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "exit-profile: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$kver" in 6.1 | 6.12) ;; *) echo "exit-profile: --kernel 6.1|6.12" >&2; exit 2 ;; esac
case "$target" in dbgkvm | kvm) ;; *) echo "exit-profile: --target dbgkvm|kvm" >&2; exit 2 ;; esac
module=${module:-$root/build/kmod-$kver/dbgkvm.ko}

# --- Build the plugin and the probe (from the sources, not from build/) ---------
b=$work/obj
mkdir -p "$b" "$work/tests"
gcc -O2 -shared -fPIC -Wall -Wextra -o "$b/exitprof.so" "$here/plugin.c"
objs=()
for s in "$root"/selftests/lib/*.cpp "$here/probe.cpp"; do
	o=$b/$(basename "$s" .cpp).o
	[ "$o" -nt "$s" ] || g++ -std=c++20 -O2 -g -Wall -Wextra -I"$root/selftests/lib" -c -o "$o" "$s"
	objs+=("$o")
done
for s in "$root"/selftests/lib/*.S "$root/selftests/guest/bench.S"; do
	o=$b/$(basename "$s" .S).S.o
	[ "$o" -nt "$s" ] || g++ -I"$root/selftests/lib" -c -o "$o" "$s"
	objs+=("$o")
done
# tap_main.o has main(); every lib object goes in, as in selftests/Makefile.
g++ -static -pthread -o "$work/tests/exitprof" "${objs[@]}"

# --- One run ---------------------------------------------------------------------
out=$work/$kver-$target
mkdir -p "$out"
prof=$out/exitprof.prof
rm -f "$prof"
margs=()
[ "$target" = kvm ] || margs=(--module "$module")
# Debian's System.map is a stub: the core kernel's symbols come from the guest's
# /proc/kallsyms (nokaslr: the same every boot), dumped once per kernel and cached.
ksyms=$work/kallsyms-$kver.txt
append=nokaslr
[ -s "$ksyms" ] || append="nokaslr exitprof.kallsyms=all"
append="$append${extra_append:+ $extra_append}"
QEMU_EXTRA_ARGS="-plugin $b/exitprof.so,out=$prof" \
	bash "$root/scripts/vmtest.sh" --vm qemu-svm --kernel "$kver" --target "$target" --icount \
	--append "$append" --only exitprof --tests "$work/tests" --out "$out/vm" "${margs[@]}" \
	>"$out/vmtest.log" 2>&1 || { cat "$out/vmtest.log"; exit 1; }
cp "$out/vm/serial.log" "$out/serial.log"
if [ ! -s "$ksyms" ]; then
	grep -a -o '# ksym [0-9a-f]* [tT] [^[]*$' "$out/serial.log" | tr -d '\r' |
		awk '{ print $3, $4, $5 }' >"$ksyms.tmp"
	mv "$ksyms.tmp" "$ksyms"
fi
sysmap=$ksyms
{
	echo "==== exit-profile: kernel $kver ($(grep -a -o 'boot done: [^,]*' "$out/serial.log" | sed 's/boot done: //')) target $target ===="
	[ "$target" = kvm ] || echo "module: $module ($(modinfo -F srcversion "$module" 2>/dev/null))"
	grep -h -o '# clock: .*' "$out/serial.log" || true
	grep -h -o '# vuln .*' "$out/serial.log" | grep -v 'Not affected' || true
	# c++filt -p: dbgkvm's C++ names without their parameter lists.
	python3 "$here/symbolize.py" "$prof" "$out/serial.log" "$sysmap" "$work/tests/exitprof" --top "$top" | c++filt -p
} | tee "$out/report.txt"
