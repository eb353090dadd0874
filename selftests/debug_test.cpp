// SPDX-License-Identifier: GPL-2.0
/*
 * debug_test: the debug-register ABI and debugging a guest from userspace.
 *
 *  - KVM_CHECK_EXTENSION: KVM_CAP_SET_GUEST_DEBUG (1), KVM_CAP_DEBUGREGS (1),
 *    KVM_CAP_SET_GUEST_DEBUG2 (x86's KVM_GUESTDBG_VALID_MASK, 0x1f0003).
 *  - KVM_SET_GUEST_DEBUG: unknown control bits -> EINVAL; INJECT_DB/INJECT_BP
 *    while an exception is pending (a previous INJECT_* not yet delivered) ->
 *    EBUSY (kvm_arch_vcpu_ioctl_set_guest_debug); the injected #DB/#BP reaches
 *    the guest's IDT handler.
 *  - KVM_GET/SET_DEBUGREGS: flags != 0 or DR6/DR7 bits 63:32 -> EINVAL; reset
 *    values; round trip.
 *  - KVM_EXIT_DEBUG, as Linux's tools/testing/selftests/kvm/x86_64/debug_regs.c
 *    checks it: INT3 with USE_SW_BP (exception 3, pc = the INT3); execute
 *    breakpoints on DR0-3 (pc = the address, dr6 = 0xffff0ff0 | 1 << n); 4-byte
 *    write watchpoints on DR0-3 (pc = after the write); single-step (dr6
 *    0xffff4ff0, pc = each next instruction); DR7.GD (dr6 0xffff2ff0, pc = the
 *    MOV DR); run->debug.arch.dr7 = the DR7 in effect (userspace's with USE_HW_BP).
 *  - Seed 001 (2020, SVM): a debug exit must not clobber the guest's own DR6,
 *    and consecutive exits must not accumulate causes in run->debug.arch.dr6.
 *
 * Each breakpoint case runs in a fresh VM, so only the seed-001 test can see
 * causes carried over from one exit to the next.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_debug);
GUEST_LABEL_DECLARE(ud_int3);
GUEST_LABEL_DECLARE(ud_exec);
GUEST_LABEL_DECLARE(ud_exec_bp);
GUEST_LABEL_DECLARE(ud_write);
GUEST_LABEL_DECLARE(ud_write_after);
GUEST_LABEL_DECLARE(ud_ss);
GUEST_LABEL_DECLARE(ud_ss_1);
GUEST_LABEL_DECLARE(ud_ss_2);
GUEST_LABEL_DECLARE(ud_ss_3);
GUEST_LABEL_DECLARE(ud_ss_4);
GUEST_LABEL_DECLARE(ud_ss_5);
GUEST_LABEL_DECLARE(ud_ss_6);
GUEST_LABEL_DECLARE(ud_gd);
GUEST_LABEL_DECLARE(ud_loop);
GUEST_LABEL_DECLARE(ud_seed001);
GUEST_LABEL_DECLARE(ud_seed001_bp);
GUEST_LABEL_DECLARE(ud_seed001_1);
GUEST_LABEL_DECLARE(ud_seed001_2);

#define GPA(label) GUEST_GPA(guest_debug, label)

static constexpr long CAP_SET_GUEST_DEBUG = 23;
static constexpr long CAP_DEBUGREGS = 50;
static constexpr long CAP_SET_GUEST_DEBUG2 = 195;

/* ---- capabilities ---- */

TEST(cap_set_guest_debug)
{
	int fd = open_dev();
	CHECK_EQ(1L, check_extension(fd, CAP_SET_GUEST_DEBUG));
	Vm vm;
	CHECK_EQ(1L, check_extension(vm.fd(), CAP_SET_GUEST_DEBUG));
	close(fd);
}

TEST(cap_debugregs)
{
	int fd = open_dev();
	CHECK_EQ(1L, check_extension(fd, CAP_DEBUGREGS));
	Vm vm;
	CHECK_EQ(1L, check_extension(vm.fd(), CAP_DEBUGREGS));
	close(fd);
}

TEST(cap_set_guest_debug2_is_valid_mask)
{
	/* KVM_CAP_SET_GUEST_DEBUG2 returns the control bits KVM_SET_GUEST_DEBUG accepts. */
	int fd = open_dev();
	CHECK_EQ((long)GUESTDBG_VALID_MASK, check_extension(fd, CAP_SET_GUEST_DEBUG2));
	Vm vm;
	CHECK_EQ((long)GUESTDBG_VALID_MASK, check_extension(vm.fd(), CAP_SET_GUEST_DEBUG2));
	close(fd);
}

