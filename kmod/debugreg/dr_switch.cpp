// SPDX-License-Identifier: GPL-2.0
#include "dr_switch.hpp"

namespace dbgkvm::debugreg
{

void vcpu_load(State &s, const Knobs &k)
{
	if (!k.no_reload_on_load)
		s.switch_db_regs |= KVM_DEBUGREG_RELOAD;
}

EntryPlan plan_entry(const State &s, Vendor v, bool host_bps_active, const Knobs &k)
{
	EntryPlan p{};
	const bool wont_exit = needs_sync(s);

	p.load_db = (s.switch_db_regs & KVM_DEBUGREG_RELOAD) || host_bps_active;
	p.verify_db = !p.load_db && !k.no_reload_on_load &&
		      (s.switch_db_regs & (KVM_DEBUGREG_BP_ENABLED | KVM_DEBUGREG_WONT_EXIT));
	p.dr7_inert = p.load_db || host_bps_active;
	for (int i = 0; i < NR_DB_REGS; i++)
		p.db[i] = s.eff_db[i];
	p.dr6 = hw_dr6(s, v, k);
	if (v == Vendor::Vmx)
		p.load_dr6 = wont_exit;
	else
		p.write_vmcb_dr6 = true;
	p.dr7 = effective_dr7(s);
	p.restore_host = host_bps_active;
	p.rewrite_host_dr7 = v == Vendor::Svm && !p.restore_host && (p.dr7 & DR7_BP_EN_MASK);
	p.reset_host_dr6 = p.load_dr6;
	return p;
}

void entered(State &s)
{
	s.switch_db_regs &= ~KVM_DEBUGREG_RELOAD;
}

void exited(State &s, const EntryPlan &p)
{
	if (p.restore_host)
		s.switch_db_regs |= KVM_DEBUGREG_RELOAD;
}

uint32_t sync_dirty_debug_regs(State &s, const HwDebugRegs &hw)
{
	uint32_t push = PUSH_DR_INTERCEPT | PUSH_DR6;

	for (int i = 0; i < NR_DB_REGS; i++)
		s.db[i] = hw.db[i];
	s.dr6 = hw.dr6;
	s.dr7 = hw.dr7;
	s.switch_db_regs &= ~KVM_DEBUGREG_WONT_EXIT;
	(void)update_dr0123(s); // eff_db := db, which the hardware holds
	s.switch_db_regs &= ~KVM_DEBUGREG_RELOAD;
	push |= update_dr7(s);
	return push;
}

bool hands_over_dr_access(const State &s, int dr, const GuestCtx &g)
{
	// The checks of get_dr cover both directions; only a clean access may be handed over.
	return s.guest_debug == 0 && get_dr(s, dr, g).action == DrAction::Done;
}

DrResult on_dr_intercept(State &s, int dr, bool is_write, uint64_t val, const GuestCtx &g)
{
	DrResult r = get_dr(s, dr, g);

	if (r.action != DrAction::Done)
		return r;
	if (s.guest_debug == 0) { // hands_over_dr_access
		s.switch_db_regs |= KVM_DEBUGREG_WONT_EXIT;
		r = DrResult{};
		r.action = DrAction::Reenter;
		r.push = PUSH_DR_INTERCEPT;
		return r;
	}
	return is_write ? set_dr(s, dr, val, g) : get_dr(s, dr, g);
}

} // namespace dbgkvm::debugreg
