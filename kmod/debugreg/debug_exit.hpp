// SPDX-License-Identifier: GPL-2.0
// KVM_EXIT_DEBUG contents, and what to do with an intercepted #DB on each vendor
// (KVM: VMX handle_exception_nmi VEC_DB, SVM db_interception).
#pragma once

#include <cstdint>

#include "dr_state.hpp"
#include "knobs.hpp"

namespace dbgkvm::debugreg
{

// Builders for run->debug.arch. `dr7` is the effective DR7.
DebugExit exit_hw_breakpoint(int n, uint64_t pc, uint64_t dr7); // dr6 = 0xffff0ff0 | 1 << n
DebugExit exit_single_step(uint64_t pc, uint64_t dr7);		// dr6 = 0xffff4ff0
DebugExit exit_general_detect(uint64_t pc, uint64_t dr7);	// dr6 = 0xffff2ff0
DebugExit exit_sw_breakpoint(uint64_t pc);			// #BP (USE_SW_BP): dr6/dr7 0

enum class DbAction : uint8_t {
	QueueDB,   // reflect into the guest: queue #DB with `payload`
	ExitDebug, // userspace is debugging: KVM_EXIT_DEBUG with `exit`
};

struct DbIntercept {
	DbAction action;
	uint64_t payload;
	DebugExit exit;
	uint32_t push;
};

// Userspace sees #DB exits only with SINGLESTEP or USE_HW_BP.
inline bool db_exits_to_user(const State &s)
{
	return (s.guest_debug & (GUESTDBG_SINGLESTEP | GUESTDBG_USE_HW_BP)) != 0;
}

// VMX: the exit qualification holds exactly this #DB's causes, active high (SDM §27.2.1);
// KVM_EXIT_DEBUG gets qual | DR6_ACTIVE_LOW; the guest gets qual as payload.
DbIntercept on_db_intercept_vmx(const State &s, uint64_t exit_qual, uint64_t pc);

// SVM: the VMCB DR6 is written as if the #DB were delivered (APM Vol 2 §15.12 exception
// intercepts do not stop the DR6 update). The guest ran with DR6_ACTIVE_LOW in the VMCB
// unless it owned the DRs, so VMCB DR6 ^ DR6_ACTIVE_LOW is this #DB's payload. For
// KVM_EXIT_DEBUG the VMCB DR6 is reported but never copied into the guest's dr6, and
// PUSH_DR6 asks for the VMCB DR6 to be reset before the next run (seed 001).
// Knob svm_clobber_guest_dr6: the guest's dr6 takes the VMCB DR6 (the 2020 bug).
DbIntercept on_db_intercept_svm(State &s, uint64_t vmcb_dr6, uint64_t pc, const Knobs &k);

} // namespace dbgkvm::debugreg