/* ---- KVM_SET_GUEST_DEBUG validation ---- */

TEST(set_guest_debug_unknown_control_bits_einval)
{
	Vm vm;
	Vcpu v(vm, 0);
	/* Every bit outside KVM_GUESTDBG_VALID_MASK, alone and with ENABLE. */
	std::string accepted;
	int naccepted = 0;
	for (int bit = 0; bit < 32; bit++) {
		uint32_t c = 1u << bit;
		if (c & GUESTDBG_VALID_MASK)
			continue;
		for (uint32_t ctl : {c, c | GUESTDBG_ENABLE}) {
			int r = set_guest_debug(v, ctl);
			if (r == -EINVAL)
				continue;
			if (naccepted++ >= 4)
				continue;
			accepted += tap::format(" 0x%x (%s)", ctl,
						r ? tap::errno_name(-r).c_str() : "success");
		}
	}
	if (!accepted.empty()) {
		/*
		 * Debian's 6.1 and 6.12 KVM only advertise the mask
		 * (KVM_CAP_SET_GUEST_DEBUG2) and do not reject other bits:
		 * kvm_arch_vcpu_ioctl_set_guest_debug has no such check there.
		 * dbgkvm rejects them, as the ABI documentation asks
		 * ("userspace should not set bits outside the mask").
		 */
		if (is_kvm())
			tap::diag(
			    "KVM accepts %d of 58 controls with bits outside 0x1f0003, e.g.%s",
			    naccepted, accepted.c_str());
		else
			FAIL(
			    "control bits outside KVM_GUESTDBG_VALID_MASK must be EINVAL; %d of 58 "
			    "were not, e.g.%s",
			    naccepted, accepted.c_str());
	}
	/* The valid ones (no INJECT_*: those queue an exception) are accepted. */
	CHECK_EQ(0, set_guest_debug(v, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | GUESTDBG_USE_SW_BP |
					   GUESTDBG_USE_HW_BP | GUESTDBG_BLOCKIRQ));
	CHECK_EQ(0, set_guest_debug(v, 0));
}

TEST(inject_db_bp_ebusy_while_pending_and_delivered)
{
	DebugGuest g(GUEST(guest_debug));
	g.start_at(GPA(ud_loop));
	g.vcpu.expect_out(PORT_REPORT, 4);

	/* The first INJECT_DB queues #DB; until the next KVM_RUN delivers it, INJECT_* is EBUSY. */
	CHECK_EQ(0, set_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_DB));
	CHECK_EQ(-EBUSY, set_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_BP));
	CHECK_EQ(-EBUSY, set_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_DB));
	g.vcpu.expect_out(PORT_REPORT, 4);
	auto l = g.log();
	CHECK_MSG(l.size() == 1 && l[0].vector == DB_VECTOR,
		  "INJECT_DB: expected one #DB in the guest's handler; %s",
		  g.describe_log().c_str());
	/* No payload: DR6 is left as it was (reset value). */
	CHECK_MSG(l[0].dr6_or_err == DR6_ACTIVE_LOW, "INJECT_DB: DR6 in the handler %s, want %s",
		  hex(l[0].dr6_or_err).c_str(), hex(DR6_ACTIVE_LOW).c_str());

	/* Delivered: INJECT_BP is accepted again, and the guest's #BP handler runs. */
	CHECK_EQ(0, set_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_BP));
	g.vcpu.expect_out(PORT_REPORT, 4);
	l = g.log();
	CHECK_MSG(l.size() == 2 && l[1].vector == BP_VECTOR,
		  "INJECT_BP: expected a #BP after the #DB; %s", g.describe_log().c_str());
	CHECK_EQ(0, set_guest_debug(g.vcpu, 0));
	g.vcpu.expect_out(PORT_REPORT, 4);
	CHECK_EQ((uint64_t)2, g.count());
}

/* ---- KVM_GET/SET_DEBUGREGS ---- */

