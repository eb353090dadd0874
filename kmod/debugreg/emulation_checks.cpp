// SPDX-License-Identifier: GPL-2.0
#include "emulation_checks.hpp"

namespace dbgkvm::debugreg
{

uint64_t code_bp_hits(uint64_t dr7, const uint64_t db[NR_DB_REGS], uint64_t addr)
{
	uint64_t hits = 0;

	for (int i = 0; i < NR_DB_REGS; i++) {
		if (!dr7_enabled(dr7, i) || dr7_rw(dr7, i) != DR7_RW_EXECUTE ||
		    dr7_len(dr7, i) != DR7_LEN_1)
			continue;
		if (db[i] == addr)
			hits |= 1ull << i;
	}
	return hits;
}

namespace
{

uint64_t user_code_hits(const State &s, uint64_t addr)
{
	if (!guest_debugging_hw(s) || !(s.guest_debug_dr7 & DR7_BP_EN_MASK))
		return 0;
	return code_bp_hits(s.guest_debug_dr7, s.eff_db, addr);
}

uint64_t guest_code_hits(const State &s, uint64_t addr)
{
	if (!(s.dr7 & DR7_BP_EN_MASK))
		return 0;
	return code_bp_hits(s.dr7, s.db, addr);
}

} // namespace

CodeBpResult check_code_breakpoint(const State &s, uint64_t linear_rip, bool rf, bool movss_shadow,
				   const Knobs &k)
{
	CodeBpResult r{};

	if (k.skip_code_bp_check)
		return r;
	if (const uint64_t hits = user_code_hits(s, linear_rip)) {
		r.action = DbgAction::ExitDebug;
		r.exit = {VEC_DB, linear_rip, DR6_ACTIVE_LOW | hits, s.guest_debug_dr7};
		return r;
	}
	if (rf || movss_shadow)
		return r;
	if (const uint64_t hits = guest_code_hits(s, linear_rip)) {
		r.action = DbgAction::QueueDB;
		r.payload = hits;
	}
	return r;
}

StepResult after_emulated_insn(const State &s, const InsnDone &d, const Knobs &k)
{
	StepResult r{};
	const uint64_t next = d.next_linear_rip;

	r.clear_rf = true;
	if (s.guest_debug & GUESTDBG_SINGLESTEP) {
		const uint64_t hits = k.single_cause_on_coincident ? 0 : user_code_hits(s, next);

		r.action = DbgAction::ExitDebug;
		r.exit = {VEC_DB, next, DR6_ACTIVE_LOW | DR6_BS | hits, effective_dr7(s)};
		return r;
	}
	if (d.tf) {
		r.action = DbgAction::QueueDB;
		r.payload = DR6_BS;
		if (!k.single_cause_on_coincident)
			r.payload |= guest_code_hits(s, next);
	}
	return r;
}

} // namespace dbgkvm::debugreg
