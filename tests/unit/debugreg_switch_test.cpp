// SPDX-License-Identifier: GPL-2.0
//
// Ownership and switching of the hardware debug registers: vcpu_load, the entry plan, the exit
// sync, MOV-DR interception; and seeds 000/003 (the 2016 "missed hardware breakpoints" fix).

#include <gtest/gtest.h>

#include "debugreg/dr_entry.hpp"
#include "debugreg/dr_switch.hpp"
#include "debugreg_test_util.hpp"

namespace dbgkvm::debugreg
{
namespace
{

using test::fresh;

// One physical CPU's debug registers and where a guest's DR6/DR7 live while it runs,
// driven through the module's own entry sequence (debugreg/dr_entry.hpp).
struct Cpu {
	uint64_t dr[NR_DB_REGS] = {};
	uint64_t dr6 = DR6_ACTIVE_LOW; // hardware DR6 (VMX: the guest's while it owns them)
	uint64_t dr7 = DR7_FIXED_1;    // hardware DR7: the host's
	uint64_t vmcs_dr7 = 0;	       // VMCS GUEST_DR7 / VMCB save.dr7
	uint64_t vmcb_dr6 = 0;	       // SVM: VMCB save.dr6
	Vendor vendor = Vendor::Vmx;
	uint32_t pushed = 0;
	int loads = 0;
	uint32_t last_why = 0;
	EntrySwitch<Cpu> sw;

