// SPDX-License-Identifier: GPL-2.0
// The debug-register half of a guest entry and exit, written once for both vendors (KVM:
// the DR part of vcpu_enter_guest). The plan says what to do; this does it, in order, on
// a CPU given as a template parameter: the real one in the module (core/dr_cpu.hpp plus a
// backend's few hooks), a fake one in the host unit tests.
//
// Cpu provides, all called with interrupts off:
//   u64 read_dr6(), read_dr7(); void write_dr6(u64), write_dr7(u64);
//   void read_db(u64[4]), write_db(const u64[4])   the physical CPU's registers
//   void set_guest_dr6(u64)   SVM: VMCB save.dr6. VMX: MOV DR6 (not switched by VM entry)
//   void set_guest_dr7(u64)   SVM: VMCB save.dr7. VMX: VMCS GUEST_DR7
//   u64 guest_dr6(), guest_dr7()   the same places, read back after the exit
//   void push(u32)            rewrite the hardware state a rule changed (PUSH_* flags)
//   void trace_load(u32 switch_db_regs, u32 why, const u64 db[4], u64 dr7)
//   void trace_sync(u32 switch_db_regs, const u64 db[4], u64 dr6)
#pragma once

#include "dr_switch.hpp"
#include "guest_debug.hpp"
#include "uapi/linux/dbgkvm.h"

namespace dbgkvm::debugreg
{

template <class Cpu> class EntrySwitch
{
public:
	// Before the world switch. Returns the plan it applied.
	const EntryPlan &enter(State &s, Vendor v, const Knobs &k, Cpu &cpu)
	{
		host_dr7_ = cpu.read_dr7();
		const uint32_t sdr = s.switch_db_regs;
		plan_ = plan_entry(s, v, (host_dr7_ & DR7_BP_EN_MASK) != 0, k);
		if (plan_.restore_host) {
			cpu.read_db(host_db_);
			host_dr6_ = cpu.read_dr6();
		}
		uint32_t stale = 0;
		if (plan_.verify_db) {
			uint64_t hw[NR_DB_REGS];
			cpu.read_db(hw);
			for (int i = 0; i < NR_DB_REGS; i++)
				if (hw[i] != plan_.db[i])
					stale = DBGKVM_DR_LOAD_STALE; // someone else wrote them
		}
		// DR7 inert before DR0-3 change, so no breakpoint of the host's fires on the
		// guest's addresses in between.
		if (plan_.dr7_inert || stale)
			cpu.write_dr7(DR7_FIXED_1);
		if (plan_.load_db || stale) {
			cpu.write_db(plan_.db);
			cpu.trace_load(sdr, stale | load_reasons(s, sdr), plan_.db, plan_.dr7);
		}
		if (plan_.load_dr6 || plan_.write_vmcb_dr6)
			cpu.set_guest_dr6(plan_.dr6);
		cpu.set_guest_dr7(plan_.dr7);
		entered(s);
		return plan_;
	}

	// After the world switch, before the exit is handled: take back what the guest wrote
	// natively (a MOV DR exit must see current values), then give the host its registers.
	void exit(State &s, Cpu &cpu)
	{
		if (needs_sync(s)) {
			HwDebugRegs hw;
			cpu.read_db(hw.db);
			hw.dr6 = cpu.guest_dr6();
			hw.dr7 = cpu.guest_dr7();
			cpu.push(sync_dirty_debug_regs(s, hw));
			cpu.trace_sync(s.switch_db_regs, hw.db, hw.dr6);
		}
		if (plan_.reset_host_dr6)
			cpu.write_dr6(DR6_ACTIVE_LOW);
		if (plan_.restore_host) {
			// The host's breakpoints (ptrace, perf) work again. Linux exports
			// hw_breakpoint_restore() only to KVM, and only from 6.19: done here.
			cpu.write_dr7(DR7_FIXED_1); // disarm before the addresses change
			cpu.write_db(host_db_);
			cpu.write_dr6(host_dr6_);
			cpu.write_dr7(host_dr7_);
		} else if (plan_.rewrite_host_dr7) {
			cpu.write_dr7(host_dr7_);
		}
		exited(s, plan_);
	}

private:
	static uint32_t load_reasons(const State &s, uint32_t sdr)
	{
		return ((sdr & KVM_DEBUGREG_RELOAD) ? DBGKVM_DR_LOAD_RELOAD : 0) |
		       ((sdr & KVM_DEBUGREG_BP_ENABLED) ? DBGKVM_DR_LOAD_BP_ENABLED : 0) |
		       ((sdr & KVM_DEBUGREG_WONT_EXIT) ? DBGKVM_DR_LOAD_WONT_EXIT : 0) |
		       (guest_debugging_hw(s) ? DBGKVM_DR_LOAD_GUEST_DEBUG : 0);
	}

	EntryPlan plan_{};
	uint64_t host_db_[NR_DB_REGS] = {};
	uint64_t host_dr6_ = 0;
	uint64_t host_dr7_ = 0;
};

} // namespace dbgkvm::debugreg
