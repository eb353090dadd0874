// SPDX-License-Identifier: GPL-2.0
/*
 * exits_test: every exit reason dbgkvm produces, checked field by field
 * against KVM's ABI (Documentation/virt/kvm/api.rst, "kvm_run"):
 *  - KVM_EXIT_IO: direction, size, port, count = 1, data at io.data_offset;
 *    IN data lands in AL/AX/EAX; a 32-bit IN zero-extends into RAX, 8/16-bit
 *    INs keep the rest of RAX (complete_fast_pio_in, like the hardware).
 *  - KVM_EXIT_MMIO: phys_addr, len, is_write, data; for a read the data the
 *    test puts in mmio.data lands in the register on the next KVM_RUN (with
 *    the same width rules as MOV) and RIP moves past the instruction.
 *  - KVM_EXIT_HLT (no in-kernel irqchip): RIP is after the HLT.
 *  - KVM_EXIT_SHUTDOWN: triple fault (svm shutdown_interception, vmx
 *    handle_triple_fault).
 *  - KVM_EXIT_FAIL_ENTRY: VMRUN/VMLAUNCH refuses the guest state.
 *  - KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION: an MMIO access by
 *    an instruction the emulator does not know, at CPL 0
 *    (handle_emulation_failure).
 *  - immediate_exit and pending signals: KVM_RUN fails with EINTR.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <csignal>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/time.h>

using namespace kt;

GUEST_DECLARE(guest_out);
GUEST_DECLARE(guest_mmio_straddle);
GUEST_DECLARE(guest_in);
GUEST_DECLARE(guest_mmio_write);
GUEST_DECLARE(guest_mmio_read);
GUEST_LABEL_DECLARE(guest_mmio_read_1);
GUEST_LABEL_DECLARE(guest_mmio_read_2);
GUEST_LABEL_DECLARE(guest_mmio_read_4);
GUEST_LABEL_DECLARE(guest_mmio_read_8);
GUEST_DECLARE(guest_mmio_32);
GUEST_DECLARE(guest_hlt);
GUEST_LABEL_DECLARE(guest_hlt_after);
GUEST_DECLARE(guest_ud2);
GUEST_DECLARE(guest_int3_32);
GUEST_DECLARE(guest_just_hlt);
GUEST_DECLARE(guest_fld_mmio);
GUEST_DECLARE(guest_spin);

static constexpr uint64_t PATTERN = 0x1122334455667788ull;

TEST(io_out_sizes)
{
	Guest g(Mode::Long64, GUEST(guest_out));
	CHECK_EQ(0x11ull, g.vcpu.expect_out(0x10, 1));
	CHECK_EQ(0x2233ull, g.vcpu.expect_out(0x12, 2));
	CHECK_EQ(0x44556677ull, g.vcpu.expect_out(0x14, 4));
	CHECK_EQ(0x99ull, g.vcpu.expect_out(0x3f8, 1));
	CHECK_EQ(0xdeadbeefull, g.vcpu.expect_out(0xcafe, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(io_data_offset_in_mapping)
{
	/* KVM puts PIO data in the page after kvm_run (KVM_PIO_PAGE_OFFSET = 1). */
	Guest g(Mode::Long64, GUEST(guest_out));
	g.vcpu.expect_out(0x10, 1);
	uint64_t off = g.vcpu.run()->io.data_offset;
	CHECK_MSG(off >= sizeof(kvm_run) || off >= 4096, "data_offset 0x%llx overlaps kvm_run",
		  (unsigned long long)off);
	if (is_dbgkvm())
		CHECK_EQ(4096ull, (unsigned long long)off);
}

TEST(io_in_sizes_and_rax_width)
{
	Guest g(Mode::Long64, GUEST(guest_in));
	g.vcpu.expect_in(0x20, 1, 0xab);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0x11223344556677abull, (unsigned long long)g.vcpu.regs().rax);

	g.vcpu.expect_in(0x22, 2, 0xcdef);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0x112233445566cdefull, (unsigned long long)g.vcpu.regs().rax);

	/* A 32-bit result zero-extends into RAX in 64-bit mode. */
	g.vcpu.expect_in(0x24, 4, 0xdeadbeef);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0x00000000deadbeefull, (unsigned long long)g.vcpu.regs().rax);

	g.vcpu.expect_in(0x3f8, 1, 0x5a);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0x112233445566775aull, (unsigned long long)g.vcpu.regs().rax);
}

