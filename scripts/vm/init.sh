#!/bin/busybox sh
# /init of dbgkvm's test machine (busybox sh, runs as PID 1 from the initramfs).
#
# scripts/vmtest.sh builds the initramfs around this file and writes
# /vmtest/config next to it. The host reads our console (ttyS0) and parses the
# lines that start with "vmtest: " (see scripts/vm/report.awk); everything a test
# binary prints goes to the console verbatim between "vmtest: run NAME" and
# "vmtest: exit NAME ...". Keep other output to a minimum: the console log is
# what a human reads when something goes wrong.
#
# PID 1 must never exit (the kernel would panic), so every path ends in finish().
# shellcheck shell=dash

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
exec </dev/console >/dev/console 2>&1

# VT_VM VT_TARGET VT_DEV VT_MODULES VT_TESTS VT_TEST_TIMEOUT VT_CASE_TIMEOUT VT_DEMO
# shellcheck source=/dev/null
. /vmtest/config

say() { echo "vmtest: $*"; }

finish() {
	say "===== end of run ====="
	sync
	poweroff -f
	# Only reached if the machine has no working poweroff: the host's end-marker
	# watch stops it.
	while :; do sleep 3600; done
}

fail() {
	say "FAILED: $*"
}

# Boot is done when PID 1 runs. Print how long it took by the guest's clock
# (under Bochs' "clock: sync=none" and QEMU's -icount that is emulated time).
read -r up _ </proc/uptime
say "boot done: $(uname -r), $(nproc) cpus, ${up} s"

# Kernel messages go to the console as they happen only from KERN_WARNING up,
# so a WARN or oops shows next to the test that caused it while routine info
# lines do not break up the TAP output. The full log is checked at the end.
# An explicit loglevel=/ignore_loglevel on the command line wins.
case " $(cat /proc/cmdline) " in
*" loglevel="* | *" ignore_loglevel "*) ;;
*) dmesg -n 5 ;;
esac

# Clear boot noise (Bochs prints "RETBleed: WARNING: ..." at boot) before the
# modules load, so that a complaint raised by loading a module is caught too;
# remember the taint for the same reason.
dmesg -c >/dev/null
taint0=$(cat /proc/sys/kernel/tainted)
# The debug kernel has kmemleak (no automatic scans): forget what boot left unreferenced,
# so that the scan after rmmod reports only what the run leaked.
kmemleak=/sys/kernel/debug/kmemleak
if [ -w "$kmemleak" ]; then
	echo clear >"$kmemleak" && say "kmemleak: cleared before the modules load"
fi
[ "$taint0" = 0 ] || say "kernel already tainted at boot: $taint0"

# Module parameters given on the kernel command line as NAME.PARAM=VALUE
# (e.g. --append "kvm.enable_virt_at_load=0"): modprobe would pass them on,
# busybox insmod does not, so do it here.
modparams() {
	_n=$(echo "$1" | tr - _)
	# shellcheck disable=SC2013 # words, not lines
	for _w in $(cat /proc/cmdline); do
		case "$_w" in
		*.*=*)
			_m=$(echo "${_w%%.*}" | tr - _)
			[ "$_m" = "$_n" ] && echo "${_w#*.}"
			;;
		esac
	done
}

load_ok=1
for m in $VT_MODULES; do
	name=${m##*/}
	name=${name%.ko}
	# Unquoted on purpose: one word per parameter.
	# shellcheck disable=SC2046
	if ! err=$(insmod "$m" $(modparams "$name") 2>&1); then
		fail "insmod $name: ${err#insmod: }"
		# The module's own explanation is usually at info level, below the
		# console's level: show the kernel log of the attempt.
		dmesg | tail -n 8 | sed 's/^/vmtest: kernel: /'
		load_ok=0
		break
	fi
	p=$(modparams "$name" | tr '\n' ' ')
	say "loaded $name${p:+ with ${p% }}"
done
if [ "$load_ok" = 1 ] && [ ! -c "$VT_DEV" ]; then
	fail "no character device $VT_DEV after loading the modules"
	load_ok=0
fi

# One test binary. A watchdog sends SIGTERM after VT_TEST_TIMEOUT seconds, then
# SIGKILL; if even that does not end it (stuck in the kernel), it interrupts our
# wait with SIGUSR1 so the run still finishes and reports, instead of hanging
# until the host's timeout.
run_one() {
	_name=$1
	_bin=/selftests/$_name
	rm -f /tmp/timedout /tmp/stuck
	say "run $_name"
	read -r _t0 _ </proc/uptime
	# setsid: its own process group (same pid: a background job of a shell
	# without job control is no group leader), so a timeout kills any
	# processes it forked too.
	DBGKVM_DEV=$VT_DEV DBGKVM_TARGET=$VT_TARGET DBGKVM_VM=$VT_VM \
	DBGKVM_KVM_MODULES="${VT_KVM_MODULES:-}" DBGKVM_TEST_TIMEOUT="${VT_CASE_TIMEOUT:-}" \
		setsid "$_bin" </dev/null &
	_pid=$!
	(
		sleep "$VT_TEST_TIMEOUT"
		# Mark first: once the test dies, the shell kills this watchdog.
		echo >/tmp/timedout
		# Where is it stuck? The kernel stacks of its threads, for the report.
		for _s in /proc/"$_pid"/task/*/stack; do
			[ -r "$_s" ] || continue
			_tid=${_s%/stack}
			echo "vmtest: timeout: $_name thread ${_tid##*/} kernel stack:"
			sed 's/^/vmtest: timeout:   /' "$_s"
		done >/dev/console 2>&1
		kill -TERM -"$_pid" 2>/dev/null || { rm -f /tmp/timedout; exit 0; }
		sleep 5
		kill -KILL -"$_pid" 2>/dev/null || exit 0
		sleep 5
		kill -0 "$_pid" 2>/dev/null || exit 0
		echo >/tmp/stuck
		kill -USR1 $$
	) </dev/null >/dev/null 2>&1 &
	_wd=$!
	trap ':' USR1
	wait "$_pid"
	_rc=$?
	trap - USR1
	kill "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
	_how=
	[ -e /tmp/timedout ] && _how=" timeout=$VT_TEST_TIMEOUT"
	[ -e /tmp/stuck ] && _how="$_how stuck"
	read -r _t1 _ </proc/uptime
	say "exit $_name rc=$_rc$_how ($(echo "$_t0 $_t1" | awk '{ printf "%.2f", $2 - $1 }') s)"
	# A test stuck in the kernel could block the next one: stop here.
	[ -e /tmp/stuck ] && return 1
	return 0
}