	uint64_t read_dr6() { return dr6; }
	uint64_t read_dr7() { return dr7; }
	void write_dr6(uint64_t v) { dr6 = v; }
	void write_dr7(uint64_t v) { dr7 = v; }
	void read_db(uint64_t db[NR_DB_REGS])
	{
		for (int i = 0; i < NR_DB_REGS; i++)
			db[i] = dr[i];
	}
	void write_db(const uint64_t db[NR_DB_REGS])
	{
		EXPECT_EQ(dr7 & DR7_BP_EN_MASK, 0u) << "DR0-3 written while DR7 is armed";
		for (int i = 0; i < NR_DB_REGS; i++)
			dr[i] = db[i];
	}
	void set_guest_dr6(uint64_t v) { (vendor == Vendor::Svm ? vmcb_dr6 : dr6) = v; }
	void set_guest_dr7(uint64_t v) { vmcs_dr7 = v; }
	uint64_t guest_dr6() { return vendor == Vendor::Svm ? vmcb_dr6 : dr6; }
	uint64_t guest_dr7() { return vmcs_dr7; }
	void push(uint32_t flags) { pushed |= flags; }
	void trace_load(uint32_t, uint32_t why, const uint64_t *, uint64_t)
	{
		loads++;
		last_why = why;
	}
	void trace_sync(uint32_t, const uint64_t *, uint64_t) {}
};

EntryPlan enter(State &s, Cpu &c, Vendor v, const Knobs &k)
{
	c.vendor = v;
	return c.sw.enter(s, v, k, c);
}

void exit_and_sync(State &s, Cpu &c)
{
	c.sw.exit(s, c);
}

GuestCtx cpl0()
{
	GuestCtx g;
	g.linear_rip = 0x1000;
	return g;
}

TEST(DebugregSwitch, ReloadOnceAfterInit)
{
	const Knobs k{};
	State s = fresh();
	EntryPlan p = plan_entry(s, Vendor::Vmx, false, k);
	EXPECT_TRUE(p.load_db);
	EXPECT_TRUE(p.dr7_inert); // DR7 inert before DR0-3 change
	entered(s);
	EXPECT_EQ(s.switch_db_regs, 0u);
	p = plan_entry(s, Vendor::Vmx, false, k);
	EXPECT_FALSE(p.load_db);
	EXPECT_FALSE(p.dr7_inert);
	EXPECT_FALSE(p.restore_host);
}

struct PlanRow {
	const char *name;
	uint32_t switch_db_regs;
	bool host_bps;
	Vendor v;
	bool load_db, verify_db, dr7_inert, load_dr6, write_vmcb_dr6;
	uint64_t dr6;
};

TEST(DebugregSwitch, PlanEntryTable)
{
	const uint64_t guest_dr6 = 0xffff4ff1;
	const uint32_t W = KVM_DEBUGREG_WONT_EXIT, B = KVM_DEBUGREG_BP_ENABLED,
		       R = KVM_DEBUGREG_RELOAD;
	const PlanRow rows[] = {
	    // name, switch_db_regs, host bps, vendor: load, verify, inert, VMX DR6, VMCB DR6
	    {"idle vmx", 0, false, Vendor::Vmx, false, false, false, false, false, guest_dr6},
	    {"idle svm", 0, false, Vendor::Svm, false, false, false, false, true, DR6_ACTIVE_LOW},
	    {"host bps only", 0, true, Vendor::Vmx, true, false, true, false, false, guest_dr6},
	    {"bp enabled: lazy", B, false, Vendor::Vmx, false, true, false, false, false,
	     guest_dr6},
	    {"reload", R, false, Vendor::Svm, true, false, true, false, true, DR6_ACTIVE_LOW},
	    {"bp + reload", B | R, false, Vendor::Vmx, true, false, true, false, false, guest_dr6},
	    {"wont_exit vmx", W, false, Vendor::Vmx, false, true, false, true, false, guest_dr6},
	    {"wont_exit svm", W, false, Vendor::Svm, false, true, false, false, true, guest_dr6},
	    {"bp+host svm", B, true, Vendor::Svm, true, false, true, false, true, DR6_ACTIVE_LOW},
	};
	for (const auto &r : rows) {
		State s = fresh();
		s.dr6 = guest_dr6;
		s.eff_db[2] = 0x2222;
		s.switch_db_regs = r.switch_db_regs;
		const EntryPlan p = plan_entry(s, r.v, r.host_bps, Knobs{});
		EXPECT_EQ(p.load_db, r.load_db) << r.name;
		EXPECT_EQ(p.verify_db, r.verify_db) << r.name;
		EXPECT_EQ(p.dr7_inert, r.dr7_inert) << r.name;
		EXPECT_EQ(p.load_dr6, r.load_dr6) << r.name;
		EXPECT_EQ(p.write_vmcb_dr6, r.write_vmcb_dr6) << r.name;
		EXPECT_EQ(p.dr6, r.dr6) << r.name;
		EXPECT_EQ(p.restore_host, r.host_bps) << r.name;
		EXPECT_EQ(p.reset_host_dr6, r.load_dr6) << r.name;
		EXPECT_EQ(p.db[2], 0x2222u) << r.name;
	}
}

TEST(DebugregSwitch, PlanEntryCarriesEffectiveDr7)
{
	State s = fresh();
	s.dr7 = 0x401;
	s.guest_debug_dr7 = 0x410;
	EXPECT_EQ(plan_entry(s, Vendor::Vmx, false, Knobs{}).dr7, 0x401u);
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	EXPECT_EQ(plan_entry(s, Vendor::Svm, false, Knobs{}).dr7, 0x410u);
}

TEST(DebugregSwitch, VcpuLoadSetsReload)
{
	State s = fresh();
	entered(s);
	vcpu_load(s, Knobs{});
	EXPECT_EQ(s.switch_db_regs, KVM_DEBUGREG_RELOAD);
	EXPECT_TRUE(plan_entry(s, Vendor::Vmx, false, Knobs{}).load_db);

	Knobs bug{};
	bug.no_reload_on_load = true;
	State t = fresh();
	entered(t);
	vcpu_load(t, bug);
	EXPECT_EQ(t.switch_db_regs, 0u);
	EXPECT_FALSE(plan_entry(t, Vendor::Vmx, false, bug).load_db);
}

TEST(DebugregSwitch, FirstInterceptedMovDrHandsTheRegistersToTheGuest)
{
	State s = fresh();
	entered(s);
	EXPECT_TRUE(should_intercept_dr_access(s));

	const DrResult r = on_dr_intercept(s, 0, true, 0xbeef, cpl0());
	EXPECT_EQ(r.action, DrAction::Reenter);
	EXPECT_TRUE(r.push & PUSH_DR_INTERCEPT);
	EXPECT_EQ(s.db[0], 0u); // not emulated: re-executed natively
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT);
	EXPECT_FALSE(should_intercept_dr_access(s));

	// The hardware already holds eff_db (no RELOAD): entry only checks them, and loads the
	// guest's DR6 (VMX).
	Cpu c{};
	const EntryPlan p = enter(s, c, Vendor::Vmx, Knobs{});
	EXPECT_FALSE(p.load_db);
	EXPECT_TRUE(p.verify_db);
	EXPECT_TRUE(p.load_dr6);

