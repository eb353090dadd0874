// SPDX-License-Identifier: GPL-2.0
/*
 * emul_debug_test: debug events on instructions the hypervisor emulates. The
 * guest touches MMIO_GPA (no memory slot): the CPU exits with a nested page
 * fault, the hypervisor decodes and emulates the MOV and the test answers the
 * KVM_EXIT_MMIO. The CPU never completes such an instruction itself, so
 * whatever debug event belongs to it must come from the hypervisor:
 *
 *  - Seed 004 (2013, "KVM: x86: handle hardware breakpoints during
 *    emulation"): before emulating, check code breakpoints
 *    (kvm_vcpu_check_code_breakpoint): userspace's (USE_HW_BP) ->
 *    KVM_EXIT_DEBUG; the guest's (DR7/DR0-3) -> #DB with Bn, unless RF.
 *  - After an emulated instruction with TF: a single-step #DB (DR6.BS) at the
 *    next instruction, or KVM_EXIT_DEBUG with userspace SINGLESTEP.
 *  - Seed 002 (2025): a single-step trap that coincides with a code
 *    breakpoint on the next instruction is ONE #DB with BS and Bn (SDM Vol.
 *    3B 17.3.1.1/17.3.1.4; the kvm-unit-tests case in the seed).
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

using namespace kt;

GUEST_DECLARE(guest_emul_debug);
GUEST_LABEL_DECLARE(em_user_bp);
GUEST_LABEL_DECLARE(em_user_bp_insn);
GUEST_LABEL_DECLARE(em_guest_bp);
GUEST_LABEL_DECLARE(em_guest_bp_insn);
GUEST_LABEL_DECLARE(em_ss_read);
GUEST_LABEL_DECLARE(em_ss_read_next);
GUEST_LABEL_DECLARE(em_ss_read_after);
GUEST_LABEL_DECLARE(em_ss_write);
GUEST_LABEL_DECLARE(em_ss_write_next);
GUEST_LABEL_DECLARE(em_ss_write_after);
GUEST_LABEL_DECLARE(em_co);
GUEST_LABEL_DECLARE(em_co_next);
GUEST_LABEL_DECLARE(em_co_after);
GUEST_LABEL_DECLARE(em_uss);
GUEST_LABEL_DECLARE(em_uss_1);
GUEST_LABEL_DECLARE(em_uss_2);

#define GPA(label) GUEST_GPA(guest_emul_debug, label)

static void check_log(DebugGuest &g, const std::vector<LogEntry> &want, const char *what)
{
	auto l = g.log();
	bool ok = l.size() == want.size();
	for (size_t i = 0; ok && i < want.size(); i++)
		ok = l[i].vector == want[i].vector && l[i].rip == want[i].rip &&
		     l[i].dr6_or_err == want[i].dr6_or_err;
	if (ok)
		return;
	std::string w;
	for (const LogEntry &e : want)
		w += tap::format(" {vector %llu rip %s dr6 %s}", (unsigned long long)e.vector,
				 hex(e.rip).c_str(), hex(e.dr6_or_err).c_str());
	FAIL("%s: expected the guest's handler to see%s; %s", what, w.c_str(),
	     g.describe_log().c_str());
}

TEST(emul_user_code_bp_exits_before_mmio)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_user_bp));
	set_hw_bp(g.vcpu, 0, GPA(em_user_bp_insn), DR7_FIXED_1 | dr7_g(0));
	/* The breakpoint is a fault: KVM_EXIT_DEBUG comes first, no MMIO access yet. */
	expect_debug_exit(g.vcpu, "execute breakpoint on an MMIO store", DB_VECTOR,
			  GPA(em_user_bp_insn), DR6_ACTIVE_LOW | 1, DR7_FIXED_1 | dr7_g(0));
	xset_guest_debug(g.vcpu, 0);
	CHECK_EQ(0x11ull, g.vcpu.expect_mmio_write(MMIO_GPA, 4));
	g.vcpu.expect_out(PORT_DONE, 4);
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
}

TEST(emul_guest_code_bp_before_mmio)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_guest_bp));
	/* The guest's #DB handler runs (and sets RF) before the store reaches userspace. */
	CHECK_EQ(0x22ull, g.vcpu.expect_mmio_write(MMIO_GPA, 4));
	check_log(g, {{DB_VECTOR, GPA(em_guest_bp_insn), DR6_ACTIVE_LOW | 1, 0}},
		  "guest execute breakpoint on an MMIO store, at the KVM_EXIT_MMIO");
	g.vcpu.expect_out(PORT_DONE, 4);
	CHECK_EQ((uint64_t)1, g.count());
}

