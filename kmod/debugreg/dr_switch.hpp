// SPDX-License-Identifier: GPL-2.0
// Who owns the hardware debug registers, and when they are switched: vcpu_load, the entry
// plan, the exit sync, and the MOV-DR interception policy (KVM: kvm_arch_vcpu_load,
// vcpu_enter_guest, sync_dirty_debug_regs, SVM dr_interception, VMX handle_dr).
//
// Order on the run path, with preemption and interrupts off from plan_entry to after_exit:
//   vcpu_load(s)                      when the vCPU thread (re)gets a CPU
//   plan = plan_entry(s, ...)         once per vcpu_enter_guest, NOT per fast-path re-entry
//   [backend applies plan; VM entry]  entered(s)
//   [VM exit]  if (needs_sync(s)) sync_dirty_debug_regs(s, hw)   before handling the exit
//   if (plan.restore_host) restore the host's DR0-3/DR6/DR7 (saved by the module itself)
//   [handle the exit: on_dr_intercept, #DB intercept (debug_exit.hpp), ...]
#pragma once

#include <cstdint>

#include "dr_rules.hpp"
#include "dr_state.hpp"
#include "knobs.hpp"

namespace dbgkvm::debugreg
{

// The vCPU got a (possibly different) CPU: DR0-3 may hold another context's values, so
// they must be reloaded before the next entry (the 2016 fix, seeds 000/003).
void vcpu_load(State &s, const Knobs &k);

struct EntryPlan {
	bool dr7_inert; // first write host DR7 := DR7_FIXED_1 (no host bp may fire on guest addrs)
	bool load_db;	// then write DR0-3 := db[]
	// Not reloading, but the guest's breakpoints are live: read DR0-3 and load db[] if the
	// hardware differs (a safety net for writers that do not go through vcpu_load, such as
	// a per-CPU perf breakpoint installed and removed between two entries). Off under the
	// no_reload_on_load knob, which re-creates the 2016 bug without a net.
	bool verify_db;
	uint64_t db[NR_DB_REGS];
	bool load_dr6;	     // VMX: MOV DR6 := dr6 (only while the guest owns the DRs)
	bool write_vmcb_dr6; // SVM: VMCB save.dr6 := dr6 (every entry)
	uint64_t dr6;
	uint64_t dr7;	   // effective DR7: VMCS GUEST_DR7 / VMCB save.dr7 (loaded by VM entry)
	bool restore_host; // after the exit, restore the host's debug registers
	// SVM, when not restoring: write the host's DR7 back after an entry that armed the
	// guest's breakpoints. #VMEXIT takes the host's DR7 from the host save area VMRUN
	// wrote (APM Vol. 2 15.6); writing it again leaves none of the guest's enables armed on
	// host addresses, whatever the implementation did. VMX needs nothing: a VM exit loads
	// DR7 with 0x400 (SDM Vol. 3 27.5.1).
	bool rewrite_host_dr7;
	// VMX: DR6 is not switched by VM exit, so after the exit the host's DR6 holds the
	// guest's; reset it to DR6_ACTIVE_LOW so no guest cause shows up in a host #DB.
	bool reset_host_dr6;
};

// Decide how to load the debug registers for the next entry. Lazily: DR0-3 are written
// only when the hardware may not hold eff_db (RELOAD: after vcpu_load, a DR0-3 change, or
// a restore of the host's registers) or when the host has breakpoints armed (its DR0-3
// come back after the exit). Unlike KVM since v5.15, which reloads on every entry while a
// breakpoint is armed, this keeps RELOAD meaningful: it is what the 2016 fix is about, and
// what the tracepoints show. DR7 is made inert before DR0-3 are written, and whenever the
// host has breakpoints armed (they must not fire while the guest's DR0-3 are loaded).
EntryPlan plan_entry(const State &s, Vendor v, bool host_bps_active, const Knobs &k);
// The plan was applied: hardware DR0-3 hold eff_db.
void entered(State &s);
// After the exit (and the sync, if any): the host's registers are back if the plan said to
// restore them, so the hardware no longer holds eff_db.
void exited(State &s, const EntryPlan &p);

// After a VM exit: the guest may have changed DR0-3/DR6/DR7 behind our back.
inline bool needs_sync(const State &s)
{
	return (s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT) != 0;
}

// Debug registers read back from hardware after the exit. VMX: DR0-3 and DR6 with MOV, DR7
// from the VMCS. SVM: DR0-3 with MOV, DR6 and DR7 from the VMCB.
struct HwDebugRegs {
	uint64_t db[NR_DB_REGS];
	uint64_t dr6;
	uint64_t dr7;
};

// Take the guest's registers from hardware, give DR ownership back to the host (WONT_EXIT
// cleared, interception on again), recompute eff_db/BP_ENABLED. RELOAD is cleared: the
// hardware holds exactly the values just read. Returns Push flags.
uint32_t sync_dirty_debug_regs(State &s, const HwDebugRegs &hw);

// MOV DR exiting (VMX) / DR read-write intercepts (SVM) wanted?
inline bool should_intercept_dr_access(const State &s)
{
	return !needs_sync(s);
}

// An intercepted guest MOV DR. CPL/#UD/GD are checked first (on VMX the exit has priority
// over the GD #DB, SDM §26.1.1/§18.2.4; on SVM hardware already raised them). Then, if
// userspace is not debugging the guest, the guest gets the DRs: WONT_EXIT is set, the
// intercept dropped, and the instruction re-executed natively (action Reenter); the next
// exit syncs. Otherwise the access is emulated with set_dr/get_dr.
DrResult on_dr_intercept(State &s, int dr, bool is_write, uint64_t val, const GuestCtx &g);

// Whether on_dr_intercept will hand the registers over (Reenter), decided without the
// operand: the caller need not decode the MOV DR first, since the guest re-executes it
// natively (KVM's dr_interception checks guest_debug before it looks at the instruction).
bool hands_over_dr_access(const State &s, int dr, const GuestCtx &g);

} // namespace dbgkvm::debugreg
