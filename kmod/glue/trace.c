// SPDX-License-Identifier: GPL-2.0
/*
 * The dbgkvm trace events (dbgkvm_trace.h), behind the dk_trace_* functions that the
 * C++ core calls. Disabled tracepoints cost one static-branch test each, inside these
 * functions; the out-of-line call from C++ is the price of keeping kernel headers out
 * of the core.
 */
#include <linux/types.h>
#include "dbgkvm_glue.h"

#define CREATE_TRACE_POINTS
#include "dbgkvm_trace.h"

void dk_trace_vcpu_load(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs)
{
	trace_dbgkvm_vcpu_load(vm, vcpu, cpu, switch_db_regs);
}

void dk_trace_vcpu_put(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs)
{
	trace_dbgkvm_vcpu_put(vm, vcpu, cpu, switch_db_regs);
}

void dk_trace_guest_entry(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs)
{
	trace_dbgkvm_guest_entry(vm, vcpu, cpu, switch_db_regs);
}

void dk_trace_dr_load(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs, u32 reason,
		      const u64 *db, u64 dr7)
{
	trace_dbgkvm_dr_load(vm, vcpu, cpu, switch_db_regs, reason, db, dr7);
}

void dk_trace_dr_sync(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs,
		      const u64 *db, u64 dr6)
{
	trace_dbgkvm_dr_sync(vm, vcpu, cpu, switch_db_regs, db, dr6);
}

void dk_trace_debug_exit(unsigned int vm, unsigned int vcpu, int cpu, u32 switch_db_regs,
			 u32 exception, u64 pc, u64 dr6, u64 dr7)
{
	trace_dbgkvm_debug_exit(vm, vcpu, cpu, switch_db_regs, exception, pc, dr6, dr7);
}