TEST(mmio_write_sizes)
{
	Guest g(Mode::Long64, GUEST(guest_mmio_write));
	CHECK_EQ(0x11ull, g.vcpu.expect_mmio_write(MMIO_GPA, 1));
	CHECK_EQ(0x2233ull, g.vcpu.expect_mmio_write(MMIO_GPA + 0x10, 2));
	CHECK_EQ(0x44556677ull, g.vcpu.expect_mmio_write(MMIO_GPA + 0x20, 4));
	CHECK_EQ(0x8899aabbccddeeffull, g.vcpu.expect_mmio_write(MMIO_GPA + 0x30, 8));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(mmio_read_sizes_and_rip)
{
	Guest g(Mode::Long64, GUEST(guest_mmio_read));
	const struct {
		uint64_t gpa;
		uint32_t len;
		uint64_t data, rbx, rip;
	} steps[] = {
	    {MMIO_GPA, 1, 0xa1, 0x11223344556677a1ull,
	     GUEST_GPA(guest_mmio_read, guest_mmio_read_1)},
	    {MMIO_GPA + 0x10, 2, 0xb2b2, 0x112233445566b2b2ull,
	     GUEST_GPA(guest_mmio_read, guest_mmio_read_2)},
	    /* MOV to a 32-bit register zero-extends. */
	    {MMIO_GPA + 0x20, 4, 0xc4c4c4c4, 0x00000000c4c4c4c4ull,
	     GUEST_GPA(guest_mmio_read, guest_mmio_read_4)},
	    {MMIO_GPA + 0x30, 8, 0xd8d8d8d8d8d8d8d8ull, 0xd8d8d8d8d8d8d8d8ull,
	     GUEST_GPA(guest_mmio_read, guest_mmio_read_8)},
	};
	for (auto &s : steps) {
		g.vcpu.expect_mmio_read(s.gpa, s.len, s.data);
		g.vcpu.expect_exit(KVM_EXIT_HLT);
		kvm_regs r = g.vcpu.regs();
		CHECK_MSG(r.rbx == s.rbx, "len %u: rbx expected 0x%llx, got 0x%llx", s.len,
			  (unsigned long long)s.rbx, (unsigned long long)r.rbx);
		CHECK_MSG(r.rip == s.rip, "len %u: rip expected 0x%llx, got 0x%llx", s.len,
			  (unsigned long long)s.rip, (unsigned long long)r.rip);
	}
}

TEST(mmio_protected_mode_32)
{
	Guest g(Mode::Prot32, GUEST(guest_mmio_32));
	CHECK_EQ(0x12345678ull, g.vcpu.expect_mmio_write(MMIO_GPA, 4));
	g.vcpu.expect_mmio_read(MMIO_GPA + 4, 4, 0x9abcdef0);
	CHECK_EQ(0x9abcdef0ull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(hlt_exit_and_resume)
{
	Guest g(Mode::Long64, GUEST(guest_hlt));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(GUEST_GPA(guest_hlt, guest_hlt_after), (uint64_t)g.vcpu.rip());
	CHECK_EQ(0x4c54ull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(shutdown_on_triple_fault_64)
{
	Guest g(Mode::Long64, GUEST(guest_ud2));
	g.vcpu.expect_exit(KVM_EXIT_SHUTDOWN);
}

TEST(shutdown_on_triple_fault_32)
{
	/* PVM emulates INT3's delivery and reports an emulation failure instead. */
	if (is_pvm_host())
		SKIP("host KVM is PVM: INT3 with an empty IDT gives KVM_EXIT_INTERNAL_ERROR there");
	Guest g(Mode::Prot32, GUEST(guest_int3_32));
	g.vcpu.expect_exit(KVM_EXIT_SHUTDOWN);
}

TEST(fail_entry_cs_l_and_d)
{
	/*
	 * Long mode with CS.L = 1 and CS.D = 1 is an invalid guest state for both
	 * vendors (APM 15.5.1 VMRUN consistency checks; SDM 26.3.1.2). KVM does not
	 * reject it in KVM_SET_SREGS; VMRUN/VMLAUNCH fails and KVM reports
	 * KVM_EXIT_FAIL_ENTRY.
	 */
	if (is_pvm_host())
		SKIP("host KVM is PVM: no hardware VM entry, so no entry checks (the guest runs)");
	Guest g(Mode::Long64, GUEST(guest_just_hlt));
	kvm_sregs s = g.vcpu.sregs();
	s.cs.db = 1;
	g.vcpu.set_sregs(s);
	g.vcpu.enter();
	if (g.vcpu.run()->exit_reason != KVM_EXIT_FAIL_ENTRY)
		FAIL("expected KVM_EXIT_FAIL_ENTRY, got %s", g.vcpu.describe_exit().c_str());
	tap::diag("hardware_entry_failure_reason 0x%llx",
		  (unsigned long long)g.vcpu.run()->fail_entry.hardware_entry_failure_reason);
}

TEST(internal_error_unemulatable_mmio)
{
	Guest g(Mode::Long64, GUEST(guest_fld_mmio));
	g.vcpu.enter();
	const kvm_run *r = g.vcpu.run();
	if (r->exit_reason != KVM_EXIT_INTERNAL_ERROR)
		FAIL("expected KVM_EXIT_INTERNAL_ERROR, got %s", g.vcpu.describe_exit().c_str());
	CHECK_EQ((uint32_t)KVM_INTERNAL_ERROR_EMULATION, r->internal.suberror);
}

TEST(mmio_read_crossing_out_of_memory)
{
	/*
	 * A read whose first bytes are RAM and whose last bytes are past the end of slot 0.
	 * KVM splits it: the RAM bytes in the kernel, one KVM_EXIT_MMIO for the 2 bytes at
	 * the slot's end. dbgkvm does not split accesses: it refuses the instruction
	 * (KVM_INTERNAL_ERROR_EMULATION), where it used to exit with 4 bytes at GUEST_MEM_SIZE
	 * (found by fuzz_test's compare, seed 0x2).
	 */
	Guest g(Mode::Long64, GUEST(guest_mmio_straddle));
	if (is_kvm()) {
		g.vcpu.expect_mmio_read(GUEST_MEM_SIZE, 2, 0);
		return;
	}
	g.vcpu.enter();
	const kvm_run *r = g.vcpu.run();
	if (r->exit_reason != KVM_EXIT_INTERNAL_ERROR)
		FAIL("expected KVM_EXIT_INTERNAL_ERROR, got %s", g.vcpu.describe_exit().c_str());
	CHECK_EQ((uint32_t)KVM_INTERNAL_ERROR_EMULATION, r->internal.suberror);
	CHECK_EQ((uint64_t)GUEST_MEM_SIZE, (uint64_t)r->internal.data[0]);
}

TEST(immediate_exit)
{
	/*
	 * KVM checks immediate_exit after completing a pending IO/MMIO and before
	 * entering the guest: -EINTR (kvm_arch_vcpu_ioctl_run). KVM does not write
	 * exit_reason on this path: it keeps what the previous exit left.
	 */
	Guest g(Mode::Long64, GUEST(guest_hlt));
	kvm_run *run = g.vcpu.run();
	run->immediate_exit = 1;
	run->exit_reason = 0x5a5a;
	CHECK_ERRNO(EINTR, ioctl(g.vcpu.fd(), KVM_RUN, 0));
	if (is_kvm())
		CHECK_EQ(0x5a5au, run->exit_reason);
	else
		CHECK_MSG(run->exit_reason == 0x5a5au || run->exit_reason == KVM_EXIT_INTR,
			  "exit_reason %u: expected unchanged (like KVM) or KVM_EXIT_INTR",
			  run->exit_reason);
	CHECK_EQ((uint64_t)CODE_GPA, (uint64_t)g.vcpu.rip()); /* the guest did not run */
	run->immediate_exit = 0;
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(immediate_exit_completes_pending_in)
{
	/*
	 * KVM completes the IN (data into AL, RIP past it) before honouring
	 * immediate_exit: that is how a VMM finishes an exit without running the
	 * guest (KVM selftests' vcpu_run_complete_io).
	 */
	Guest g(Mode::Long64, GUEST(guest_in));
	g.vcpu.expect_in(0x20, 1, 0xab);
	g.vcpu.run()->immediate_exit = 1;
	CHECK_ERRNO(EINTR, ioctl(g.vcpu.fd(), KVM_RUN, 0));
	g.vcpu.run()->immediate_exit = 0;
	CHECK_EQ(0x11223344556677abull, (unsigned long long)g.vcpu.regs().rax);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

TEST(immediate_exit_completes_pending_mmio_read)
{
	/* The same for an MMIO read: the data lands in RBX and RIP moves past the MOV. */
	Guest g(Mode::Long64, GUEST(guest_mmio_read));
	g.vcpu.expect_mmio_read(MMIO_GPA, 1, 0xa1);
	g.vcpu.run()->immediate_exit = 1;
	CHECK_ERRNO(EINTR, ioctl(g.vcpu.fd(), KVM_RUN, 0));
	g.vcpu.run()->immediate_exit = 0;
	kvm_regs r = g.vcpu.regs();
	CHECK_EQ(0x11223344556677a1ull, (unsigned long long)r.rbx);
	CHECK_EQ(GUEST_GPA(guest_mmio_read, guest_mmio_read_1) - 1, (uint64_t)r.rip); /* the HLT */
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int)
{
	alarms = alarms + 1;
}

TEST(signal_interrupts_run)
{
	/*
	 * A signal with a handler, arriving while the guest spins: KVM_RUN
	 * returns -EINTR with exit_reason KVM_EXIT_INTR (kvm_handle_signal_exit).
	 */
	Guest g(Mode::Long64, GUEST(guest_spin));
	struct sigaction sa = {};
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, nullptr);
	struct itimerval it = {{0, 50000}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, nullptr);
	g.vcpu.run()->exit_reason = 0x5a5a;
	CHECK_ERRNO(EINTR, ioctl(g.vcpu.fd(), KVM_RUN, 0));
	struct itimerval off = {};
	setitimer(ITIMER_REAL, &off, nullptr);
	CHECK_EQ((uint32_t)KVM_EXIT_INTR, g.vcpu.run()->exit_reason);
	CHECK(alarms > 0);
	/* The guest ran: RIP is inside the loop. */
	uint64_t rip = g.vcpu.rip();
	CHECK_MSG(rip >= CODE_GPA && rip < CODE_GPA + GUEST(guest_spin).size(), "rip 0x%llx",
		  (unsigned long long)rip);
}