	// The guest writes natively; the next exit takes everything back.
	c.dr[0] = 0xbeef;
	c.dr6 = 0xffff0ff1;
	c.vmcs_dr7 = 0x401;
	exit_and_sync(s, c);
	EXPECT_EQ(s.db[0], 0xbeefu);
	EXPECT_EQ(s.eff_db[0], 0xbeefu);
	EXPECT_EQ(s.dr6, 0xffff0ff1u);
	EXPECT_EQ(s.dr7, 0x401u);
	EXPECT_TRUE(should_intercept_dr_access(s));
	EXPECT_EQ(s.switch_db_regs, KVM_DEBUGREG_BP_ENABLED); // no RELOAD: hardware has them
}

// Found by tests/fuzz/fuzz_debugreg (corpus file set-guest-debug-after-hand-over): the run loop
// returns to userspace on a signal after a MOV-DR exit handed the registers to the guest and
// before the next entry. KVM_SET_GUEST_DEBUG must then take them back: with USE_HW_BP the guest
// would run with MOV DR unintercepted over the debugger's DR0-3/DR7, and the exit's sync would
// copy the debugger's values into the guest's own db/dr7 (KVM WARNs on this state).
TEST(DebugregSwitch, SetGuestDebugTakesBackRegistersHandedToTheGuest)
{
	State s = fresh();
	entered(s);
	ASSERT_EQ(on_dr_intercept(s, 7, false, 0, cpl0()).action, DrAction::Reenter);
	ASSERT_TRUE(needs_sync(s));
	// signal_pending: back to userspace, the guest has not run
	GuestDebugReq req{};
	req.control = GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP;
	req.debugreg[0] = 0xdead000;
	req.debugreg[7] = 0x401;
	const GuestDebugResult r = set_guest_debug(s, req, false, 0x2, 0x1000);
	ASSERT_EQ(r.err, 0);
	EXPECT_TRUE(r.push & PUSH_DR_INTERCEPT);
	EXPECT_FALSE(needs_sync(s));
	EXPECT_TRUE(should_intercept_dr_access(s));

	// The next entry runs the debugger's breakpoints; the exit leaves the guest's alone.
	Cpu c{};
	const EntryPlan p = enter(s, c, Vendor::Vmx, Knobs{});
	EXPECT_FALSE(p.load_dr6);
	EXPECT_EQ(c.dr[0], 0xdead000u);
	EXPECT_EQ(c.vmcs_dr7, 0x401u);
	exit_and_sync(s, c);
	EXPECT_EQ(s.db[0], 0u);
	EXPECT_EQ(s.dr7, DR7_RESET);
	EXPECT_EQ(s.eff_db[0], 0xdead000u);

	// Without userspace debugging, the hand-over stays as it was.
	State t = fresh();
	entered(t);
	ASSERT_EQ(on_dr_intercept(t, 0, true, 1, cpl0()).action, DrAction::Reenter);
	EXPECT_EQ(set_guest_debug(t, GuestDebugReq{}, false, 0x2, 0x1000).push & PUSH_DR_INTERCEPT,
		  0u);
	EXPECT_TRUE(needs_sync(t));
}

TEST(DebugregSwitch, SyncPushes)
{
	State s = fresh();
	s.switch_db_regs = KVM_DEBUGREG_WONT_EXIT | KVM_DEBUGREG_RELOAD;
	HwDebugRegs hw{};
	hw.dr6 = DR6_ACTIVE_LOW;
	hw.dr7 = 0x400;
	const uint32_t push = sync_dirty_debug_regs(s, hw);
	EXPECT_TRUE(push & PUSH_DR_INTERCEPT);
	EXPECT_TRUE(push & PUSH_DR7);
	EXPECT_EQ(s.switch_db_regs, 0u);
}

TEST(DebugregSwitch, InterceptWithGuestDebuggingEmulates)
{
	State s = fresh();
	s.guest_debug = GUESTDBG_ENABLE | GUESTDBG_USE_SW_BP;
	DrResult r = on_dr_intercept(s, 1, true, 0x1234, cpl0());
	EXPECT_EQ(r.action, DrAction::Done);
	EXPECT_EQ(s.db[1], 0x1234u);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT);
	r = on_dr_intercept(s, 1, false, 0, cpl0());
	EXPECT_EQ(r.action, DrAction::Done);
	EXPECT_EQ(r.value, 0x1234u);
}

