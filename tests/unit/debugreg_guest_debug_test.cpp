// SPDX-License-Identifier: GPL-2.0
//
// KVM_SET_GUEST_DEBUG, RFLAGS.TF under userspace single-step, KVM_GET/SET_DEBUGREGS.

#include <gtest/gtest.h>

#include "debugreg/dr_rules.hpp"
#include "debugreg/guest_debug.hpp"

namespace dbgkvm::debugreg
{
namespace
{

State fresh()
{
	State s;
	init(s);
	s.switch_db_regs &= ~KVM_DEBUGREG_RELOAD;
	return s;
}

// The entry helper lives in dr_switch; keep this file independent of it.
void entered_local(State &s)
{
	s.switch_db_regs &= ~KVM_DEBUGREG_RELOAD;
}

GuestDebugReq req(uint32_t control)
{
	GuestDebugReq r{};
	r.control = control;
	return r;
}

constexpr uint64_t RIP = 0xffffffff81000010;
constexpr uint32_t EN = GUESTDBG_ENABLE;

TEST(DebugregGuestDebug, UnknownControlBitsAreRejected)
{
	for (uint32_t bad : {0x4u, 0x8u, 0x100u, 0x8000u, 0x200000u, 0x80000000u}) {
		State s = fresh();
		const State before = s;
		const GuestDebugResult r = set_guest_debug(s, req(EN | bad), false, 0x2, RIP);
		EXPECT_EQ(r.err, -22) << std::hex << bad;
		EXPECT_EQ(s.guest_debug, before.guest_debug);
		EXPECT_EQ(s.switch_db_regs, before.switch_db_regs);
	}
	State s = fresh();
	EXPECT_EQ(set_guest_debug(s, req(GUESTDBG_VALID_MASK), false, 0x2, RIP).err, 0);
}

struct InjectRow {
	uint32_t control;
	bool pending;
	int err;
	bool queue_db, queue_bp;
};

TEST(DebugregGuestDebug, InjectTable)
{
	const uint32_t DB = GUESTDBG_INJECT_DB, BP = GUESTDBG_INJECT_BP;
	const InjectRow rows[] = {
	    {EN | DB, false, 0, true, false},	   {EN | BP, false, 0, false, true},
	    {EN | DB | BP, false, 0, true, false}, // #DB wins, like KVM
	    {EN | DB, true, -16, false, false},	   {EN | BP, true, -16, false, false},
	    {EN, true, 0, false, false}, // a pending exception only matters for INJECT_*
	    {DB, false, 0, true, false}, // injection does not need ENABLE
	};
	for (const auto &r : rows) {
		State s = fresh();
		const GuestDebugResult g = set_guest_debug(s, req(r.control), r.pending, 0x2, RIP);
		EXPECT_EQ(g.err, r.err) << std::hex << r.control;
		EXPECT_EQ(g.queue_db, r.queue_db) << std::hex << r.control;
		EXPECT_EQ(g.queue_bp, r.queue_bp) << std::hex << r.control;
	}
}

TEST(DebugregGuestDebug, FlagsWithoutEnableMeanOff)
{
	State s = fresh();
	const GuestDebugResult r = set_guest_debug(
	    s, req(GUESTDBG_SINGLESTEP | GUESTDBG_USE_HW_BP | GUESTDBG_BLOCKIRQ), false, 0x2, RIP);
	EXPECT_EQ(r.err, 0);
	EXPECT_EQ(s.guest_debug, 0u);
	EXPECT_FALSE(irq_injection_blocked(s));
	EXPECT_EQ(r.rflags & RFLAGS_TF, 0u);
}

TEST(DebugregGuestDebug, UseHwBpTakesUserspaceRegisters)
{
	State s = fresh();
	s.db[0] = 0x1111; // the guest's own
	s.dr7 = 0x401;
	(void)update_dr7(s);
	GuestDebugReq q = req(EN | GUESTDBG_USE_HW_BP);
	q.debugreg[0] = 0xa0;
	q.debugreg[3] = 0xa3;
	q.debugreg[6] = 0xdead; // ignored
	q.debugreg[7] = 0x400 | dr7_global_enable(3);
	const GuestDebugResult r = set_guest_debug(s, q, false, 0x2, RIP);
	EXPECT_EQ(r.err, 0);
	EXPECT_TRUE(r.push & PUSH_DR7);
	EXPECT_TRUE(r.push & PUSH_EFF_DB);
	EXPECT_EQ(s.eff_db[0], 0xa0u);
	EXPECT_EQ(s.eff_db[3], 0xa3u);
	EXPECT_EQ(s.db[0], 0x1111u);
	EXPECT_EQ(s.guest_debug_dr7, 0x400 | dr7_global_enable(3));
	EXPECT_EQ(effective_dr7(s), 0x400 | dr7_global_enable(3));
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);

