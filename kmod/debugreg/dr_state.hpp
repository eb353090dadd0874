// SPDX-License-Identifier: GPL-2.0
// Per-vCPU debug-register state, with KVM's names (struct kvm_vcpu_arch / kvm_vcpu).
#pragma once

#include <cstdint>

#include "dr_bits.hpp"

namespace dbgkvm::debugreg
{

enum class Vendor : uint8_t {
	Vmx,
	Svm,
};

struct State {
	uint64_t db[NR_DB_REGS];     // the guest's DR0-3
	uint64_t eff_db[NR_DB_REGS]; // loaded into DR0-3 on entry
	uint64_t dr6;		     // the guest's DR6: the only truth (seed 001)
	uint64_t dr7;		     // the guest's DR7
	uint64_t guest_debug_dr7;    // userspace's DR7 with GUESTDBG_USE_HW_BP
	uint64_t singlestep_rip;     // linear RIP recorded by GUESTDBG_SINGLESTEP
	uint32_t guest_debug;	     // GUESTDBG_* from userspace
	uint32_t switch_db_regs;     // KVM_DEBUGREG_*
};

// What the guest's CPU looks like for a MOV DR.
struct GuestCtx {
	int cpl = 0;
	bool cr4_de = false;
	bool has_rtm = false;		  // CPUID.7.0:EBX.RTM
	bool has_bus_lock_detect = false; // CPUID.7.0:ECX.BUS_LOCK_DETECT
	uint64_t linear_rip = 0;	  // CS.base + RIP of the MOV DR (for KVM_EXIT_DEBUG pc)
};

// kvm_run->debug.arch (struct kvm_debug_exit_arch), exit reason KVM_EXIT_DEBUG.
struct DebugExit {
	uint32_t exception; // VEC_DB or VEC_BP
	uint64_t pc;	    // linear
	uint64_t dr6;
	uint64_t dr7;
};

// Hardware state the backend must rewrite after a rule changed the model.
enum Push : uint32_t {
	PUSH_NONE = 0,
	PUSH_DR7 = 1u << 0,    // write VMCS GUEST_DR7 / VMCB save.dr7 := effective_dr7()
	PUSH_DR6 = 1u << 1,    // hardware DR6 value changed: see hw_dr6() (SVM: VMCB save.dr6)
	PUSH_EFF_DB = 1u << 2, // eff_db changed; RELOAD is set, entry loads DR0-3
	PUSH_DR_INTERCEPT = 1u << 3, // apply should_intercept_dr_access() to MOV-DR exiting
};

inline bool guest_debugging_hw(const State &s)
{
	return (s.guest_debug & GUESTDBG_USE_HW_BP) != 0;
}

// The DR7 the hardware runs with (VMCS GUEST_DR7 / VMCB save.dr7).
inline uint64_t effective_dr7(const State &s)
{
	return guest_debugging_hw(s) ? s.guest_debug_dr7 : s.dr7;
}

} // namespace dbgkvm::debugreg