TEST(DebugregSwitch, HandOverIsKnownBeforeTheOperand)
{
	State s = fresh();
	EXPECT_TRUE(hands_over_dr_access(s, 0, cpl0()));
	EXPECT_TRUE(hands_over_dr_access(s, 7, cpl0()));
	GuestCtx user = cpl0();
	user.cpl = 3;
	EXPECT_FALSE(hands_over_dr_access(s, 0, user)); // #GP first
	GuestCtx de = cpl0();
	de.cr4_de = true;
	EXPECT_FALSE(hands_over_dr_access(s, 4, de)); // #UD first
	State gd = fresh();
	gd.dr7 |= DR7_GD;
	EXPECT_FALSE(hands_over_dr_access(gd, 0, cpl0())); // #DB(BD) first
	State dbg = fresh();
	dbg.guest_debug = GUESTDBG_ENABLE;
	EXPECT_FALSE(hands_over_dr_access(dbg, 0, cpl0())); // emulated
	// It agrees with on_dr_intercept, whatever the operand.
	EXPECT_EQ(on_dr_intercept(s, 3, true, 0x1234, cpl0()).action, DrAction::Reenter);
}

TEST(DebugregSwitch, InterceptChecksComeBeforeTheHandOver)
{
	State s = fresh();
	GuestCtx user = cpl0();
	user.cpl = 3;
	EXPECT_EQ(on_dr_intercept(s, 0, true, 1, user).action, DrAction::InjectGP);
	GuestCtx de = cpl0();
	de.cr4_de = true;
	EXPECT_EQ(on_dr_intercept(s, 5, false, 0, de).action, DrAction::InjectUD);
	s.dr7 |= DR7_GD;
	const DrResult r = on_dr_intercept(s, 7, true, 0x400, cpl0());
	EXPECT_EQ(r.action, DrAction::QueueDB);
	EXPECT_EQ(r.db_payload, DR6_BD);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_WONT_EXIT);
}

// Seeds 000/003: two vCPUs time-share one physical CPU. vCPU A's guest armed DR0 natively
// (WONT_EXIT) but has not enabled it in DR7 yet when it exits, so after the sync nothing in
// switch_db_regs asks for a reload. vCPU B then runs with its own breakpoint. When A is
// loaded again, hardware DR0 must be A's before A runs.
struct Seed2016 {
	uint64_t a_dr0_in_hw;
	bool reloaded;
};

Seed2016 run_seed_2016(const Knobs &k)
{
	Cpu cpu{};
	State a = fresh(), b = fresh();

	vcpu_load(a, k);
	(void)enter(a, cpu, Vendor::Vmx, k);
	EXPECT_EQ(on_dr_intercept(a, 0, true, 0xa000, cpl0()).action, DrAction::Reenter);
	(void)enter(a, cpu, Vendor::Vmx, k);
	cpu.dr[0] = 0xa000; // native MOV DR0 in the guest
	exit_and_sync(a, cpu);
	EXPECT_EQ(a.db[0], 0xa000u);
	EXPECT_EQ(a.switch_db_regs, 0u);

	// B is scheduled on the same CPU and arms its own DR0.
	vcpu_load(b, k);
	EXPECT_EQ(set_dr(b, 0, 0xb000, cpl0()).action, DrAction::Done);
	EXPECT_EQ(set_dr(b, 7, 0x401, cpl0()).action, DrAction::Done);
	(void)enter(b, cpu, Vendor::Vmx, k);
	EXPECT_EQ(cpu.dr[0], 0xb000u);

	// A comes back.
	vcpu_load(a, k);
	const EntryPlan p = enter(a, cpu, Vendor::Vmx, k);
	return {cpu.dr[0], p.load_db};
}

TEST(DebugregSeed2016, VcpuLoadReloadsClobberedRegisters)
{
	const Seed2016 r = run_seed_2016(Knobs{});
	EXPECT_TRUE(r.reloaded);
	EXPECT_EQ(r.a_dr0_in_hw, 0xa000u);
}

TEST(DebugregSeed2016, KnobReproducesTheMissedBreakpoint)
{
	Knobs bug{};
	bug.no_reload_on_load = true;
	const Seed2016 r = run_seed_2016(bug);
	EXPECT_FALSE(r.reloaded);
	EXPECT_EQ(r.a_dr0_in_hw, 0xb000u); // A runs on B's breakpoint address
}