	// Userspace stops: the guest's registers come back.
	entered_local(s);
	const GuestDebugResult off = set_guest_debug(s, req(0), false, 0x2, RIP);
	EXPECT_EQ(off.err, 0);
	EXPECT_EQ(s.eff_db[0], 0x1111u);
	EXPECT_EQ(s.eff_db[3], 0u);
	EXPECT_EQ(effective_dr7(s), 0x401u);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);

	// Userspace hardware bps with nothing armed: BP_ENABLED follows userspace's DR7.
	q.debugreg[7] = 0x400;
	(void)set_guest_debug(s, q, false, 0x2, RIP);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
}

TEST(DebugregGuestDebug, SingleStepForcesAndHidesTf)
{
	State s = fresh();
	const uint64_t rflags = 0x202; // IF
	const GuestDebugResult r =
	    set_guest_debug(s, req(EN | GUESTDBG_SINGLESTEP), false, rflags, RIP);
	EXPECT_EQ(r.err, 0);
	EXPECT_EQ(s.singlestep_rip, RIP);
	EXPECT_EQ(r.rflags, rflags | RFLAGS_TF);
	EXPECT_EQ(guest_rflags(s, r.rflags), rflags); // the guest never sees it
	EXPECT_EQ(hw_rflags_for(s, rflags, RIP), rflags | RFLAGS_TF);
	EXPECT_EQ(hw_rflags_for(s, rflags, RIP + 1), rflags); // RIP moved on: not forced
	EXPECT_FALSE(r.intercept_bp);

	// Turning single-step off drops the forced TF.
	const GuestDebugResult off = set_guest_debug(s, req(EN), false, r.rflags, RIP);
	EXPECT_EQ(off.rflags, rflags);
	EXPECT_EQ(guest_rflags(s, off.rflags | RFLAGS_TF), rflags | RFLAGS_TF);
}

TEST(DebugregGuestDebug, GuestTfSurvivesOtherDebugging)
{
	State s = fresh();
	const uint64_t rflags = 0x302; // guest single-steps itself
	const GuestDebugResult r =
	    set_guest_debug(s, req(EN | GUESTDBG_USE_SW_BP), false, rflags, RIP);
	EXPECT_EQ(r.rflags, rflags);
	EXPECT_TRUE(r.intercept_bp);
	EXPECT_TRUE(intercept_bp(s));
}

TEST(DebugregGuestDebug, BlockIrq)
{
	State s = fresh();
	(void)set_guest_debug(s, req(EN | GUESTDBG_SINGLESTEP | GUESTDBG_BLOCKIRQ), false, 0x2,
			      RIP);
	EXPECT_TRUE(irq_injection_blocked(s));
	(void)set_guest_debug(s, req(EN | GUESTDBG_SINGLESTEP), false, 0x2, RIP);
	EXPECT_FALSE(irq_injection_blocked(s));
}