TEST(debugregs_reset_values)
{
	/* KVM's vCPU reset: db = 0, dr6 = DR6_ACTIVE_LOW (0xffff0ff0), dr7 = 0x400. */
	Vm vm;
	Vcpu v(vm, 0);
	kvm_debugregs d = get_debugregs(v);
	for (int i = 0; i < 4; i++)
		CHECK_MSG(d.db[i] == 0, "db[%d] = %s", i, hex(d.db[i]).c_str());
	CHECK_EQ((uint64_t)DR6_ACTIVE_LOW, (uint64_t)d.dr6);
	CHECK_EQ((uint64_t)DR7_FIXED_1, (uint64_t)d.dr7);
	CHECK_EQ(0u, d.flags);
	for (int i = 0; i < 9; i++)
		CHECK_MSG(d.reserved[i] == 0, "reserved[%d] = %s (KVM zeroes the struct)", i,
			  hex(d.reserved[i]).c_str());
}

TEST(set_debugregs_invalid_einval)
{
	Vm vm;
	Vcpu v(vm, 0);
	kvm_debugregs d = get_debugregs(v);
	kvm_debugregs bad = d;
	bad.flags = 1;
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_DEBUGREGS, &bad));
	for (int bit = 32; bit < 64; bit += 31) {
		bad = d;
		bad.dr6 |= 1ull << bit;
		CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_DEBUGREGS, &bad));
		bad = d;
		bad.dr7 |= 1ull << bit;
		CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_DEBUGREGS, &bad));
	}
	/* Nothing changed. */
	kvm_debugregs now = get_debugregs(v);
	CHECK_EQ((uint64_t)d.dr6, (uint64_t)now.dr6);
	CHECK_EQ((uint64_t)d.dr7, (uint64_t)now.dr7);
}

TEST(debugregs_round_trip)
{
	Vm vm;
	Vcpu v(vm, 0);
	kvm_debugregs d = {};
	const uint64_t db[4] = {0x1000, 0x7fff12345678, 0xffff800000001234, 0xfffffffffffffff0};
	for (int i = 0; i < 4; i++)
		d.db[i] = db[i];
	d.dr6 = 0xffff4ff3;		    /* BS, B0, B1 */
	d.dr7 = 0x400 | 0xd0000 | dr7_g(0); /* DR0: 4-byte write watchpoint */
	set_debugregs(v, d);
	kvm_debugregs got = get_debugregs(v);
	for (int i = 0; i < 4; i++)
		CHECK_MSG(got.db[i] == db[i], "db[%d]: set %s, got %s", i, hex(db[i]).c_str(),
			  hex(got.db[i]).c_str());
	CHECK_EQ((uint64_t)d.dr6, (uint64_t)got.dr6);
	CHECK_EQ((uint64_t)d.dr7, (uint64_t)got.dr7);
	CHECK_EQ(0u, got.flags);
}

/* ---- KVM_EXIT_DEBUG ---- */

TEST(sw_bp_int3_exits_with_use_sw_bp)
{
	DebugGuest g(GUEST(guest_debug));
	g.start_at(GPA(ud_int3));
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_USE_SW_BP);
	/* #BP is intercepted only with USE_SW_BP; pc is the INT3 itself. */
	g.vcpu.enter();
	const kvm_run *r = g.vcpu.run();
	if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_DONE && is_svm() &&
	    g.count() == 1 && g.log()[0].vector == BP_VECTOR)
		/*
		 * QEMU (10) TCG's SVM checks the INTn intercept (SVM_EXIT_SWINT)
		 * for INT3, not the #BP exception intercept, so no hypervisor
		 * running under it sees the #BP: the guest's own handler ran.
		 */
		SKIP("QEMU TCG does not apply SVM's #BP exception intercept to INT3 (the guest's "
		     "handler ran instead); not a property of %s",
		     target().c_str());
	if (r->exit_reason != KVM_EXIT_DEBUG || r->debug.arch.exception != BP_VECTOR ||
	    r->debug.arch.pc != GPA(ud_int3))
		g.fail_exit(
		    tap::format("KVM_EXIT_DEBUG exception 3 pc %s", hex(GPA(ud_int3)).c_str())
			.c_str());
	CHECK_EQ((uint64_t)0, g.count());
	/* Without USE_SW_BP the INT3 goes to the guest's own #BP handler (RIP after it). */
	xset_guest_debug(g.vcpu, 0);
	g.vcpu.expect_out(PORT_DONE, 4);
	auto l = g.log();
	CHECK_MSG(l.size() == 1 && l[0].vector == BP_VECTOR && l[0].rip == GPA(ud_int3) + 1,
		  "expected the guest's #BP handler once, after the INT3 at %s; %s",
		  hex(GPA(ud_int3)).c_str(), g.describe_log().c_str());
}

