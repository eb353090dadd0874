// SPDX-License-Identifier: GPL-2.0
#include "dr_rules.hpp"

namespace dbgkvm::debugreg
{

uint64_t dr6_fixed(const GuestCtx &g)
{
	uint64_t fixed = DR6_FIXED_1;

	if (!g.has_rtm)
		fixed |= DR6_RTM;
	if (!g.has_bus_lock_detect)
		fixed |= DR6_BUS_LOCK;
	return fixed;
}

uint32_t update_dr0123(State &s)
{
	if (guest_debugging_hw(s))
		return PUSH_NONE;
	for (int i = 0; i < NR_DB_REGS; i++)
		s.eff_db[i] = s.db[i];
	s.switch_db_regs |= KVM_DEBUGREG_RELOAD;
	return PUSH_EFF_DB;
}

uint32_t update_dr7(State &s)
{
	s.switch_db_regs &= ~KVM_DEBUGREG_BP_ENABLED;
	if (effective_dr7(s) & DR7_BP_EN_MASK)
		s.switch_db_regs |= KVM_DEBUGREG_BP_ENABLED;
	return PUSH_DR7;
}

uint64_t hw_dr6(const State &s, Vendor v, const Knobs &k)
{
	if (v == Vendor::Vmx || k.svm_clobber_guest_dr6)
		return s.dr6;
	return (s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT) ? s.dr6 : DR6_ACTIVE_LOW;
}

void init(State &s)
{
	s = State{};
	(void)reset(s);
}

uint32_t reset(State &s)
{
	uint32_t push = PUSH_DR6;

	for (int i = 0; i < NR_DB_REGS; i++)
		s.db[i] = 0;
	push |= update_dr0123(s);
	s.dr6 = DR6_ACTIVE_LOW;
	s.dr7 = DR7_RESET;
	push |= update_dr7(s);
	return push;
}

namespace
{

DrResult result(DrAction a)
{
	DrResult r{};
	r.action = a;
	return r;
}

// CPL, #UD and GD checks common to reads and writes. Maps DR4/DR5 to DR6/DR7 in `dr`.
bool mov_dr_faults(const State &s, int &dr, const GuestCtx &g, DrResult &r)
{
	if (g.cpl > 0) {
		r = result(DrAction::InjectGP);
		return true;
	}
	if (dr < 0 || dr > 7 || ((dr == 4 || dr == 5) && g.cr4_de)) {
		r = result(DrAction::InjectUD);
		return true;
	}
	if (dr == 4 || dr == 5)
		dr += 2;
	r = check_mov_dr_gd(s, g);
	return r.action != DrAction::Done;
}

} // namespace

DrResult check_mov_dr_gd(const State &s, const GuestCtx &g)
{
	const uint64_t dr7 = effective_dr7(s);
	DrResult r = result(DrAction::Done);

	if (!(dr7 & DR7_GD))
		return r;
	if (guest_debugging_hw(s)) {
		r.action = DrAction::ExitDebug;
		r.exit = {VEC_DB, g.linear_rip, DR6_ACTIVE_LOW | DR6_BD, dr7};
	} else {
		r.action = DrAction::QueueDB;
		r.db_payload = DR6_BD;
	}
	return r;
}

DrResult set_dr(State &s, int dr, uint64_t val, const GuestCtx &g)
{
	DrResult r;

	if (mov_dr_faults(s, dr, g, r))
		return r;
	switch (dr) {
	case 0:
	case 1:
	case 2:
	case 3:
		s.db[dr] = val;
		r.push = update_dr0123(s);
		break;
	case 6:
		if (val >> 32)
			return result(DrAction::InjectGP);
		s.dr6 = (val & DR6_VOLATILE) | dr6_fixed(g);
		r.push = PUSH_DR6;
		break;
	default: // 7
		if (val >> 32)
			return result(DrAction::InjectGP);
		s.dr7 = (val & DR7_VOLATILE) | DR7_FIXED_1;
		r.push = update_dr7(s);
		break;
	}
	return r;
}

DrResult get_dr(const State &s, int dr, const GuestCtx &g)
{
	DrResult r;

	if (mov_dr_faults(s, dr, g, r))
		return r;
	switch (dr) {
	case 0:
	case 1:
	case 2:
	case 3:
		r.value = s.db[dr];
		break;
	case 6:
		r.value = s.dr6;
		break;
	default: // 7
		r.value = s.dr7;
		break;
	}
	return r;
}

} // namespace dbgkvm::debugreg