TEST(DebugregGuestDebug, SvmDr6IsResetWhenDebuggingStarts)
{
	// Seed 001: while userspace debugs, the VMCB DR6 runs as DR6_ACTIVE_LOW and the guest's
	// dr6 stays in the model.
	State s = fresh();
	s.dr6 = 0xffff0ff2;
	const GuestDebugResult r =
	    set_guest_debug(s, req(EN | GUESTDBG_SINGLESTEP), false, 0x2, RIP);
	EXPECT_TRUE(r.push & PUSH_DR6);
	EXPECT_EQ(hw_dr6(s, Vendor::Svm, Knobs{}), DR6_ACTIVE_LOW);
	EXPECT_EQ(s.dr6, 0xffff0ff2u);
	(void)set_guest_debug(s, req(0), false, 0x2, RIP);
	EXPECT_EQ(s.dr6, 0xffff0ff2u);
}

struct DebugregsRow {
	const char *name;
	uint64_t dr6, dr7, flags;
	int err;
};

TEST(DebugregGuestDebug, SetDebugregsTable)
{
	const DebugregsRow rows[] = {
	    {"ok", 0xffff0ff1, 0x401, 0, 0},
	    {"raw values kept", 0, 0, 0, 0},
	    {"flags", 0xffff0ff0, 0x400, 1, -22},
	    {"dr6 high", 1ull << 32 | 0xffff0ff0, 0x400, 0, -22},
	    {"dr7 high", 0xffff0ff0, 1ull << 63 | 0x400, 0, -22},
	};
	for (const auto &r : rows) {
		State s = fresh();
		Debugregs in{};
		in.db[0] = 0x10;
		in.db[3] = 0x13;
		in.dr6 = r.dr6;
		in.dr7 = r.dr7;
		in.flags = r.flags;
		uint32_t push = 0;
		EXPECT_EQ(set_debugregs(s, in, &push), r.err) << r.name;
		Debugregs out;
		get_debugregs(s, out);
		if (r.err) {
			EXPECT_EQ(push, PUSH_NONE) << r.name;
			EXPECT_EQ(out.db[0], 0u) << r.name;
			EXPECT_EQ(out.dr6, DR6_ACTIVE_LOW) << r.name;
			continue;
		}
		EXPECT_EQ(out.db[0], 0x10u) << r.name;
		EXPECT_EQ(out.db[3], 0x13u) << r.name;
		EXPECT_EQ(out.dr6, r.dr6) << r.name;
		EXPECT_EQ(out.dr7, r.dr7) << r.name;
		EXPECT_EQ(out.flags, 0u) << r.name;
		EXPECT_EQ(s.eff_db[3], 0x13u) << r.name;
		EXPECT_TRUE(push & PUSH_DR7) << r.name;
		EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD) << r.name;
		EXPECT_EQ((s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED) != 0,
			  (r.dr7 & DR7_BP_EN_MASK) != 0)
		    << r.name;
	}
}

TEST(DebugregGuestDebug, SetDebugregsUnderUseHwBpKeepsUserspaceRegisters)
{
	State s = fresh();
	GuestDebugReq q = req(EN | GUESTDBG_USE_HW_BP);
	q.debugreg[0] = 0xa0;
	q.debugreg[7] = 0x400;
	(void)set_guest_debug(s, q, false, 0x2, RIP);
	Debugregs in{};
	in.db[0] = 0x10;
	in.dr6 = DR6_ACTIVE_LOW;
	in.dr7 = 0x401;
	uint32_t push = 0;
	ASSERT_EQ(set_debugregs(s, in, &push), 0);
	EXPECT_EQ(s.db[0], 0x10u);
	EXPECT_EQ(s.eff_db[0], 0xa0u);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED); // userspace DR7 rules
}

TEST(DebugregGuestDebug, GetDebugregsZeroesTheRest)
{
	State s = fresh();
	Debugregs out;
	for (auto &r : out.reserved)
		r = 0x5a5a;
	out.flags = 7;
	get_debugregs(s, out);
	EXPECT_EQ(out.flags, 0u);
	for (auto r : out.reserved)
		EXPECT_EQ(r, 0u);
	EXPECT_EQ(out.dr6, 0xffff0ff0u);
	EXPECT_EQ(out.dr7, 0x400u);
}

} // namespace
} // namespace dbgkvm::debugreg
