// SPDX-License-Identifier: GPL-2.0
#include "debug_exit.hpp"

#include "db_payload.hpp"

namespace dbgkvm::debugreg
{

DebugExit exit_hw_breakpoint(int n, uint64_t pc, uint64_t dr7)
{
	return {VEC_DB, pc, DR6_ACTIVE_LOW | (1ull << (n & 3)), dr7};
}

DebugExit exit_single_step(uint64_t pc, uint64_t dr7)
{
	return {VEC_DB, pc, DR6_ACTIVE_LOW | DR6_BS, dr7};
}

DebugExit exit_general_detect(uint64_t pc, uint64_t dr7)
{
	return {VEC_DB, pc, DR6_ACTIVE_LOW | DR6_BD, dr7};
}

DebugExit exit_sw_breakpoint(uint64_t pc)
{
	return {VEC_BP, pc, 0, 0};
}

DbIntercept on_db_intercept_vmx(const State &s, uint64_t exit_qual, uint64_t pc)
{
	DbIntercept r{};

	if (!db_exits_to_user(s)) {
		r.action = DbAction::QueueDB;
		r.payload = exit_qual;
		return r;
	}
	r.action = DbAction::ExitDebug;
	r.exit = {VEC_DB, pc, exit_qual | DR6_ACTIVE_LOW, effective_dr7(s)};
	return r;
}

DbIntercept on_db_intercept_svm(State &s, uint64_t vmcb_dr6, uint64_t pc, const Knobs &k)
{
	DbIntercept r{};

	if (!db_exits_to_user(s)) {
		r.action = DbAction::QueueDB;
		r.payload = dr6_to_payload(vmcb_dr6);
		return r;
	}
	r.action = DbAction::ExitDebug;
	r.exit = {VEC_DB, pc, vmcb_dr6, effective_dr7(s)};
	if (k.svm_clobber_guest_dr6)
		s.dr6 = vmcb_dr6;
	r.push = PUSH_DR6;
	return r;
}

} // namespace dbgkvm::debugreg