if [ "$load_ok" = 1 ]; then
	if [ "$VT_DEMO" = 1 ]; then
		if [ -x /selftests/demo ]; then
			run_one demo
		else
			fail "no demo binary in the tests directory"
		fi
	else
		for t in $VT_TESTS; do
			run_one "$t" || break
		done
	fi
fi

# Unload what was loaded, last first: a reference leak or a complaint on the way
# out is a bug too. Not when a test is stuck in the kernel (it pins the module);
# a module a test already unloaded itself is skipped.
if [ "$load_ok" = 1 ] && [ ! -e /tmp/stuck ]; then
	rev=
	for m in $VT_MODULES; do
		rev="$m $rev"
	done
	gone=
	for m in $rev; do
		name=${m##*/}
		name=${name%.ko}
		[ -d "/sys/module/$name" ] || continue
		if ! rmmod "$name"; then
			fail "rmmod $name (refcount $(cat "/sys/module/$name/refcnt" 2>/dev/null))"
			break
		fi
		gone="$gone $name"
	done
	[ -z "$gone" ] || say "unloaded$gone"
fi

# kmemleak, after the modules are gone: an object allocated while they were loaded and
# no longer referenced from anywhere is a leak. kmemleak reports an object only once it
# is 5 s old (its minimum age) and after two scans (the first may see a stale
# reference), hence the wait and the second scan. A leak whose allocation backtrace
# runs through module text is one of ours (a module's symbols are gone after rmmod, so
# its frames show as bare 0xffffffff... addresses; "[dbgkvm]"/"[kvm]" if still loaded):
# a complaint. Any other leak is shown, as a diagnostic, for a human to judge.
kmemleak_check() {
	[ -w "$kmemleak" ] || return 0
	sleep 6
	echo scan >"$kmemleak"
	echo scan >"$kmemleak"
	cat "$kmemleak" >/tmp/kmemleak.txt
	awk '
		function flush() {
			if (obj == "") return
			if (ours) print "complaint: kmemleak: " obj " allocated by " frame " (" comm ")"
			else if (++others <= 5) print "kmemleak: not in a module: " obj " (" comm ": " first ")"
			obj = ""
		}
		/^unreferenced object/ { flush(); obj = $0; sub(/:$/, "", obj); ours = 0; inbt = 0; frame = first = comm = ""; next }
		/^ *comm "/ { comm = $0; sub(/^ */, "", comm); sub(/,.*/, "", comm); next }
		/^ *backtrace/ { inbt = 1; next }
		inbt {
			# 6.12: "    func+0x1/0x2 [mod]" or "    0xffffffffc0123456"; older kernels put
			# "[<address>] " first.
			f = $0; sub(/^ *(\[<[0-9a-f]+>\] *)?/, "", f)
			if (f == "") next
			if (first == "" && f !~ /^(kmemleak_|__kmalloc|kmalloc|kmem_cache_alloc|__kmem_cache|slab_post|__alloc|alloc_pages|__vmalloc|vmalloc|__get_free)/) first = f
			# A bare address: no symbol any more, i.e. the text of a module now unloaded.
			if (f ~ /^0xffffffff[0-9a-f]+$|\[(dbgkvm|kvm|kvm_amd|kvm_intel)\]/) { ours = 1; if (frame == "") frame = f }
		}
		END { flush() }
	' /tmp/kmemleak.txt | while IFS= read -r line; do say "$line"; done
	say "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak.txt) unreferenced object(s) after the run"
	# The full reports, for the console log only (not parsed).
	cat /tmp/kmemleak.txt
}
[ "$load_ok" = 1 ] && [ ! -e /tmp/stuck ] && kmemleak_check

# Kernel complaints since the modules were loaded, then new taint bits other
# than O (12, out-of-tree module) and E (13, unsigned module).
dmesg | awk -f /vmtest/complaints.awk | while IFS= read -r line; do
	say "complaint: $line"
done
taint1=$(cat /proc/sys/kernel/tainted)
new=$((taint1 & ~taint0 & ~((1 << 12) | (1 << 13))))
letters=PFSRMBUDAWCIOELKXTN
bit=0
while [ "$new" != 0 ]; do
	if [ $((new & 1)) = 1 ]; then
		l=$(echo "$letters" | cut -c$((bit + 1)))
		say "complaint: kernel taint bit $bit (${l:-?}) set during the run (tainted=$taint1)"
	fi
	new=$((new >> 1))
	bit=$((bit + 1))
done

finish