/*
 * Seed 004. While userspace debugs with USE_HW_BP, the CPU's DR7 holds
 * userspace's breakpoints, not the guest's: a guest breakpoint on an
 * emulated instruction can be seen only by the emulator's check against the
 * guest's DR7/DR0-3. Userspace has one breakpoint, never hit.
 *
 * dbgkvm checks before every decode-and-emulate, MMIO included. KVM (6.1
 * and 6.12) returns early from kvm_vcpu_check_code_breakpoint() for
 * EMULTYPE_PF (nested page fault emulation), reasoning that the CPU has
 * already checked code breakpoints; with USE_HW_BP the guest's were not
 * armed in the CPU, so KVM emulates the store without the #DB.
 */
TEST(seed004_emul_guest_code_bp_checked_under_userspace_hw_bp)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_guest_bp));
	set_hw_bp(g.vcpu, 0, 0x800, DR7_FIXED_1 | dr7_g(0));
	g.vcpu.enter();
	const kvm_run *r = g.vcpu.run();
	if (r->exit_reason != KVM_EXIT_MMIO)
		g.fail_exit("KVM_EXIT_MMIO (after the guest's #DB)");
	CHECK_EQ((uint64_t)MMIO_GPA, (uint64_t)r->mmio.phys_addr);
	if (is_kvm()) {
		tap::diag("TARGET=kvm: KVM does not check code breakpoints when emulating on a "
			  "nested page fault (EMULTYPE_PF): expecting no #DB");
		check_log(g, {}, "KVM on an MMIO store under USE_HW_BP");
	} else {
		check_log(g, {{DB_VECTOR, GPA(em_guest_bp_insn), DR6_ACTIVE_LOW | 1, 0}},
			  "the emulator must check the guest's DR0 on the MMIO store before "
			  "emulating it (no #DB: the breakpoint was skipped)");
	}
	g.vcpu.expect_out(PORT_DONE, 4);
}

TEST(emul_guest_single_step_over_mmio_load)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_ss_read));
	g.vcpu.expect_mmio_read(MMIO_GPA, 4, 0xabcd1234);
	g.vcpu.expect_out(PORT_DONE, 4);
	/* A trap after the load (DR6.BS, RIP = next), and one after the POPF that clears TF. */
	check_log(g,
		  {{DB_VECTOR, GPA(em_ss_read_next), DR6_ACTIVE_LOW | DR6_BS, 0},
		   {DB_VECTOR, GPA(em_ss_read_after), DR6_ACTIVE_LOW | DR6_BS, 0}},
		  "TF over an emulated MMIO load");
	CHECK_EQ(0xabcd1234ull, g.out(0));
}

/*
 * KVM (6.1, 6.12) loses the single-step trap of an emulated MMIO store:
 * x86_emulate_instruction() calls kvm_vcpu_do_singlestep() only when it
 * does not exit to userspace (`if (r && (ctxt->tf || ...))`), and a store
 * exits (KVM_EXIT_MMIO) with r = 0 after writeback. A load completes on the
 * next KVM_RUN through the emulator again, so it gets its trap. dbgkvm must
 * trap after the store too, as the CPU would.
 */
TEST(emul_guest_single_step_over_mmio_store)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_ss_write));
	CHECK_EQ(0x33ull, g.vcpu.expect_mmio_write(MMIO_GPA, 4));
	g.vcpu.expect_out(PORT_DONE, 4);
	if (is_kvm()) {
		tap::diag("TARGET=kvm: KVM drops the single-step trap after an emulated MMIO "
			  "store; expecting only the trap after the POPF");
		check_log(g, {{DB_VECTOR, GPA(em_ss_write_after), DR6_ACTIVE_LOW | DR6_BS, 0}},
			  "KVM: TF over an emulated MMIO store");
		return;
	}
	check_log(g,
		  {{DB_VECTOR, GPA(em_ss_write_next), DR6_ACTIVE_LOW | DR6_BS, 0},
		   {DB_VECTOR, GPA(em_ss_write_after), DR6_ACTIVE_LOW | DR6_BS, 0}},
		  "TF over an emulated MMIO store");
}

/*
 * Seed 002. Hardware: one #DB at the next instruction with DR6 = BS | B0
 * (0xffff4ff1); the handler sets RF (B0 is an execute breakpoint), the POPF
 * runs and traps once more (BS). KVM's emulator (Debian 6.1/6.12, and
 * upstream as of the 2025 thread) queues BS alone; the code breakpoint then
 * fires as a second #DB when the CPU starts the next instruction.
 */
