/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of dbgkvm: trace system "dbgkvm", under
 * /sys/kernel/tracing/events/dbgkvm/. Only glue/trace.c includes this file: the C++
 * core reaches the events through the dk_trace_* functions of dbgkvm_glue.h.
 *
 * Every event starts with the same four fields (vm, vcpu, cpu, switch_db_regs) in the
 * same order, and each TP_PROTO starts with the same four arguments. tools/bpf/ relies
 * on that: its raw-tracepoint programs read the arguments by position, which needs no
 * BTF (the module has none when built against 6.1's headers). Append new fields at the
 * end; do not reorder.
 *
 * The names carry a dbgkvm_ prefix because raw tracepoints share one namespace with
 * every tracepoint of the kernel and its modules (KVM's are kvm_*).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dbgkvm

#if !defined(DBGKVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DBGKVM_TRACE_H

#include <linux/tracepoint.h>
#include <linux/string.h>

/* The kernel's TRACE_EVENT layout, not clang-format's. */
/* clang-format off */

/* KVM_DEBUGREG_* */
#define dk_show_sdr(f)                                                                             \
	__print_flags(f, "|", { 1, "BP_ENABLED" }, { 2, "WONT_EXIT" }, { 4, "RELOAD" })
/* DK_DR_LOAD_* (DBGKVM_DR_LOAD_* in include/uapi/linux/dbgkvm.h) */
#define dk_show_reason(r)                                                                          \
	__print_flags(r, "|", { 1, "RELOAD" }, { 2, "BP_ENABLED" }, { 4, "WONT_EXIT" },           \
		      { 8, "GUEST_DEBUG" }, { 16, "STALE" })

DECLARE_EVENT_CLASS(dbgkvm_vcpu_class,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(int, cpu)
		__field(u32, switch_db_regs)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->cpu = cpu;
		__entry->switch_db_regs = switch_db_regs;
	),
	TP_printk("vm %u vcpu %u cpu %d switch_db_regs 0x%x (%s)", __entry->vm, __entry->vcpu,
		  __entry->cpu, __entry->switch_db_regs, dk_show_sdr(__entry->switch_db_regs))
);

/* The vCPU was loaded on cpu: at the start of a vCPU ioctl, or on sched_in. */
DEFINE_EVENT(dbgkvm_vcpu_class, dbgkvm_vcpu_load,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs)
);

/* The vCPU was put: at the end of a vCPU ioctl, or on sched_out (preemption). */
DEFINE_EVENT(dbgkvm_vcpu_class, dbgkvm_vcpu_put,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs)
);

/*
 * The guest is entered: interrupts are off, the debug registers are the guest's (any
 * dbgkvm_dr_load of this entry came first), and VMRUN/VMLAUNCH/VMRESUME follows.
 * switch_db_regs is as the entry plan found it (RELOAD still set if this entry
 * reloads). One per guest entry, from the core (core/entry.cpp), for both vendors.
 */
DEFINE_EVENT(dbgkvm_vcpu_class, dbgkvm_guest_entry,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs)
);

/* DR0-3 (and DR6 on VMX) loaded into hardware before a guest entry. */
TRACE_EVENT(dbgkvm_dr_load,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs, u32 reason,
		 const u64 *db, u64 dr7),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs, reason, db, dr7),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(int, cpu)
		__field(u32, switch_db_regs)
		__field(u32, reason)
		__field(u64, db0)
		__field(u64, db1)
		__field(u64, db2)
		__field(u64, db3)
		__field(u64, dr7)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->cpu = cpu;
		__entry->switch_db_regs = switch_db_regs;
		__entry->reason = reason;
		__entry->db0 = db[0];
		__entry->db1 = db[1];
		__entry->db2 = db[2];
		__entry->db3 = db[3];
		__entry->dr7 = dr7;
	),
	TP_printk("vm %u vcpu %u cpu %d switch_db_regs 0x%x (%s) reason 0x%x (%s) "
		  "db %llx %llx %llx %llx dr7 %llx",
		  __entry->vm, __entry->vcpu, __entry->cpu, __entry->switch_db_regs,
		  dk_show_sdr(__entry->switch_db_regs), __entry->reason,
		  dk_show_reason(__entry->reason), __entry->db0, __entry->db1, __entry->db2,
		  __entry->db3, __entry->dr7)
);

/* The guest's DR0-3 and DR6 read back from hardware after an exit (WONT_EXIT). */
TRACE_EVENT(dbgkvm_dr_sync,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs, const u64 *db,
		 u64 dr6),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs, db, dr6),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(int, cpu)
		__field(u32, switch_db_regs)
		__field(u64, db0)
		__field(u64, db1)
		__field(u64, db2)
		__field(u64, db3)
		__field(u64, dr6)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->cpu = cpu;
		__entry->switch_db_regs = switch_db_regs;
		__entry->db0 = db[0];
		__entry->db1 = db[1];
		__entry->db2 = db[2];
		__entry->db3 = db[3];
		__entry->dr6 = dr6;
	),
	TP_printk("vm %u vcpu %u cpu %d switch_db_regs 0x%x (%s) db %llx %llx %llx %llx dr6 %llx",
		  __entry->vm, __entry->vcpu, __entry->cpu, __entry->switch_db_regs,
		  dk_show_sdr(__entry->switch_db_regs), __entry->db0, __entry->db1, __entry->db2,
		  __entry->db3, __entry->dr6)
);

/* A KVM_EXIT_DEBUG to userspace: run->debug.arch as userspace will see it. */
TRACE_EVENT(dbgkvm_debug_exit,
	TP_PROTO(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs, u32 exception,
		 u64 pc, u64 dr6, u64 dr7),
	TP_ARGS(vm, vcpu, cpu, switch_db_regs, exception, pc, dr6, dr7),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(int, cpu)
		__field(u32, switch_db_regs)
		__field(u32, exception)
		__field(u64, pc)
		__field(u64, dr6)
		__field(u64, dr7)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->cpu = cpu;
		__entry->switch_db_regs = switch_db_regs;
		__entry->exception = exception;
		__entry->pc = pc;
		__entry->dr6 = dr6;
		__entry->dr7 = dr7;
	),
	TP_printk("vm %u vcpu %u cpu %d switch_db_regs 0x%x (%s) exception %u pc %llx "
		  "dr6 %llx dr7 %llx",
		  __entry->vm, __entry->vcpu, __entry->cpu, __entry->switch_db_regs,
		  dk_show_sdr(__entry->switch_db_regs), __entry->exception, __entry->pc,
		  __entry->dr6, __entry->dr7)
);

/* clang-format on */

#endif /* DBGKVM_TRACE_H */

/*
 * Out of tree, define_trace.h must find this file again through the include path:
 * TRACE_INCLUDE_PATH "." resolves against kmod/Kbuild's -I$(src)/glue. The file name
 * must not exist next to define_trace.h: "./trace_events.h" would find the kernel's
 * own include/trace/trace_events.h first, which includes itself without end.
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dbgkvm_trace
#include <trace/define_trace.h>
