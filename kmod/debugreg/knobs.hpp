// SPDX-License-Identifier: GPL-2.0
// Fault-injection knobs: each one, when true, makes the model behave like a historical KVM
// bug, so that tests (and the reproducers in the VMs) can show the bug being caught.
// Passed explicitly; there are no globals.
#pragma once

namespace dbgkvm::debugreg
{

struct Knobs {
	// 2016 "fix missed hardware breakpoints" (seeds 000/003): vcpu_load does not set
	// RELOAD, so DR0-3 clobbered by another vCPU on this CPU are not reloaded on entry.
	bool no_reload_on_load = false;
	// 2020 SVM "do not clobber guest DR6 on KVM_EXIT_DEBUG" (seed 001): the VMCB DR6 of a
	// #DB intercept is copied into the guest's dr6 and never reset, so causes accumulate.
	bool svm_clobber_guest_dr6 = false;
	// 2013 "handle hardware breakpoints during emulation" (seed 004): no code-breakpoint
	// check before emulating an instruction.
	bool skip_code_bp_check = false;
	// 2025 (seed 002): a code breakpoint on the next instruction that coincides with a
	// single-step trap is not reported in the same #DB (only BS is).
	bool single_cause_on_coincident = false;
};

} // namespace dbgkvm::debugreg
