// SPDX-License-Identifier: GPL-2.0
//
// Debug checks around emulated instructions: code breakpoints before emulation (seed 004) and
// single-step after it, with the code-#DB/single-step coincidence (seed 002).

#include <gtest/gtest.h>

#include <vector>

#include "debugreg/db_payload.hpp"
#include "debugreg/dr_rules.hpp"
#include "debugreg/emulation_checks.hpp"
#include "debugreg_test_util.hpp"

namespace dbgkvm::debugreg
{
namespace
{

using test::fresh;

uint64_t exec_bp(int n)
{
	return dr7_global_enable(n) | dr7_rw_len(n, DR7_RW_EXECUTE, DR7_LEN_1);
}

struct HitRow {
	const char *name;
	uint64_t dr7;
	uint64_t addr;
	uint64_t hits;
};

TEST(DebugregEmulation, CodeBpHitsTable)
{
	const uint64_t db[4] = {0x100, 0x200, 0x100, 0x300};
	const HitRow rows[] = {
	    {"nothing armed", 0x400, 0x100, 0},
	    {"g0", 0x400 | exec_bp(0), 0x100, 0x1},
	    {"l0", 0x400 | dr7_local_enable(0), 0x100, 0x1},
	    {"l0 other addr", 0x400 | dr7_local_enable(0), 0x101, 0},
	    {"g1", 0x400 | exec_bp(1), 0x200, 0x2},
	    {"dr0 and dr2 same addr", 0x400 | exec_bp(0) | exec_bp(2), 0x100, 0x5},
	    {"write bp never on fetch",
	     0x400 | dr7_global_enable(0) | dr7_rw_len(0, DR7_RW_WRITE, DR7_LEN_1), 0x100, 0},
	    {"access bp never on fetch",
	     0x400 | dr7_global_enable(0) | dr7_rw_len(0, DR7_RW_ACCESS, DR7_LEN_1), 0x100, 0},
	    {"io bp never on fetch",
	     0x400 | dr7_global_enable(0) | dr7_rw_len(0, DR7_RW_IO, DR7_LEN_1), 0x100, 0},
	    {"execute with len 4: undefined, no match",
	     0x400 | dr7_global_enable(3) | dr7_rw_len(3, DR7_RW_EXECUTE, DR7_LEN_4), 0x300, 0},
	    {"execute with len 2",
	     0x400 | dr7_global_enable(3) | dr7_rw_len(3, DR7_RW_EXECUTE, DR7_LEN_2), 0x300, 0},
	    {"disabled field ignored", 0x400 | dr7_rw_len(0, DR7_RW_EXECUTE, DR7_LEN_1), 0x100, 0},
	};
	for (const auto &r : rows)
		EXPECT_EQ(code_bp_hits(r.dr7, db, r.addr), r.hits) << r.name;
}

struct CodeRow {
	const char *name;
	bool user, guest; // userspace bp on DR1 / guest bp on DR2 at the RIP
	bool rf, movss;
	DbgAction action;
	uint64_t value; // exit dr6 or payload
};

TEST(DebugregEmulation, CheckCodeBreakpointTable)
{
	const CodeRow rows[] = {
	    {"none", false, false, false, false, DbgAction::None, 0},
	    {"guest", false, true, false, false, DbgAction::QueueDB, 0x4},
	    {"guest, rf", false, true, true, false, DbgAction::None, 0},
	    {"guest, mov ss shadow", false, true, false, true, DbgAction::None, 0},
	    {"user", true, false, false, false, DbgAction::ExitDebug, 0xffff0ff2},
	    {"user ignores rf", true, false, true, true, DbgAction::ExitDebug, 0xffff0ff2},
	    {"user first", true, true, false, false, DbgAction::ExitDebug, 0xffff0ff2},
	};
	const uint64_t rip = 0xffffffff81001234;
	for (const auto &r : rows) {
		State s = fresh();
		if (r.user) {
			s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
			s.eff_db[1] = rip;
			s.guest_debug_dr7 = 0x400 | exec_bp(1);
		}
		if (r.guest) {
			s.db[2] = rip;
			s.dr7 = 0x400 | exec_bp(2);
		}
		const CodeBpResult c = check_code_breakpoint(s, rip, r.rf, r.movss, Knobs{});
		EXPECT_EQ(c.action, r.action) << r.name;
		if (r.action == DbgAction::QueueDB) {
			EXPECT_EQ(c.payload, r.value) << r.name;
		}
		if (r.action == DbgAction::ExitDebug) {
			EXPECT_EQ(c.exit.exception, VEC_DB) << r.name;
			EXPECT_EQ(c.exit.dr6, r.value) << r.name;
			EXPECT_EQ(c.exit.pc, rip) << r.name;
			EXPECT_EQ(c.exit.dr7, s.guest_debug_dr7) << r.name;
		}
	}
}

TEST(DebugregEmulation, UserspaceRegistersNeedUseHwBp)
{
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP;
	s.eff_db[0] = 0x100;
	s.guest_debug_dr7 = 0x400 | exec_bp(0); // stale: USE_HW_BP is off
	EXPECT_EQ(check_code_breakpoint(s, 0x100, false, false, Knobs{}).action, DbgAction::None);
}

TEST(DebugregEmulation, GuestBreakpointsStillCountUnderUseHwBp)
{
	// The guest's DR7 is not in hardware, but the emulator still reports its breakpoints.
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.guest_debug_dr7 = 0x400;
	s.db[0] = 0x100;
	s.dr7 = 0x400 | exec_bp(0);
	const CodeBpResult c = check_code_breakpoint(s, 0x100, false, false, Knobs{});
	EXPECT_EQ(c.action, DbgAction::QueueDB);
	EXPECT_EQ(c.payload, 0x1u);
}

// Seed 004: with the knob the emulator runs straight over both kinds of breakpoint.
TEST(DebugregSeed2013, KnobSkipsTheCheck)
{
	Knobs bug{};
	bug.skip_code_bp_check = true;
	State s = fresh();
	s.db[2] = 0x100;
	s.dr7 = 0x400 | exec_bp(2);
	EXPECT_EQ(check_code_breakpoint(s, 0x100, false, false, Knobs{}).action,
		  DbgAction::QueueDB);
	EXPECT_EQ(check_code_breakpoint(s, 0x100, false, false, bug).action, DbgAction::None);
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	s.eff_db[0] = 0x100;
	s.guest_debug_dr7 = 0x400 | exec_bp(0);
	EXPECT_EQ(check_code_breakpoint(s, 0x100, false, false, Knobs{}).action,
		  DbgAction::ExitDebug);
	EXPECT_EQ(check_code_breakpoint(s, 0x100, false, false, bug).action, DbgAction::None);
}

struct StepRow {
	const char *name;
	uint32_t guest_debug;
	bool tf;
	DbgAction action;
	uint64_t value;
};

TEST(DebugregEmulation, AfterEmulatedInsnTable)
{
	const uint32_t SS = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP;
	const StepRow rows[] = {
	    {"no tf", 0, false, DbgAction::None, 0},
	    {"guest tf", 0, true, DbgAction::QueueDB, DR6_BS},
	    {"user ss", SS, false, DbgAction::ExitDebug, 0xffff4ff0},
	    {"user ss wins over guest tf", SS, true, DbgAction::ExitDebug, 0xffff4ff0},
	    {"sw bp only", GUESTDBG_ENABLE | GUESTDBG_USE_SW_BP, true, DbgAction::QueueDB, DR6_BS},
	};
	for (const auto &r : rows) {
		State s = fresh();
		s.guest_debug = r.guest_debug;
		const StepResult st = after_emulated_insn(s, {0x2002, r.tf}, Knobs{});
		EXPECT_TRUE(st.clear_rf) << r.name;
		EXPECT_EQ(st.action, r.action) << r.name;
		if (r.action == DbgAction::QueueDB) {
			EXPECT_EQ(st.payload, r.value) << r.name;
		}
		if (r.action == DbgAction::ExitDebug) {
			EXPECT_EQ(st.exit.dr6, r.value) << r.name;
			EXPECT_EQ(st.exit.pc, 0x2002u) << r.name;
		}
	}
}

// Seed 002, the kvm-unit-tests "Single-step + code #DB" case, instruction by instruction:
//   popf (sets TF) ; and $~TF, %rax ; 1: push %rax (DR2 = 1b) ; popf (clears TF) ; lea
// The guest's #DB handler records DR6 and RIP, clears DR6, and sets RF on a code #DB.
struct Insn {
	uint64_t rip, next;
};

struct Db {
	uint64_t dr6, rip;
};

std::vector<Db> run_seed_2025(const Knobs &k)
{
	const uint64_t start = 0x4015;
	const Insn insns[] = {
	    {0x4010, 0x4011},	    // popf: TF 0 -> 1, no trap after it
	    {0x4011, start},	    // and: TF = 1 -> single-step trap at `start`
	    {start, start + 1},	    // push: code bp on DR2
	    {start + 1, start + 2}, // popf: TF 1 -> 0, still traps
	    {start + 2, start + 9}, // lea: TF = 0
	};
	const bool tf_before[] = {false, true, true, true, false};

	State s = fresh();
	s.db[2] = start;
	s.dr7 = 0x400 | exec_bp(2);
	(void)update_dr7(s);

	std::vector<Db> seen;
	bool rf = false;
	auto handler = [&](uint64_t payload, uint64_t rip) {
		(void)deliver_db(s, payload);
		seen.push_back({s.dr6, rip});
		s.dr6 = DR6_ACTIVE_LOW;
		if (payload & DR_TRAP_BITS)
			rf = true; // IRET with RF: resume over the code breakpoint
	};

	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		for (int tries = 0; tries < 3; tries++) {
			const CodeBpResult c = check_code_breakpoint(s, insns[i].rip, rf, false, k);
			if (c.action != DbgAction::QueueDB)
				break;
			handler(c.payload, insns[i].rip);
		}
		const StepResult st = after_emulated_insn(s, {insns[i].next, tf_before[i]}, k);
		if (st.clear_rf)
			rf = false;
		if (st.action == DbgAction::QueueDB)
			handler(st.payload, insns[i].next);
	}
	return seen;
}

TEST(DebugregSeed2025, SingleStepAndCodeBreakpointInOneDb)
{
	const std::vector<Db> seen = run_seed_2025(Knobs{});
	ASSERT_EQ(seen.size(), 3u);
	EXPECT_EQ(seen[0].dr6, DR6_ACTIVE_LOW | DR6_BS | 0x4);
	EXPECT_EQ(seen[0].rip, 0x4015u);
	EXPECT_EQ(seen[1].dr6, DR6_ACTIVE_LOW | DR6_BS);
	EXPECT_EQ(seen[1].rip, 0x4016u);
	EXPECT_EQ(seen[2].dr6, DR6_ACTIVE_LOW | DR6_BS);
	EXPECT_EQ(seen[2].rip, 0x4017u);
}

TEST(DebugregSeed2025, KnobSplitsTheCoincidentDb)
{
	Knobs bug{};
	bug.single_cause_on_coincident = true;
	const std::vector<Db> seen = run_seed_2025(bug);
	ASSERT_EQ(seen.size(), 4u); // the kvm-unit-tests case expects 3
	EXPECT_EQ(seen[0].dr6, DR6_ACTIVE_LOW | DR6_BS);
	EXPECT_EQ(seen[1].dr6, DR6_ACTIVE_LOW | 0x4);
	EXPECT_EQ(seen[0].rip, seen[1].rip);
}

TEST(DebugregSeed2025, UserspaceSingleStepReportsCoincidentUserBreakpoint)
{
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | GUESTDBG_USE_HW_BP;
	s.eff_db[2] = 0x5000;
	s.guest_debug_dr7 = 0x400 | exec_bp(2);
	StepResult st = after_emulated_insn(s, {0x5000, false}, Knobs{});
	EXPECT_EQ(st.action, DbgAction::ExitDebug);
	EXPECT_EQ(st.exit.dr6, 0xffff4ff4u);
	Knobs bug{};
	bug.single_cause_on_coincident = true;
	st = after_emulated_insn(s, {0x5000, false}, bug);
	EXPECT_EQ(st.exit.dr6, 0xffff4ff0u);
	// Not at the breakpoint: plain single-step.
	st = after_emulated_insn(s, {0x5001, false}, Knobs{});
	EXPECT_EQ(st.exit.dr6, 0xffff4ff0u);
}

TEST(DebugregSeed2025, OtherKnobsDoNotChangeTheOutcome)
{
	Knobs others{};
	others.no_reload_on_load = true;
	others.svm_clobber_guest_dr6 = true;
	const std::vector<Db> seen = run_seed_2025(others);
	ASSERT_EQ(seen.size(), 3u);
	EXPECT_EQ(seen[0].dr6, DR6_ACTIVE_LOW | DR6_BS | 0x4);
}

TEST(DebugregSeed2025, KnobLeavesPlainSingleStepAlone)
{
	Knobs bug{};
	bug.single_cause_on_coincident = true;
	State s = fresh();
	s.db[0] = 0x9000;
	s.dr7 = 0x400 | exec_bp(0);
	const StepResult st = after_emulated_insn(s, {0x8001, true}, bug);
	EXPECT_EQ(st.action, DbgAction::QueueDB);
	EXPECT_EQ(st.payload, DR6_BS);
	EXPECT_EQ(after_emulated_insn(s, {0x8001, true}, Knobs{}).payload, DR6_BS);
}

TEST(DebugregSeed2013, KnobLeavesSingleStepAlone)
{
	Knobs bug{};
	bug.skip_code_bp_check = true;
	State s = fresh();
	EXPECT_EQ(after_emulated_insn(s, {0x8001, true}, bug).payload, DR6_BS);
}

} // namespace
} // namespace dbgkvm::debugreg
