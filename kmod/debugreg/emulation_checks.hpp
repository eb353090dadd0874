// SPDX-License-Identifier: GPL-2.0
// Debug checks around an emulated instruction (KVM: kvm_vcpu_check_code_breakpoint,
// kvm_vcpu_do_singlestep; seeds 004 and 002).
#pragma once

#include <cstdint>

#include "dr_state.hpp"
#include "knobs.hpp"

namespace dbgkvm::debugreg
{

// B0-B3 of the execute breakpoints armed in `dr7` over `db` that match linear address
// `addr`. A breakpoint counts when L or G is set, R/W = 00 and LEN = 00: "instruction
// breakpoint addresses must have a length specification of 1 byte (LENn = 00); code
// breakpoints for other operand sizes are undefined" (SDM §18.2.5); like KVM, an execute
// breakpoint with LEN != 00 never matches.
uint64_t code_bp_hits(uint64_t dr7, const uint64_t db[NR_DB_REGS], uint64_t addr);

enum class DbgAction : uint8_t {
	None,	   // no #DB: go on (emulate the instruction / continue)
	ExitDebug, // KVM_EXIT_DEBUG with `exit` (userspace is debugging)
	QueueDB,   // queue #DB for the guest with `payload`
};

struct CodeBpResult {
	DbgAction action;
	uint64_t payload;
	DebugExit exit;
};

// Before emulating the instruction at `linear_rip` (not for instructions re-executed or
// skipped without decoding: hardware already checked those). Userspace breakpoints
// (guest_debug_dr7 over eff_db, USE_HW_BP) first, then the guest's (dr7 over db), which
// are fault-like code #DBs suppressed by RFLAGS.RF (SDM §18.3.1.1) and, on Intel-compatible
// guests only, by a MOV SS/POP SS shadow: the caller passes movss_shadow accordingly.
// Knob skip_code_bp_check: never reports (the pre-2013 behaviour, seed 004).
CodeBpResult check_code_breakpoint(const State &s, uint64_t linear_rip, bool rf, bool movss_shadow,
				   const Knobs &k);

// An emulated instruction completed (RIP advanced to next_linear_rip).
struct InsnDone {
	uint64_t next_linear_rip;
	bool tf; // guest-visible RFLAGS.TF when the instruction started (guest_rflags())
};

struct StepResult {
	DbgAction action;
	uint64_t payload;
	DebugExit exit;
	bool clear_rf; // RFLAGS.RF := 0: cleared after every completed instruction
};

// Single-step after an emulated instruction. Userspace single-step wins: KVM_EXIT_DEBUG at
// the next instruction, dr6 = 0xffff4ff0. Else with the guest's TF: a trap-like #DB, BS.
// A fault-like code breakpoint on the next instruction is detected together with the
// single-step trap and reported in the same #DB (DR6 = BS | Bn), as hardware does (seed
// 002); likewise for userspace breakpoints in the KVM_EXIT_DEBUG dr6. The next
// instruction runs with RF = 0 and no MOV SS shadow, so nothing suppresses the code bp.
// Knob single_cause_on_coincident: BS only.
StepResult after_emulated_insn(const State &s, const InsnDone &d, const Knobs &k);

} // namespace dbgkvm::debugreg
