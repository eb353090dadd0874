# Prints the kernel log lines that mean the kernel complained: one line per
# report. Used inside the guest on `dmesg` output, and on the host on the serial
# log when the guest never reached its end marker (it crashed or hung).
# Plain POSIX awk: runs under busybox awk in the guest and on the host.
#
# A WARN or oops prints its headline (counted) and then "Call Trace:" (not
# counted again); a "Call Trace:" on its own (dump_stack() from e.g. an
# unchecked MSR access) counts.
{ sub(/\r$/, "") }
#
# The debug kernel's reports mostly start with "BUG:" (KASAN, KFENCE, sleeping function
# called from invalid context, using smp_processor_id() in preemptible code) or
# "WARNING:" (lockdep's circular dependency, suspicious RCU usage, ODEBUG, list
# corruption without BUG_ON_DATA_CORRUPTION). The others: SLUB's consistency reports
# ("BUG kmalloc-64 (Tainted: ...): Redzone overwritten", no colon after BUG), lockdep's
# INFO reports, DEBUG_OBJECTS' "ODEBUG:" line and DEBUG_LIST's corruption lines.
/WARNING:|BUG:|Oops|general protection fault|Kernel panic|kernel BUG|blocked for more than [0-9]+ seconds|hung_task|hung task|soft lockup|hard LOCKUP|rcu_.*detected stall|self-detected stall|UBSAN:|KASAN:|unchecked MSR access|double fault|stack guard page|stack-protector|BUG [^ ]+ \(|INFO: (possible|trying to register|inconsistent|lockdep)|ODEBUG:|list_(add|del) corruption|Poison overwritten|Redzone overwritten|Padding overwritten|FreePointer/ {
	print
	inreport = 1
	next
}
/Call Trace:/ {
	if (!inreport)
		print
	inreport = 1
	next
}
/---\[ end trace/ { inreport = 0 }
