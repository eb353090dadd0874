// SPDX-License-Identifier: GPL-2.0
/*
 * guestdr_test: a guest that owns its debug registers (no KVM_SET_GUEST_DEBUG)
 * sets DR0-3/DR7 itself and takes its own #DB in its own IDT handler
 * (lib/debug_rt.S records vector, RIP, DR6, DR7 in guest memory).
 *
 * Where a case checks the hypervisor's MOV DR rules it runs twice:
 *  - "owned": guest_debug = 0. KVM intercepts the first MOV DR after each
 *    entry, then stops intercepting (switch_db_regs WONT_EXIT) and the MOV
 *    runs on the CPU; the values must survive the exits (sync_dirty_debug_regs).
 *  - "intercepted": KVM_GUESTDBG_ENABLE only. Every MOV DR exits and the
 *    hypervisor emulates it with KVM's kvm_set_dr/kvm_get_dr rules:
 *    DR6 = (val & 0x1e80f) | fixed-1, DR7 = (val & 0xffff2bff) | 0x400,
 *    DR4/5 alias DR6/7 unless CR4.DE (then #UD), bits 63:32 of DR6/DR7 #GP,
 *    CPL > 0 #GP.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cstring>

using namespace kt;

GUEST_DECLARE(guest_guestdr);
GUEST_LABEL_DECLARE(gr_exec);
GUEST_LABEL_DECLARE(gr_t0);
GUEST_LABEL_DECLARE(gr_t1);
GUEST_LABEL_DECLARE(gr_t2);
GUEST_LABEL_DECLARE(gr_t3);
GUEST_LABEL_DECLARE(gr_write);
GUEST_LABEL_DECLARE(gr_w0);
GUEST_LABEL_DECLARE(gr_w1);
GUEST_LABEL_DECLARE(gr_w2);
GUEST_LABEL_DECLARE(gr_w3);
GUEST_LABEL_DECLARE(gr_alias);
GUEST_LABEL_DECLARE(gr_alias_ud1);
GUEST_LABEL_DECLARE(gr_alias_ud2);
GUEST_LABEL_DECLARE(gr_upper);
GUEST_LABEL_DECLARE(gr_upper_gp1);
GUEST_LABEL_DECLARE(gr_upper_gp2);
GUEST_LABEL_DECLARE(gr_rw);
GUEST_LABEL_DECLARE(gr_gd);
GUEST_LABEL_DECLARE(gr_gd_mov);
GUEST_LABEL_DECLARE(gr_cpl3);
GUEST_LABEL_DECLARE(gr_cpl3_gp1);
GUEST_LABEL_DECLARE(gr_cpl3_gp2);
GUEST_LABEL_DECLARE(gr_sync);

#define GPA(label) GUEST_GPA(guest_guestdr, label)

enum class Owner {
	Guest,	     /* guest_debug = 0 */
	Intercepted, /* KVM_GUESTDBG_ENABLE: every MOV DR is emulated */
};

static const char *owner_name(Owner o)
{
	return o == Owner::Guest ? "guest-owned" : "intercepted (GUESTDBG_ENABLE)";
}

static void start(DebugGuest &g, uint64_t gpa, Owner o)
{
	g.start_at(gpa);
	if (o == Owner::Intercepted)
		xset_guest_debug(g.vcpu, GUESTDBG_ENABLE);
}

static void check_entry(DebugGuest &g, size_t i, uint64_t vector, uint64_t rip, uint64_t dr6_or_err,
			const char *what)
{
	auto l = g.log();
	if (i >= l.size() || l[i].vector != vector || l[i].rip != rip ||
	    l[i].dr6_or_err != dr6_or_err)
		FAIL("%s: expected exception %zu = {vector %llu rip %s %s %s}; %s", what, i,
		     (unsigned long long)vector, hex(rip).c_str(),
		     vector == DB_VECTOR ? "dr6" : "err", hex(dr6_or_err).c_str(),
		     g.describe_log().c_str());
}

