// SPDX-License-Identifier: GPL-2.0
#include "guest_debug.hpp"

#include "dr_bits.hpp"
#include "dr_rules.hpp"

namespace dbgkvm::debugreg
{

uint64_t guest_rflags(const State &s, uint64_t hw_rflags)
{
	if (s.guest_debug & GUESTDBG_SINGLESTEP)
		hw_rflags &= ~RFLAGS_TF;
	return hw_rflags;
}

uint64_t hw_rflags_for(const State &s, uint64_t rflags, uint64_t linear_rip)
{
	if ((s.guest_debug & GUESTDBG_SINGLESTEP) && linear_rip == s.singlestep_rip)
		rflags |= RFLAGS_TF;
	return rflags;
}

GuestDebugResult set_guest_debug(State &s, const GuestDebugReq &req, bool exception_pending,
				 uint64_t hw_rflags, uint64_t linear_rip)
{
	GuestDebugResult r{};
	const uint32_t inject = GUESTDBG_INJECT_DB | GUESTDBG_INJECT_BP;

	if (req.control & ~GUESTDBG_VALID_MASK) {
		r.err = -DR_EINVAL;
		return r;
	}
	if (req.control & inject) {
		if (exception_pending) {
			r.err = -DR_EBUSY;
			return r;
		}
		r.queue_db = (req.control & GUESTDBG_INJECT_DB) != 0;
		r.queue_bp = !r.queue_db;
	}

	const uint64_t rflags = guest_rflags(s, hw_rflags);

	s.guest_debug = (req.control & GUESTDBG_ENABLE) ? req.control : 0;
	if (guest_debugging_hw(s)) {
		for (int i = 0; i < NR_DB_REGS; i++)
			s.eff_db[i] = req.debugreg[i];
		s.guest_debug_dr7 = req.debugreg[7];
	} else {
		for (int i = 0; i < NR_DB_REGS; i++)
			s.eff_db[i] = s.db[i];
	}
	s.switch_db_regs |= KVM_DEBUGREG_RELOAD;
	r.push = update_dr7(s) | PUSH_EFF_DB | PUSH_DR6;
	// Userspace debugs: MOV DR must exit again, the guest may not own the registers
	// (hands_over_dr_access is for guest_debug == 0 only; KVM WARNs on WONT_EXIT with
	// USE_HW_BP). WONT_EXIT can still be set here: the run loop returns to userspace on a
	// signal between handing the registers over (Reenter) and the next entry. The guest has
	// not run since (an exit with WONT_EXIT always syncs and clears it), so db, dr6 and dr7
	// are current and taking the registers back needs no sync.
	if (s.guest_debug && (s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT)) {
		s.switch_db_regs &= ~KVM_DEBUGREG_WONT_EXIT;
		r.push |= PUSH_DR_INTERCEPT;
	}

	if (s.guest_debug & GUESTDBG_SINGLESTEP)
		s.singlestep_rip = linear_rip;
	r.rflags = hw_rflags_for(s, rflags, linear_rip);
	r.intercept_bp = intercept_bp(s);
	return r;
}

void get_debugregs(const State &s, Debugregs &out)
{
	out = Debugregs{};
	for (int i = 0; i < NR_DB_REGS; i++)
		out.db[i] = s.db[i];
	out.dr6 = s.dr6;
	out.dr7 = s.dr7;
}

int set_debugregs(State &s, const Debugregs &in, uint32_t *push)
{
	*push = PUSH_NONE;
	if (in.flags)
		return -DR_EINVAL;
	if ((in.dr6 >> 32) || (in.dr7 >> 32))
		return -DR_EINVAL;
	for (int i = 0; i < NR_DB_REGS; i++)
		s.db[i] = in.db[i];
	*push |= update_dr0123(s);
	s.dr6 = in.dr6;
	s.dr7 = in.dr7;
	*push |= update_dr7(s) | PUSH_DR6;
	return 0;
}

} // namespace dbgkvm::debugreg