TEST(hw_exec_breakpoint_dr0_to_dr3)
{
	for (int n = 0; n < 4; n++) {
		DebugGuest g(GUEST(guest_debug));
		g.start_at(GPA(ud_exec));
		const uint64_t dr7 = DR7_FIXED_1 | dr7_g(n);
		set_hw_bp(g.vcpu, n, GPA(ud_exec_bp), dr7);
		std::string what = tap::format("execute breakpoint on DR%d", n);
		expect_debug_exit(g.vcpu, what.c_str(), DB_VECTOR, GPA(ud_exec_bp),
				  DR6_ACTIVE_LOW | 1ull << n, dr7);
		CHECK_EQ(GPA(ud_exec_bp), g.vcpu.rip());
	}
}

TEST(hw_write_watchpoint_dr0_to_dr3)
{
	for (int n = 0; n < 4; n++) {
		DebugGuest g(GUEST(guest_debug));
		g.start_at(GPA(ud_write));
		/* R/W = 01 (write), LEN = 11 (4 bytes): 0xd in DR7 bits 16+4n..19+4n. */
		const uint64_t dr7 = DR7_FIXED_1 | dr7_g(n) | dr7_rwlen(n, 1, 3);
		set_hw_bp(g.vcpu, n, DBG_WATCH, dr7);
		std::string what = tap::format("4-byte write watchpoint on DR%d", n);
		/* A data breakpoint is a trap: the write is done and pc is the next instruction. */
		expect_debug_exit(g.vcpu, what.c_str(), DB_VECTOR, GPA(ud_write_after),
				  DR6_ACTIVE_LOW | 1ull << n, dr7);
		CHECK_EQ(0x12345678u, g.vm.at<uint32_t>(DBG_WATCH));
	}
}

static void single_step(uint32_t extra)
{
	DebugGuest g(GUEST(guest_debug));
	g.start_at(GPA(ud_ss));
	const uint64_t next[] = {GPA(ud_ss_1), GPA(ud_ss_2), GPA(ud_ss_3),
				 GPA(ud_ss_4), GPA(ud_ss_5), GPA(ud_ss_6)};
	const char *insn[] = {"sti", "xor", "cpuid", "mov", "nop", "cli"};
	for (int i = 0; i < 6; i++) {
		uint64_t dr[8] = {};
		dr[7] = DR7_FIXED_1;
		xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP | extra, dr);
		std::string what = tap::format("single-step over %s (step %d)", insn[i], i + 1);
		/* dr7: the guest's own DR7 is in effect (no USE_HW_BP): 0x400. */
		expect_debug_exit(g.vcpu, what.c_str(), DB_VECTOR, next[i], DR6_ACTIVE_LOW | DR6_BS,
				  DR7_FIXED_1);
	}
	/* Single-stepping hides TF from the guest: RFLAGS.TF is not left set. */
	xset_guest_debug(g.vcpu, 0);
	CHECK_MSG(!(g.vcpu.regs().rflags & 0x100), "RFLAGS %s after single-stepping",
		  hex(g.vcpu.regs().rflags).c_str());
	g.vcpu.expect_out(PORT_DONE, 4);
	CHECK_MSG(g.count() == 0, "the guest saw exceptions: %s", g.describe_log().c_str());
}

TEST(single_step)
{
	single_step(0);
}

TEST(single_step_blockirq)
{
	/*
	 * BLOCKIRQ (no interrupt injection while stepping) is accepted and does
	 * not change the steps. That no interrupt is injected needs an interrupt
	 * source (debug_regs.c uses an x2APIC self-IPI); dbgkvm has no irqchip.
	 */
	single_step(GUESTDBG_BLOCKIRQ);
}