static void seed002_guest_tf()
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_co));
	g.vcpu.expect_mmio_read(MMIO_GPA, 4, 0x5a5a5a5a);
	g.vcpu.expect_out(PORT_DONE, 4);
	const uint64_t next = GPA(em_co_next), after = GPA(em_co_after);
	if (is_kvm()) {
		tap::diag("TARGET=kvm: expecting KVM's known behaviour (seed 002 unfixed in KVM): "
			  "BS and B0 as two #DBs");
		check_log(g,
			  {{DB_VECTOR, next, DR6_ACTIVE_LOW | DR6_BS, 0},
			   {DB_VECTOR, next, DR6_ACTIVE_LOW | 1, 0},
			   {DB_VECTOR, after, DR6_ACTIVE_LOW | DR6_BS, 0}},
			  "KVM's emulator: single-step trap, then the code breakpoint separately");
		return;
	}
	check_log(g,
		  {{DB_VECTOR, next, DR6_ACTIVE_LOW | DR6_BS | 1, 0},
		   {DB_VECTOR, after, DR6_ACTIVE_LOW | DR6_BS, 0}},
		  "single-step trap after an emulated MMIO load coinciding with DR0 on the next "
		  "instruction: one #DB with BS|B0");
}

/*
 * Seed 002 from userspace: KVM_GUESTDBG_SINGLESTEP over an emulated MMIO load
 * with userspace's execute breakpoint (USE_HW_BP, DR0) on the next
 * instruction. dbgkvm: one KVM_EXIT_DEBUG at the next instruction with
 * dr6 = 0xffff4ff1 (BS|B0). KVM's kvm_vcpu_do_singlestep() reports BS alone
 * (0xffff4ff0); the breakpoint would be a second exit.
 */
static void seed002_userspace_singlestep()
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_uss));
	uint64_t dr[8] = {};
	dr[0] = GPA(em_uss_1);
	dr[7] = DR7_FIXED_1 | dr7_g(0);
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | GUESTDBG_USE_HW_BP, dr);
	g.vcpu.expect_mmio_read(MMIO_GPA, 4, 0x1234);
	if (is_kvm()) {
		tap::diag("TARGET=kvm: expecting KVM's known behaviour (seed 002): dr6 BS only");
		expect_debug_exit(g.vcpu, "KVM: single-step over an MMIO load, DR0 on the next",
				  DB_VECTOR, GPA(em_uss_1), DR6_ACTIVE_LOW | DR6_BS);
		return;
	}
	expect_debug_exit(g.vcpu,
			  "single-step over an MMIO load with userspace's DR0 on the next "
			  "instruction: one exit with BS|B0",
			  DB_VECTOR, GPA(em_uss_1), DR6_ACTIVE_LOW | DR6_BS | 1,
			  DR7_FIXED_1 | dr7_g(0));
}

/* One test for seed 002, so that its fault-injection knob fails exactly one test. */
TEST(seed002_emul_single_step_and_code_bp_coincide)
{
	seed002_guest_tf();
	seed002_userspace_singlestep();
}

TEST(emul_userspace_single_step_over_mmio)
{
	DebugGuest g(GUEST(guest_emul_debug));
	g.start_at(GPA(em_uss));
	uint64_t dr[8] = {};
	dr[7] = DR7_FIXED_1;
	/* Re-armed before each step, as debug_regs.c does (KVM steps from singlestep_rip). */
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP, dr);
	g.vcpu.expect_mmio_read(MMIO_GPA, 4, 0x1234);
	/* No dr7 check: KVM's kvm_vcpu_do_singlestep() leaves run->debug.arch.dr7 unset. */
	expect_debug_exit(g.vcpu, "single-step over an MMIO load", DB_VECTOR, GPA(em_uss_1),
			  DR6_ACTIVE_LOW | DR6_BS);
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP, dr);
	CHECK_EQ(0x44ull, g.vcpu.expect_mmio_write(MMIO_GPA, 4));
	if (is_kvm()) {
		/* The same KVM gap as emul_guest_single_step_over_mmio_store. */
		tap::diag("TARGET=kvm: KVM drops the single-step exit after an emulated MMIO "
			  "store; expecting the guest to run on to its OUT");
		g.vcpu.expect_out(PORT_DONE, 4);
		return;
	}
	expect_debug_exit(g.vcpu, "single-step over an MMIO store", DB_VECTOR, GPA(em_uss_2),
			  DR6_ACTIVE_LOW | DR6_BS);
	xset_guest_debug(g.vcpu, 0);
	g.vcpu.expect_out(PORT_DONE, 4);
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
}
