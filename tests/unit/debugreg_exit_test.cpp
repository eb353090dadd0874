// SPDX-License-Identifier: GPL-2.0
//
// KVM_EXIT_DEBUG contents and intercepted #DBs on each vendor; seed 001 (SVM DR6 clobbering
// and stale causes across exits).

#include <gtest/gtest.h>

#include "debugreg/debugreg.hpp" // the umbrella header must stay self-contained
#include "debugreg/db_payload.hpp"
#include "debugreg/debug_exit.hpp"
#include "debugreg/dr_rules.hpp"
#include "debugreg/dr_switch.hpp"
#include "debugreg/guest_debug.hpp"
#include "debugreg_test_util.hpp"

namespace dbgkvm::debugreg
{
namespace
{

using test::fresh;

TEST(DebugregExit, Builders)
{
	for (int n = 0; n < 4; n++) {
		const DebugExit e = exit_hw_breakpoint(n, 0x1000, 0x401);
		EXPECT_EQ(e.exception, VEC_DB);
		EXPECT_EQ(e.dr6, 0xffff0ff0u | (1u << n));
		EXPECT_EQ(e.pc, 0x1000u);
		EXPECT_EQ(e.dr7, 0x401u);
	}
	EXPECT_EQ(exit_single_step(0x2000, 0x400).dr6, 0xffff4ff0u);
	EXPECT_EQ(exit_general_detect(0x3000, 0x2400).dr6, 0xffff2ff0u);
	const DebugExit bp = exit_sw_breakpoint(0x4000);
	EXPECT_EQ(bp.exception, VEC_BP);
	EXPECT_EQ(bp.pc, 0x4000u);
}

struct VmxRow {
	const char *name;
	uint32_t guest_debug;
	uint64_t qual;
	DbAction action;
	uint64_t value; // payload or exit dr6
};

TEST(DebugregExit, VmxTable)
{
	const uint32_t SS = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP;
	const uint32_t HW = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	const uint32_t SW = GUESTDBG_ENABLE | GUESTDBG_USE_SW_BP;
	const VmxRow rows[] = {
	    {"guest bp", 0, 0x2, DbAction::QueueDB, 0x2},
	    {"guest ss", 0, DR6_BS, DbAction::QueueDB, DR6_BS},
	    {"sw bp only: guest's #DB", SW, 0x1, DbAction::QueueDB, 0x1},
	    {"user ss", SS, DR6_BS, DbAction::ExitDebug, 0xffff4ff0},
	    {"user hw bp 3", HW, 0x8, DbAction::ExitDebug, 0xffff0ff8},
	    {"user gd", HW, DR6_BD, DbAction::ExitDebug, 0xffff2ff0},
	};
	for (const auto &r : rows) {
		State s = fresh();
		s.guest_debug = r.guest_debug;
		s.guest_debug_dr7 = 0x440;
		s.dr7 = 0x401;
		const DbIntercept d = on_db_intercept_vmx(s, r.qual, 0x5000);
		EXPECT_EQ(d.action, r.action) << r.name;
		if (r.action == DbAction::QueueDB) {
			EXPECT_EQ(d.payload, r.value) << r.name;
			continue;
		}
		EXPECT_EQ(d.exit.dr6, r.value) << r.name;
		EXPECT_EQ(d.exit.pc, 0x5000u) << r.name;
		EXPECT_EQ(d.exit.dr7, effective_dr7(s)) << r.name;
		EXPECT_EQ(s.dr6, DR6_ACTIVE_LOW) << r.name;
	}
}

TEST(DebugregExit, SvmGuestDbPayloadFromVmcbDr6)
{
	State s = fresh();
	s.dr6 = 0xffff0ff1; // stale B0 from an earlier #DB
	const DbIntercept d = on_db_intercept_svm(s, 0xffff0ff4, 0x6000, Knobs{});
	EXPECT_EQ(d.action, DbAction::QueueDB);
	EXPECT_EQ(d.payload, 0x4u);
	(void)deliver_db(s, d.payload);
	EXPECT_EQ(s.dr6, 0xffff0ff4u);
}

// A minimal SVM: the VMCB DR6 is written on a #DB "as if the #DB were delivered" (seed 001),
// so it keeps BS/BD of earlier #DBs and clears only B0-B3.
struct Vmcb {
	uint64_t dr6;
};

struct Seed2020 {
	DebugExit first, second;
	uint64_t guest_dr6;
};

Seed2020 run_seed_2020(const Knobs &k)
{
	State s = fresh();
	Vmcb vmcb{};
	GuestCtx g;
	g.linear_rip = 0x7000;

	s.dr6 = 0xffff0ff2; // the guest's own DR6 after an earlier #DB on DR1
	GuestDebugReq q{};
	q.control = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | GUESTDBG_USE_HW_BP;
	q.debugreg[7] = 0x400 | DR7_GD;
	EXPECT_EQ(set_guest_debug(s, q, false, 0x2, g.linear_rip).err, 0);

	// Run 1: single-step trap.
	vmcb.dr6 = plan_entry(s, Vendor::Svm, false, k).dr6;
	entered(s);
	vmcb.dr6 = merge_db_payload(vmcb.dr6, DR6_BS);
	const DbIntercept one = on_db_intercept_svm(s, vmcb.dr6, 0x7001, k);
	EXPECT_EQ(one.action, DbAction::ExitDebug);

	// Run 2: MOV DR with userspace's DR7.GD set.
	vmcb.dr6 = plan_entry(s, Vendor::Svm, false, k).dr6;
	entered(s);
	vmcb.dr6 = merge_db_payload(vmcb.dr6, DR6_BD);
	const DbIntercept two = on_db_intercept_svm(s, vmcb.dr6, 0x7002, k);
	EXPECT_EQ(two.action, DbAction::ExitDebug);

	return {one.exit, two.exit, s.dr6};
}

TEST(DebugregSeed2020, SvmExitDr6IsExactAndGuestDr6Untouched)
{
	const Seed2020 r = run_seed_2020(Knobs{});
	EXPECT_EQ(r.first.dr6, 0xffff4ff0u);
	EXPECT_EQ(r.first.pc, 0x7001u);
	EXPECT_EQ(r.second.dr6, 0xffff2ff0u); // no stale BS
	EXPECT_EQ(r.second.dr7, 0x400 | DR7_GD);
	EXPECT_EQ(r.guest_dr6, 0xffff0ff2u);
}

TEST(DebugregSeed2020, KnobReproducesClobberAndAccumulation)
{
	Knobs bug{};
	bug.svm_clobber_guest_dr6 = true;
	const Seed2020 r = run_seed_2020(bug);
	EXPECT_EQ(r.first.dr6, 0xffff4ff0u);
	EXPECT_EQ(r.second.dr6, 0xffff6ff0u); // BS from the first exit accumulated
	EXPECT_NE(r.guest_dr6, 0xffff0ff2u);  // the guest's DR6 was clobbered
}

TEST(DebugregSeed2020, VmxIsNotAffected)
{
	// The VMX exit qualification only has the causes of this #DB.
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP;
	s.dr6 = 0xffff0ff2;
	EXPECT_EQ(on_db_intercept_vmx(s, DR6_BS, 1).exit.dr6, 0xffff4ff0u);
	EXPECT_EQ(on_db_intercept_vmx(s, DR6_BD, 2).exit.dr6, 0xffff2ff0u);
	EXPECT_EQ(s.dr6, 0xffff0ff2u);
}

TEST(DebugregSeed2020, OtherKnobsDoNotChangeTheOutcome)
{
	Knobs others{};
	others.no_reload_on_load = true;
	others.skip_code_bp_check = true;
	others.single_cause_on_coincident = true;
	const Seed2020 r = run_seed_2020(others);
	EXPECT_EQ(r.first.dr6, 0xffff4ff0u);
	EXPECT_EQ(r.second.dr6, 0xffff2ff0u);
	EXPECT_EQ(r.guest_dr6, 0xffff0ff2u);
}

TEST(DebugregSeed2020, KnobLeavesGuestOwnedDbAlone)
{
	// Without userspace debugging the #DB goes to the guest the same way with or without the
	// knob: the bug was only in the KVM_EXIT_DEBUG path.
	Knobs bug{};
	bug.svm_clobber_guest_dr6 = true;
	for (const Knobs &k : {Knobs{}, bug}) {
		State s = fresh();
		const DbIntercept d = on_db_intercept_svm(s, 0xffff0ff1, 0x6000, k);
		EXPECT_EQ(d.action, DbAction::QueueDB);
		EXPECT_EQ(d.payload, 0x1u);
		EXPECT_EQ(s.dr6, DR6_ACTIVE_LOW);
	}
}

} // namespace
} // namespace dbgkvm::debugreg
