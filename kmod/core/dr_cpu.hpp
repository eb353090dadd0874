// SPDX-License-Identifier: GPL-2.0
// The physical CPU's debug registers and the dbgkvm tracepoints, for
// debugreg::EntrySwitch (debugreg/dr_entry.hpp). A backend derives from DrCpu and adds
// where its guest's DR6 and DR7 live and how it applies PUSH_* flags.
#pragma once
#include "dbgkvm_glue.h"
#include "debugreg/dr_entry.hpp"
#include "rt/x86.hpp"

namespace dbgkvm
{

struct DrCpu {
	unsigned vm_id;
	unsigned vcpu_id;
	int cpu;

	u64 read_dr6() { return x86::read_dr<6>(); }
	u64 read_dr7() { return x86::read_dr<7>(); }
	void write_dr6(u64 v) { x86::write_dr<6>(v); }
	void write_dr7(u64 v) { x86::write_dr<7>(v); }
	void read_db(u64 db[4]) { x86::read_db(db); }
	void write_db(const u64 db[4]) { x86::write_db(db); }
	void trace_load(u32 sdr, u32 why, const u64 db[4], u64 dr7)
	{
		dk_trace_dr_load(vm_id, vcpu_id, cpu, sdr, why, db, dr7);
	}
	void trace_sync(u32 sdr, const u64 db[4], u64 dr6)
	{
		dk_trace_dr_sync(vm_id, vcpu_id, cpu, sdr, db, dr6);
	}
};

} // namespace dbgkvm