TEST(gd_with_use_hw_bp_exits_on_mov_dr)
{
	DebugGuest g(GUEST(guest_debug));
	g.start_at(GPA(ud_gd));
	uint64_t dr[8] = {};
	dr[7] = DR7_FIXED_1 | DR7_GD;
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP, dr);
	/* GD: the MOV DR faults before it runs; DR6.BD (0xffff2ff0); DR7 as userspace set it. */
	g.vcpu.enter();
	const kvm_run *r = g.vcpu.run();
	if (is_kvm() && is_svm() && r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_DONE)
		/*
		 * KVM's SVM code leaves GD to the CPU: on AMD hardware the GD #DB
		 * comes before the MOV-DR intercept, and KVM turns the #DB
		 * intercept into the exit. QEMU TCG checks the MOV-DR intercept
		 * first, and KVM's emulator checks GD against the guest's own DR7
		 * (0x400), so the MOV just runs. dbgkvm must check userspace's
		 * DR7.GD in its MOV-DR intercept (as KVM's VMX handle_dr does).
		 */
		SKIP("QEMU TCG checks the MOV-DR intercept before DR7.GD; KVM on SVM relies on "
		     "the CPU's order, so no exit here (dbgkvm must exit: dr6 0xffff2ff0)");
	if (r->exit_reason != KVM_EXIT_DEBUG || r->debug.arch.exception != DB_VECTOR ||
	    r->debug.arch.pc != GPA(ud_gd) || r->debug.arch.dr6 != (DR6_ACTIVE_LOW | DR6_BD) ||
	    r->debug.arch.dr7 != (DR7_FIXED_1 | DR7_GD))
		g.fail_exit(
		    tap::format("KVM_EXIT_DEBUG exception 1 pc %s dr6 0xffff2ff0 dr7 0x2400",
				hex(GPA(ud_gd)).c_str())
			.c_str());
	CHECK_EQ(GPA(ud_gd), g.vcpu.rip());
}

/*
 * Seed 001 (2020, "KVM: x86, SVM: do not clobber guest DR6 on
 * KVM_EXIT_DEBUG"): on SVM the VMCB's DR6 after a #DB intercept reads as if
 * the #DB were delivered to the guest. KVM must (1) report only this exit's
 * cause in run->debug.arch.dr6 (no bits left from the previous exit), and (2)
 * never let it reach the guest's DR6 (KVM_GET_DEBUGREGS and the guest's own
 * MOV from DR6 still see the guest's value).
 */
TEST(seed001_debug_exits_keep_guest_dr6_and_do_not_accumulate)
{
	DebugGuest g(GUEST(guest_debug));
	g.start_at(GPA(ud_seed001));
	kvm_debugregs d = get_debugregs(g.vcpu);
	CHECK_EQ((uint64_t)DR6_ACTIVE_LOW, (uint64_t)d.dr6);

	/* 1: execute breakpoint, DR0: B0 only. */
	set_hw_bp(g.vcpu, 0, GPA(ud_seed001_bp), DR7_FIXED_1 | dr7_g(0));
	expect_debug_exit(g.vcpu, "exit 1 (DR0 execute breakpoint)", DB_VECTOR, GPA(ud_seed001_bp),
			  DR6_ACTIVE_LOW | 1);
	d = get_debugregs(g.vcpu);
	CHECK_MSG(d.dr6 == DR6_ACTIVE_LOW,
		  "after exit 1, KVM_GET_DEBUGREGS dr6 %s: the guest's DR6 (0xffff0ff0) was "
		  "clobbered by the debug exit",
		  hex(d.dr6).c_str());

	/* 2: single-step: BS only, no B0 left from exit 1. */
	uint64_t dr[8] = {};
	dr[7] = DR7_FIXED_1;
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP, dr);
	expect_debug_exit(g.vcpu, "exit 2 (single-step after a DR0 exit)", DB_VECTOR,
			  GPA(ud_seed001_1), DR6_ACTIVE_LOW | DR6_BS);

	/* 3: execute breakpoint, DR1: B1 only, no BS left from exit 2. */
	set_hw_bp(g.vcpu, 1, GPA(ud_seed001_2), DR7_FIXED_1 | dr7_g(1));
	expect_debug_exit(g.vcpu, "exit 3 (DR1 execute breakpoint after a single-step exit)",
			  DB_VECTOR, GPA(ud_seed001_2), DR6_ACTIVE_LOW | 2);
	d = get_debugregs(g.vcpu);
	CHECK_MSG(d.dr6 == DR6_ACTIVE_LOW,
		  "after 3 debug exits, KVM_GET_DEBUGREGS dr6 %s: the guest's DR6 (0xffff0ff0) "
		  "was clobbered",
		  hex(d.dr6).c_str());

	/* The guest reads its own DR6 once debugging is off. */
	xset_guest_debug(g.vcpu, 0);
	auto r = g.run_to_halt();
	CHECK_EQ((size_t)2, r.size());
	uint64_t guest_dr6 = r[0] | r[1] << 32;
	CHECK_MSG(guest_dr6 == DR6_ACTIVE_LOW,
		  "the guest's MOV from DR6 read %s after the debug exits, want 0xffff0ff0",
		  hex(guest_dr6).c_str());
	CHECK_MSG(g.count() == 0, "the guest saw exceptions: %s", g.describe_log().c_str());
}