static void exec_breakpoints(Owner o)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_exec), o);
	g.vcpu.expect_out(PORT_DONE, 4);
	const uint64_t t[4] = {GPA(gr_t0), GPA(gr_t1), GPA(gr_t2), GPA(gr_t3)};
	CHECK_MSG(g.count() == 4, "expected 4 #DBs; %s", g.describe_log().c_str());
	for (int n = 0; n < 4; n++) {
		/* Fault-like: RIP = the breakpoint; DR6 = active-low bits | Bn (0xffff0ff0 | 1 <<
		 * n). */
		std::string what = tap::format("%s execute breakpoint DR%d", owner_name(o), n);
		check_entry(g, n, DB_VECTOR, t[n], DR6_ACTIVE_LOW | 1ull << n, what.c_str());
		CHECK_MSG(g.log()[n].dr7 == 0x4aa, "DR7 in the handler %s, want 0x4aa",
			  hex(g.log()[n].dr7).c_str());
	}
	CHECK_EQ((uint64_t)0, g.u64(DBG_WRONG));
}

TEST(guest_exec_breakpoints_dr0_to_dr3)
{
	exec_breakpoints(Owner::Guest);
}

TEST(guest_exec_breakpoints_dr0_to_dr3_intercepted)
{
	exec_breakpoints(Owner::Intercepted);
}

TEST(guest_write_watchpoints_dr0_to_dr3)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_write), Owner::Guest);
	g.vcpu.expect_out(PORT_DONE, 4);
	const uint64_t after[4] = {GPA(gr_w0), GPA(gr_w1), GPA(gr_w2), GPA(gr_w3)};
	CHECK_MSG(g.count() == 4, "expected 4 #DBs; %s", g.describe_log().c_str());
	for (int n = 0; n < 4; n++) {
		/* Trap-like: RIP after the write, which is done. */
		std::string what = tap::format("write watchpoint DR%d", n);
		check_entry(g, n, DB_VECTOR, after[n], DR6_ACTIVE_LOW | 1ull << n, what.c_str());
		CHECK_EQ((uint32_t)(n + 1), g.vm.at<uint32_t>(DBG_WATCH + 0x10 * n));
	}
}

static void dr4_dr5(Owner o)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_alias), o);
	g.vcpu.expect_out(PORT_DONE, 4);
	/* CR4.DE = 0: DR4 is DR6, DR5 is DR7. */
	CHECK_MSG(g.out(0) == 0xffff0fff, "%s: MOV DR4 <- 0xf, then DR6 reads %s, want 0xffff0fff",
		  owner_name(o), hex(g.out(0)).c_str());
	CHECK_MSG(g.out(1) == 0x500, "%s: MOV DR5 <- 0x100, then DR7 reads %s, want 0x500",
		  owner_name(o), hex(g.out(1)).c_str());
	CHECK_MSG(g.out(2) == 0xffff0fff, "%s: DR4 reads %s, want DR6's 0xffff0fff", owner_name(o),
		  hex(g.out(2)).c_str());
	CHECK_MSG(g.out(3) == 0x500, "%s: DR5 reads %s, want DR7's 0x500", owner_name(o),
		  hex(g.out(3)).c_str());
	/* CR4.DE = 1: #UD for DR4 and DR5 (KVM's kvm_require_dr), DR6 still readable. */
	check_entry(g, 0, UD_VECTOR, GPA(gr_alias_ud1), 0, "MOV from DR4 with CR4.DE");
	check_entry(g, 1, UD_VECTOR, GPA(gr_alias_ud2), 0, "MOV to DR5 with CR4.DE");
	CHECK_MSG(g.count() == 2, "%s", g.describe_log().c_str());
	CHECK_EQ((uint64_t)DR6_ACTIVE_LOW, g.out(4));
}

TEST(guest_dr4_dr5_alias_and_ud_with_cr4_de)
{
	dr4_dr5(Owner::Guest);
}

TEST(guest_dr4_dr5_alias_and_ud_with_cr4_de_intercepted)
{
	dr4_dr5(Owner::Intercepted);
}