TEST(DebugregSeed2016, ArmedBreakpointsAfterLoadAreReloadedOrVerified)
{
	// Lazy reload: with a breakpoint armed, vcpu_load's RELOAD is what reloads. The knob
	// takes RELOAD and the verification away, as the 2016 code had neither.
	State s = fresh();
	(void)set_dr(s, 7, 0x401, cpl0());
	entered(s);
	vcpu_load(s, Knobs{});
	EXPECT_TRUE(plan_entry(s, Vendor::Vmx, false, Knobs{}).load_db);
	entered(s);
	EXPECT_TRUE(plan_entry(s, Vendor::Vmx, false, Knobs{}).verify_db);

	Knobs bug{};
	bug.no_reload_on_load = true;
	State t = fresh();
	(void)set_dr(t, 7, 0x401, cpl0());
	entered(t);
	vcpu_load(t, bug);
	const EntryPlan p = plan_entry(t, Vendor::Vmx, false, bug);
	EXPECT_FALSE(p.load_db);
	EXPECT_FALSE(p.verify_db);
}

TEST(DebugregSeed2016, GuestTakingTheRegistersAfterAnotherVcpuRanSeesItsOwn)
{
	// A owns its DRs (DR0 = 0xa000, DR7 = 0), B runs on the CPU with DR0 = 0xb000, then A
	// comes back and its next MOV DR7 (intercepted) hands the registers to the guest, which
	// arms DR0 natively. Under the knob the hardware still holds B's address.
	for (bool knob : {false, true}) {
		Knobs k{};
		k.no_reload_on_load = knob;
		Cpu cpu{};
		State a = fresh(), b = fresh();
		vcpu_load(a, k);
		(void)enter(a, cpu, Vendor::Svm, k);
		EXPECT_EQ(on_dr_intercept(a, 0, true, 0xa000, cpl0()).action, DrAction::Reenter);
		(void)enter(a, cpu, Vendor::Svm, k);
		cpu.dr[0] = 0xa000;
		exit_and_sync(a, cpu);
		vcpu_load(b, k);
		(void)set_dr(b, 0, 0xb000, cpl0());
		(void)set_dr(b, 7, 0x401, cpl0());
		(void)enter(b, cpu, Vendor::Svm, k);
		vcpu_load(a, k);
		(void)enter(a, cpu, Vendor::Svm, k); // an exit for something else
		EXPECT_EQ(on_dr_intercept(a, 7, true, 0x401, cpl0()).action, DrAction::Reenter);
		(void)enter(a, cpu, Vendor::Svm, k);
		EXPECT_EQ(cpu.dr[0], knob ? 0xb000u : 0xa000u) << "knob " << knob;
	}
}

TEST(DebugregSwitch, RestoringTheHostRegistersSetsReload)
{
	State s = fresh();
	entered(s);
	EntryPlan p = plan_entry(s, Vendor::Svm, true, Knobs{});
	EXPECT_TRUE(p.load_db);
	EXPECT_TRUE(p.restore_host);
	entered(s);
	exited(s, p);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
	p = plan_entry(s, Vendor::Svm, false, Knobs{});
	entered(s);
	exited(s, p);
	EXPECT_FALSE(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
}

TEST(DebugregSeed2016, OtherKnobsDoNotChangeTheOutcome)
{
	Knobs others{};
	others.svm_clobber_guest_dr6 = true;
	others.skip_code_bp_check = true;
	others.single_cause_on_coincident = true;
	const Seed2016 r = run_seed_2016(others);
	EXPECT_TRUE(r.reloaded);
	EXPECT_EQ(r.a_dr0_in_hw, 0xa000u);
}

// The entry sequence is one implementation for both vendors: each of these holds on SVM
// and on VMX.
class EntrySwitchBothVendors : public testing::TestWithParam<Vendor>
{
};

// Someone wrote DR0-3 between two entries without a vcpu_load (a per-CPU perf
// breakpoint): with the guest's breakpoints live, entry finds it and reloads (STALE).
TEST_P(EntrySwitchBothVendors, StaleRegistersAreReloaded)
{
	const Vendor v = GetParam();
	const Knobs k{};
	State s = fresh();
	ASSERT_EQ(set_dr(s, 2, 0x2000, cpl0()).action, DrAction::Done);
	ASSERT_EQ(set_dr(s, 7, 0x410, cpl0()).action, DrAction::Done); // L2
	Cpu c{};
	(void)enter(s, c, v, k);
	exit_and_sync(s, c);
	EXPECT_EQ(c.dr[2], 0x2000u);
	const int loads = c.loads;

	(void)enter(s, c, v, k); // nothing changed: checked, not reloaded
	exit_and_sync(s, c);
	EXPECT_EQ(c.loads, loads);

	c.dr[2] = 0xdead; // another writer
	const EntryPlan p = enter(s, c, v, k);
	EXPECT_TRUE(p.verify_db);
	EXPECT_FALSE(p.load_db);
	EXPECT_EQ(c.dr[2], 0x2000u);
	EXPECT_EQ(c.loads, loads + 1);
	EXPECT_TRUE(c.last_why & DBGKVM_DR_LOAD_STALE);
	EXPECT_EQ(c.vmcs_dr7, 0x410u);
	exit_and_sync(s, c);

	// Under the 2016 knob there is no safety net.
	Knobs bug{};
	bug.no_reload_on_load = true;
	c.dr[2] = 0xdead;
	(void)enter(s, c, v, bug);
	EXPECT_EQ(c.dr[2], 0xdeadu);
}

// The host had a breakpoint armed (ptrace, perf): DR7 goes inert before the guest's
// DR0-3 are loaded, and all of the host's registers come back after the exit.
TEST_P(EntrySwitchBothVendors, HostBreakpointsComeBackAfterTheExit)
{
	const Vendor v = GetParam();
	State s = fresh();
	ASSERT_EQ(set_dr(s, 0, 0xa000, cpl0()).action, DrAction::Done);
	Cpu c{};
	c.dr[0] = 0x7000;
	c.dr[3] = 0x7003;
	c.dr6 = 0xffff0ff1;
	c.dr7 = 0x401;
	const EntryPlan p = enter(s, c, v, Knobs{});
	EXPECT_TRUE(p.restore_host);
	EXPECT_EQ(c.dr7, DR7_FIXED_1);
	EXPECT_EQ(c.dr[0], 0xa000u);
	exit_and_sync(s, c);
	EXPECT_EQ(c.dr[0], 0x7000u);
	EXPECT_EQ(c.dr[3], 0x7003u);
	EXPECT_EQ(c.dr6, 0xffff0ff1u);
	EXPECT_EQ(c.dr7, 0x401u);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_RELOAD); // the hardware lost eff_db
}

