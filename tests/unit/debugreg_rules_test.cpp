// SPDX-License-Identifier: GPL-2.0
//
// Register rules of the debug-register model: guest MOV to/from DRn, dr6_fixed, the update_*
// helpers, INIT/RESET and DR7.GD.

#include <gtest/gtest.h>

#include "debugreg/db_payload.hpp"
#include "debugreg/dr_rules.hpp"
#include "debugreg_test_util.hpp"

namespace dbgkvm::debugreg
{
namespace
{

using test::fresh;

GuestCtx ctx(int cpl = 0, bool de = false, bool rtm = false, bool bld = false)
{
	GuestCtx g;
	g.cpl = cpl;
	g.cr4_de = de;
	g.has_rtm = rtm;
	g.has_bus_lock_detect = bld;
	g.linear_rip = 0x1000;
	return g;
}

TEST(DebugregConstants, MatchTheManualsAndKvm)
{
	EXPECT_EQ(DR6_FIXED_1, 0xfffe07f0u);
	EXPECT_EQ(DR6_ACTIVE_LOW | DR6_BS, 0xffff4ff0u);
	EXPECT_EQ(DR6_ACTIVE_LOW | DR6_BD, 0xffff2ff0u);
	EXPECT_EQ(DR6_BUS_LOCK, 0x800u);
	EXPECT_EQ(DR6_RTM, 0x10000u);
	EXPECT_EQ(GUESTDBG_VALID_MASK, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | GUESTDBG_USE_SW_BP |
					   GUESTDBG_USE_HW_BP | GUESTDBG_INJECT_DB |
					   GUESTDBG_INJECT_BP | GUESTDBG_BLOCKIRQ);
	EXPECT_EQ(dr7_rw_len(2, DR7_RW_WRITE, DR7_LEN_4), 0x0d000000u);
	EXPECT_EQ(dr7_rw(0x0d000000, 2), DR7_RW_WRITE);
	EXPECT_EQ(dr7_len(0x0d000000, 2), DR7_LEN_4);
	EXPECT_EQ(dr7_local_enable(3) | dr7_global_enable(3), 0xc0u);
	EXPECT_TRUE(dr7_enabled(dr7_global_enable(1), 1));
	EXPECT_FALSE(dr7_enabled(dr7_global_enable(1), 0));
}

struct Dr6FixedRow {
	bool rtm, bld;
	uint64_t fixed;
};

TEST(DebugregRules, Dr6FixedDependsOnCpuid)
{
	const Dr6FixedRow rows[] = {
	    {false, false, 0xffff0ff0}, // RTM and BLD read as 1 (active low, absent)
	    {true, false, 0xfffe0ff0},
	    {false, true, 0xffff07f0},
	    {true, true, 0xfffe07f0},
	};
	for (const auto &r : rows)
		EXPECT_EQ(dr6_fixed(ctx(0, false, r.rtm, r.bld)), r.fixed) << r.rtm << r.bld;
}

struct SetRow {
	const char *name;
	int dr;
	uint64_t val;
	GuestCtx g;
	DrAction action;
	int read_dr; // register to read back (as DR index 0-3, 6 or 7); -1: none
	uint64_t readback;
};

TEST(DebugregRules, SetDrTable)
{
	const SetRow rows[] = {
	    {"dr0", 0, 0x1234, ctx(), DrAction::Done, 0, 0x1234},
	    {"dr3", 3, 0xffffffff80001000, ctx(), DrAction::Done, 3, 0xffffffff80001000},
	    {"dr0 cpl3 gp", 0, 1, ctx(3), DrAction::InjectGP, 0, 0},
	    {"dr7 cpl1 gp", 7, 0x401, ctx(1), DrAction::InjectGP, 7, 0x400},
	    {"dr4 aliases dr6", 4, 0x1, ctx(), DrAction::Done, 6, 0xffff0ff1},
	    {"dr4 de ud", 4, 0x1, ctx(0, true), DrAction::InjectUD, 6, 0xffff0ff0},
	    {"dr5 aliases dr7", 5, 0x1, ctx(), DrAction::Done, 7, 0x401},
	    {"dr5 de ud", 5, 0x1, ctx(0, true), DrAction::InjectUD, 7, 0x400},
	    {"dr4 de cpl3: gp first", 4, 0x1, ctx(3, true), DrAction::InjectGP, -1, 0},
	    {"dr8 ud", 8, 0, ctx(), DrAction::InjectUD, -1, 0},
	    {"dr-1 ud", -1, 0, ctx(), DrAction::InjectUD, -1, 0},
	    {"dr6 high gp", 6, 1ull << 32, ctx(), DrAction::InjectGP, 6, 0xffff0ff0},
	    {"dr7 high gp", 7, 1ull << 40 | 1, ctx(), DrAction::InjectGP, 7, 0x400},
	    {"dr6 zero", 6, 0, ctx(), DrAction::Done, 6, 0xffff0ff0},
	    {"dr6 zero rtm bld", 6, 0, ctx(0, false, true, true), DrAction::Done, 6, 0xfffe07f0},
	    {"dr6 ones", 6, 0xffffffff, ctx(), DrAction::Done, 6, 0xffffefff},
	    {"dr6 ones rtm bld", 6, 0xffffffff, ctx(0, false, true, true), DrAction::Done, 6,
	     0xffffefff},
	    {"dr6 guest clears rtm", 6, 0xfffeffff & ~DR6_RTM, ctx(0, false, true, false),
	     DrAction::Done, 6, 0xfffeefff},
	    {"dr6 rtm absent stays 1", 6, 0xfffeffff, ctx(), DrAction::Done, 6, 0xffffefff},
	    {"dr6 reserved bit12", 6, 0x1000, ctx(), DrAction::Done, 6, 0xffff0ff0},
	    {"dr7 zero", 7, 0, ctx(), DrAction::Done, 7, 0x400},
	    {"dr7 ones", 7, 0xffffffff, ctx(), DrAction::Done, 7, 0xffff2fff},
	    {"dr7 reserved 11,12,14,15", 7, 0xd800, ctx(), DrAction::Done, 7, 0x0c00},
	};
	for (const auto &r : rows) {
		State s = fresh();
		const DrResult res = set_dr(s, r.dr, r.val, r.g);
		EXPECT_EQ(res.action, r.action) << r.name;
		if (r.read_dr >= 0) {
			// Read the state directly: a DR7 with GD set would fault a get_dr.
			const uint64_t v = r.read_dr == 6   ? s.dr6
					   : r.read_dr == 7 ? s.dr7
							    : s.db[r.read_dr];
			EXPECT_EQ(v, r.readback) << r.name;
		}
	}
}

TEST(DebugregRules, SetDr0to3UpdatesEffDbAndReload)
{
	State s = fresh();
	s.switch_db_regs = 0;
	const DrResult r = set_dr(s, 2, 0xabc, ctx());
	EXPECT_EQ(r.action, DrAction::Done);
	EXPECT_EQ(s.db[2], 0xabcu);
	EXPECT_EQ(s.eff_db[2], 0xabcu);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
	EXPECT_TRUE(r.push & PUSH_EFF_DB);
}

TEST(DebugregRules, SetDr0to3UnderUseHwBpLeavesEffDb)
{
	State s = fresh();
	s.switch_db_regs = 0;
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.eff_db[1] = 0x5555;
	const DrResult r = set_dr(s, 1, 0x7777, ctx());
	EXPECT_EQ(r.action, DrAction::Done);
	EXPECT_EQ(s.db[1], 0x7777u);
	EXPECT_EQ(s.eff_db[1], 0x5555u);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
	EXPECT_EQ(r.push, PUSH_NONE);
}

TEST(DebugregRules, SetDr7PushesAndTracksBpEnabled)
{
	State s = fresh();
	DrResult r = set_dr(s, 7, dr7_global_enable(3), ctx());
	EXPECT_TRUE(r.push & PUSH_DR7);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
	r = set_dr(s, 7, DR7_GE, ctx());
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
	EXPECT_EQ(s.dr7, DR7_GE | DR7_FIXED_1);
}

TEST(DebugregRules, SetDr6PushesDr6)
{
	State s = fresh();
	EXPECT_TRUE(set_dr(s, 6, 0, ctx()).push & PUSH_DR6);
}

TEST(DebugregRules, GetDrTable)
{
	State s = fresh();
	s.db[0] = 10;
	s.db[1] = 11;
	s.db[2] = 12;
	s.db[3] = 13;
	s.eff_db[0] = 99; // userspace's: never visible to the guest
	s.dr6 = 0xffff0ff1;
	s.dr7 = 0x401;
	s.guest_debug_dr7 = 0x403;
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	struct {
		int dr;
		GuestCtx g;
		DrAction action;
		uint64_t value;
	} rows[] = {
	    {0, ctx(), DrAction::Done, 10},
	    {3, ctx(), DrAction::Done, 13},
	    {4, ctx(), DrAction::Done, 0xffff0ff1},
	    {5, ctx(), DrAction::Done, 0x401},
	    {6, ctx(), DrAction::Done, 0xffff0ff1},
	    {7, ctx(), DrAction::Done, 0x401}, // the guest's DR7, not userspace's
	    {4, ctx(0, true), DrAction::InjectUD, 0},
	    {5, ctx(0, true), DrAction::InjectUD, 0},
	    {6, ctx(3), DrAction::InjectGP, 0},
	    {9, ctx(), DrAction::InjectUD, 0},
	};
	for (const auto &r : rows) {
		const DrResult res = get_dr(s, r.dr, r.g);
		EXPECT_EQ(res.action, r.action) << r.dr;
		EXPECT_EQ(res.value, r.value) << r.dr;
	}
}

struct Dr7Row {
	uint32_t guest_debug;
	uint64_t dr7, guest_debug_dr7;
	bool bp_enabled;
};

TEST(DebugregRules, UpdateDr7UsesEffectiveDr7)
{
	const uint32_t hw = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	const Dr7Row rows[] = {
	    {0, 0x400, 0, false},      {0, 0x401, 0, true},
	    {0, 0x480, 0, true},       {0, 0x400 | DR7_GE | DR7_GD, 0, false}, // GE/GD arm nothing
	    {0, 0x400, 0x402, false},  // userspace dr7 ignored without USE_HW_BP
	    {hw, 0x401, 0x400, false}, // guest dr7 ignored with USE_HW_BP
	    {hw, 0x400, 0x440, true},  {GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP, 0x404, 0x400, true},
	};
	for (const auto &r : rows) {
		State s = fresh();
		s.guest_debug = r.guest_debug;
		s.dr7 = r.dr7;
		s.guest_debug_dr7 = r.guest_debug_dr7;
		s.switch_db_regs = KVM_DEBUGREG_BP_ENABLED; // must be recomputed, not only set
		EXPECT_EQ(update_dr7(s), PUSH_DR7);
		EXPECT_EQ((s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED) != 0, r.bp_enabled)
		    << std::hex << r.dr7 << " " << r.guest_debug_dr7;
		EXPECT_EQ(effective_dr7(s),
			  r.guest_debug & GUESTDBG_USE_HW_BP ? r.guest_debug_dr7 : r.dr7);
	}
}

TEST(DebugregRules, UpdateDr0123)
{
	State s = fresh();
	s.switch_db_regs = 0;
	s.db[0] = 1;
	s.db[3] = 4;
	EXPECT_EQ(update_dr0123(s), PUSH_EFF_DB);
	EXPECT_EQ(s.eff_db[0], 1u);
	EXPECT_EQ(s.eff_db[3], 4u);
	EXPECT_EQ(s.switch_db_regs, KVM_DEBUGREG_RELOAD);

	s.switch_db_regs = 0;
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.db[0] = 7;
	EXPECT_EQ(update_dr0123(s), PUSH_NONE);
	EXPECT_EQ(s.eff_db[0], 1u);
	EXPECT_EQ(s.switch_db_regs, 0u);
}

TEST(DebugregRules, HwDr6PerVendor)
{
	const Knobs fixed{};
	Knobs buggy{};
	buggy.svm_clobber_guest_dr6 = true;
	State s = fresh();
	s.dr6 = 0xffff4ff1;
	EXPECT_EQ(hw_dr6(s, Vendor::Vmx, fixed), 0xffff4ff1u);
	EXPECT_EQ(hw_dr6(s, Vendor::Svm, fixed), DR6_ACTIVE_LOW);
	EXPECT_EQ(hw_dr6(s, Vendor::Svm, buggy), 0xffff4ff1u);
	s.switch_db_regs |= KVM_DEBUGREG_WONT_EXIT;
	EXPECT_EQ(hw_dr6(s, Vendor::Svm, fixed), 0xffff4ff1u);
	EXPECT_EQ(hw_dr6(s, Vendor::Vmx, fixed), 0xffff4ff1u);
}

TEST(DebugregRules, InitAndReset)
{
	State s = fresh();
	EXPECT_EQ(s.dr6, 0xffff0ff0u);
	EXPECT_EQ(s.dr7, 0x400u);
	EXPECT_EQ(s.switch_db_regs, KVM_DEBUGREG_RELOAD); // DR0-3 must be zeroed in hardware
	for (int i = 0; i < NR_DB_REGS; i++) {
		EXPECT_EQ(s.db[i], 0u);
		EXPECT_EQ(s.eff_db[i], 0u);
	}

	// The guest used the registers, then INIT.
	s.db[1] = 0x1111;
	s.eff_db[1] = 0x1111;
	s.dr6 = 0xffff4ff2;
	s.dr7 = 0x40c;
	s.switch_db_regs = KVM_DEBUGREG_BP_ENABLED;
	const uint32_t push = reset(s);
	EXPECT_TRUE(push & PUSH_DR7);
	EXPECT_TRUE(push & PUSH_DR6);
	EXPECT_EQ(s.db[1], 0u);
	EXPECT_EQ(s.eff_db[1], 0u);
	EXPECT_EQ(s.dr6, 0xffff0ff0u);
	EXPECT_EQ(s.dr7, 0x400u);
	EXPECT_EQ(s.switch_db_regs, KVM_DEBUGREG_RELOAD);
}

TEST(DebugregRules, ResetKeepsUserspaceHwBreakpoints)
{
	// 2012: guest debugging must survive a vCPU INIT.
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.eff_db[0] = 0xfeed;
	s.guest_debug_dr7 = 0x401;
	s.db[0] = 0x1;
	s.switch_db_regs = 0;
	(void)reset(s);
	EXPECT_EQ(s.db[0], 0u);
	EXPECT_EQ(s.eff_db[0], 0xfeedu);
	EXPECT_EQ(s.guest_debug_dr7, 0x401u);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);
	EXPECT_EQ(effective_dr7(s), 0x401u);
}

TEST(DebugregRules, GeneralDetectQueuesDbForTheGuest)
{
	State s = fresh();
	ASSERT_EQ(set_dr(s, 7, 0x400 | DR7_GD, ctx()).action, DrAction::Done);

	for (int dr : {0, 3, 4, 6, 7}) {
		DrResult r = set_dr(s, dr, 0x5, ctx());
		EXPECT_EQ(r.action, DrAction::QueueDB) << dr;
		EXPECT_EQ(r.db_payload, DR6_BD) << dr;
		r = get_dr(s, dr, ctx());
		EXPECT_EQ(r.action, DrAction::QueueDB) << dr;
	}
	EXPECT_EQ(s.db[0], 0u); // the MOV did not execute
	EXPECT_EQ(s.dr7, 0x400 | DR7_GD);

	// CPL and #UD come first.
	EXPECT_EQ(set_dr(s, 0, 1, ctx(3)).action, DrAction::InjectGP);
	EXPECT_EQ(set_dr(s, 4, 1, ctx(0, true)).action, DrAction::InjectUD);

	// Delivery sets BD and clears GD, so the handler can use the registers.
	const uint32_t push = deliver_db(s, DR6_BD);
	EXPECT_EQ(s.dr6, 0xffff2ff0u);
	EXPECT_EQ(s.dr7, 0x400u);
	EXPECT_TRUE(push & PUSH_DR7);
	EXPECT_EQ(set_dr(s, 0, 0x5, ctx()).action, DrAction::Done);
	EXPECT_EQ(s.db[0], 0x5u);
}

TEST(DebugregRules, GeneralDetectUnderUseHwBpExitsToUserspace)
{
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.guest_debug_dr7 = 0x400 | DR7_GD;
	(void)update_dr7(s);
	GuestCtx g = ctx();
	g.linear_rip = 0xffffffff81000000;
	const DrResult r = set_dr(s, 0, 1, g);
	EXPECT_EQ(r.action, DrAction::ExitDebug);
	EXPECT_EQ(r.exit.exception, VEC_DB);
	EXPECT_EQ(r.exit.dr6, 0xffff2ff0u);
	EXPECT_EQ(r.exit.dr7, 0x400 | DR7_GD);
	EXPECT_EQ(r.exit.pc, 0xffffffff81000000u);
	EXPECT_EQ(s.db[0], 0u);

	// The guest's own GD is not in hardware while userspace owns DR7.
	State t = fresh();
	t.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	t.guest_debug_dr7 = 0x400;
	t.dr7 = 0x400 | DR7_GD;
	EXPECT_EQ(check_mov_dr_gd(t, g).action, DrAction::Done);
	EXPECT_EQ(set_dr(t, 0, 1, g).action, DrAction::Done);
}

} // namespace
} // namespace dbgkvm::debugreg