static void upper_bits(Owner o)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_upper), o);
	g.vcpu.expect_out(PORT_DONE, 4);
	check_entry(g, 0, GP_VECTOR, GPA(gr_upper_gp1), 0, "MOV to DR6 with bit 32 set");
	check_entry(g, 1, GP_VECTOR, GPA(gr_upper_gp2), 0, "MOV to DR7 with bit 32 set");
	CHECK_MSG(g.count() == 2, "%s", g.describe_log().c_str());
	/* Neither write happened. */
	CHECK_EQ((uint64_t)DR6_ACTIVE_LOW, g.out(0));
	CHECK_EQ((uint64_t)DR7_FIXED_1, g.out(1));
}

TEST(guest_dr6_dr7_bits_63_32_gp)
{
	upper_bits(Owner::Guest);
}

TEST(guest_dr6_dr7_bits_63_32_gp_intercepted)
{
	upper_bits(Owner::Intercepted);
}

struct RwCase {
	int reg;
	uint64_t value;
	uint64_t want; /* the architectural / KVM value */
	bool kvm_rule; /* reserved bits: KVM's masking; checked only when intercepted */
};

static void read_back(Owner o)
{
	/*
	 * DR7: bit 10 reads 1; bits 11 and 13 are kept (DR7_VOLATILE 0xffff2bff),
	 * 12, 14, 15 read 0 (KVM's kvm_set_dr). DR6: B0-3, BD, BS, BT (and RTM,
	 * bus-lock when the guest has them) are writable; every other bit of
	 * 0xffff0ff0 reads 1, bit 12 reads 0.
	 */
	const RwCase cases[] = {
	    {7, 0x0, 0x400, false},	    {7, 0x100, 0x500, false},
	    {7, 0x200, 0x600, false},	    {7, 0xd000, 0x400, true},
	    {7, 0x400, 0x400, false},	    {6, 0x0, 0xffff0ff0, false},
	    {6, 0xf, 0xffff0fff, false},    {6, 0x4000, 0xffff4ff0, false},
	    {6, 0x2000, 0xffff2ff0, false}, {6, 0x8000, 0xffff8ff0, false},
	    {6, 0x1000, 0xffff0ff0, true},  {6, 0xffff0ff0, 0xffff0ff0, false},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	DebugGuest g(GUEST(guest_guestdr));
	g.set_param(0, n);
	for (size_t i = 0; i < n; i++) {
		g.set_param(1 + 2 * i, cases[i].reg);
		g.set_param(2 + 2 * i, cases[i].value);
	}
	start(g, GPA(gr_rw), o);
	g.vcpu.expect_out(PORT_DONE, 4);
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
	for (size_t i = 0; i < n; i++) {
		const RwCase &c = cases[i];
		uint64_t got = g.out(i);
		if (got == c.want)
			continue;
		if (c.kvm_rule && o == Owner::Guest) {
			/*
			 * Reserved bits written by a MOV the CPU runs itself: what
			 * they read is the CPU's business (QEMU TCG keeps them),
			 * not the hypervisor's.
			 */
			tap::diag(
			    "guest-owned: MOV DR%d <- %s reads %s on this CPU (KVM's rule: %s)",
			    c.reg, hex(c.value).c_str(), hex(got).c_str(), hex(c.want).c_str());
			continue;
		}
		FAIL("%s: MOV DR%d <- %s, then DR%d reads %s, want %s", owner_name(o), c.reg,
		     hex(c.value).c_str(), c.reg, hex(got).c_str(), hex(c.want).c_str());
	}
}

TEST(guest_dr6_dr7_read_back)
{
	read_back(Owner::Guest);
}

TEST(guest_dr6_dr7_read_back_intercepted)
{
	read_back(Owner::Intercepted);
}

static void gd(Owner o)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_gd), o);
	std::vector<uint64_t> reports;
	if (g.run_until_exit(reports) != KVM_EXIT_IO || g.vcpu.run()->io.port != PORT_DONE)
		g.fail_exit("the OUT to PORT_DONE");
	/* #DB is a fault on the MOV DR: DR6 = 0xffff2ff0 (BD); GD already clear in the handler. */
	check_entry(g, 0, DB_VECTOR, GPA(gr_gd_mov), DR6_ACTIVE_LOW | DR6_BD, "DR7.GD + MOV DR0");
	CHECK_MSG(g.log()[0].dr7 == DR7_FIXED_1,
		  "%s: DR7 in the #DB handler %s: GD must be cleared", owner_name(o),
		  hex(g.log()[0].dr7).c_str());
	CHECK_MSG(g.count() == 1, "%s", g.describe_log().c_str());
	CHECK_EQ((uint64_t)DR7_FIXED_1, g.out(0));
}