// The guest owns its registers: what it wrote natively comes back before the exit is
// handled, from the hardware (DR0-3, VMX DR6) and from the VMCB/VMCS (SVM DR6, DR7).
TEST_P(EntrySwitchBothVendors, ExitSyncReadsWhereEachVendorKeepsThem)
{
	const Vendor v = GetParam();
	State s = fresh();
	ASSERT_EQ(on_dr_intercept(s, 1, true, 0, cpl0()).action, DrAction::Reenter);
	Cpu c{};
	(void)enter(s, c, v, Knobs{});
	c.dr[1] = 0xb000;
	c.vmcs_dr7 = 0x404;
	(v == Vendor::Svm ? c.vmcb_dr6 : c.dr6) = 0xffff0ff2;
	exit_and_sync(s, c);
	EXPECT_EQ(s.db[1], 0xb000u);
	EXPECT_EQ(s.dr7, 0x404u);
	EXPECT_EQ(s.dr6, 0xffff0ff2u);
	EXPECT_TRUE(c.pushed & PUSH_DR_INTERCEPT);
	if (v == Vendor::Vmx) {
		EXPECT_EQ(c.dr6, DR6_ACTIVE_LOW); // no guest cause left in the host's DR6
	}
}

// SVM: after an entry that armed the guest's breakpoints, the host's DR7 is written
// back whatever #VMEXIT left there. VMX relies on the VM exit's DR7 = 0x400.
TEST_P(EntrySwitchBothVendors, NoGuestEnableStaysArmedAfterTheExit)
{
	const Vendor v = GetParam();
	State s = fresh();
	ASSERT_EQ(set_dr(s, 7, 0x403, cpl0()).action, DrAction::Done);
	Cpu c{};
	const EntryPlan p = enter(s, c, v, Knobs{});
	EXPECT_EQ(p.rewrite_host_dr7, v == Vendor::Svm);
	c.dr7 = v == Vendor::Svm ? 0x403 : DR7_FIXED_1; // as the exit left it
	exit_and_sync(s, c);
	EXPECT_EQ(c.dr7, DR7_FIXED_1);
}

INSTANTIATE_TEST_SUITE_P(Vendors, EntrySwitchBothVendors, testing::Values(Vendor::Svm, Vendor::Vmx),
			 [](const testing::TestParamInfo<Vendor> &i) {
				 return i.param == Vendor::Svm ? "Svm" : "Vmx";
			 });

} // namespace
} // namespace dbgkvm::debugreg