TEST(guest_dr7_gd_db_with_bd_and_gd_cleared)
{
	gd(Owner::Guest);
}

TEST(guest_dr7_gd_db_with_bd_and_gd_cleared_intercepted)
{
	gd(Owner::Intercepted);
}

TEST(guest_mov_dr_at_cpl3_gp)
{
	DebugGuest g(GUEST(guest_guestdr));
	start(g, GPA(gr_cpl3), Owner::Guest);
	g.vcpu.expect_out(PORT_DONE, 4);
	check_entry(g, 0, GP_VECTOR, GPA(gr_cpl3_gp1), 0, "MOV from DR7 at CPL 3");
	check_entry(g, 1, GP_VECTOR, GPA(gr_cpl3_gp2), 0, "MOV to DR0 at CPL 3");
	CHECK_MSG(g.count() == 2, "%s", g.describe_log().c_str());
}

TEST(debugregs_ioctl_and_guest_see_each_other)
{
	DebugGuest g(GUEST(guest_guestdr));
	kvm_debugregs d = {};
	const uint64_t db[4] = {0x100, 0x200, 0x300, 0x400};
	for (int i = 0; i < 4; i++)
		d.db[i] = db[i];
	d.dr6 = DR6_ACTIVE_LOW | 1;
	d.dr7 = DR7_FIXED_1 | dr7_g(0) | dr7_rwlen(0, 1, 0); /* 1-byte write watch, never hit */
	set_debugregs(g.vcpu, d);
	/* What the guest writes after reading. */
	const uint64_t w[6] = {0x800, 0x900, 0xa00,
			       0xb00, 0x2,   DR7_FIXED_1 | dr7_g(1) | dr7_rwlen(1, 1, 3)};
	const uint64_t w_read[6] = {w[0], w[1], w[2], w[3], DR6_ACTIVE_LOW | 2, w[5]};
	for (int i = 0; i < 6; i++)
		g.set_param(i, w[i]);
	g.start_at(GPA(gr_sync));
	g.vcpu.expect_out(PORT_DONE, 4);

	const char *names[6] = {"DR0", "DR1", "DR2", "DR3", "DR6", "DR7"};
	const uint64_t set[6] = {db[0], db[1], db[2], db[3], d.dr6, d.dr7};
	for (int i = 0; i < 6; i++)
		CHECK_MSG(g.out(i) == set[i], "KVM_SET_DEBUGREGS %s = %s, the guest reads %s",
			  names[i], hex(set[i]).c_str(), hex(g.out(i)).c_str());

	/* After the exit, KVM_GET_DEBUGREGS has what the guest wrote (read back from the CPU). */
	kvm_debugregs got = get_debugregs(g.vcpu);
	const uint64_t have[6] = {got.db[0], got.db[1], got.db[2], got.db[3], got.dr6, got.dr7};
	for (int i = 0; i < 6; i++)
		CHECK_MSG(have[i] == w_read[i], "the guest wrote %s = %s, KVM_GET_DEBUGREGS has %s",
			  names[i], hex(w_read[i]).c_str(), hex(have[i]).c_str());

	/* And the guest still has them after the exit. */
	g.run_to_halt();
	for (int i = 0; i < 6; i++)
		CHECK_MSG(g.out(6 + i) == w_read[i],
			  "after an exit the guest reads %s = %s, it wrote %s", names[i],
			  hex(g.out(6 + i)).c_str(), hex(w_read[i]).c_str());
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
}
