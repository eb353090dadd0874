// SPDX-License-Identifier: GPL-2.0
/*
 * modes_test: real, 32-bit protected and 64-bit long mode guests compute
 * something and report it with OUT (guest/modes.S). A wrong GDT, page table,
 * segment or control register shows up as a wrong report or a triple fault
 * (KVM_EXIT_SHUTDOWN: the IDT is empty).
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <vector>

using namespace kt;

GUEST_DECLARE(guest_real);
GUEST_DECLARE(guest_real_to_prot);
GUEST_DECLARE(guest_prot32);
GUEST_DECLARE(guest_long64);
GUEST_DECLARE(guest_long64_high);

static void check_reports(const std::vector<uint64_t> &got, const std::vector<uint64_t> &want)
{
	CHECK_EQ(want.size(), got.size());
	for (size_t i = 0; i < want.size(); i++)
		CHECK_MSG(got[i] == want[i], "report %zu: expected 0x%llx, got 0x%llx", i,
			  (unsigned long long)want[i], (unsigned long long)got[i]);
}

TEST(real_mode)
{
	Guest g(Mode::Real, GUEST(guest_real));
	g.vm.at<uint32_t>(DATA_GPA) = 0xa5a55a5a;
	/* CR0 after reset is 0x60000010 (CD, NW, ET): KVM's kvm_vcpu_reset. */
	check_reports(g.vcpu.run_to_halt(), {5050, 5050, 0xa5a55a5a, CODE_GPA >> 4, 0x60000010});
	CHECK_EQ(~0xa5a55a5au, g.vm.at<uint32_t>(DATA_GPA + 4));
}

TEST(real_mode_enters_protected_mode)
{
	Guest g(Mode::Real, GUEST(guest_real_to_prot));
	check_reports(g.vcpu.run_to_halt(), {0x60000011, SEL_CODE32, 0x12345678});
	kvm_sregs s = g.vcpu.sregs();
	CHECK_EQ((uint64_t)0x60000011, (uint64_t)s.cr0);
	CHECK_EQ((uint16_t)SEL_CODE32, s.cs.selector);
	CHECK_EQ((uint8_t)1, s.cs.db);
	CHECK_EQ((uint64_t)GDT_GPA, (uint64_t)s.gdt.base);
}

TEST(protected_mode_32)
{
	Guest g(Mode::Prot32, GUEST(guest_prot32));
	g.vm.at<uint32_t>(DATA_GPA) = 41;
	check_reports(g.vcpu.run_to_halt(), {3628800, 42, 0xc0ffee, SEL_CODE32, 0x31});
	CHECK_EQ(42u, g.vm.at<uint32_t>(DATA_GPA + 4));
}

TEST(long_mode_64)
{
	Guest g(Mode::Long64, GUEST(guest_long64));
	g.vm.at<uint64_t>(DATA_GPA) = 0x1122334455667788ull;
	/* CR0 = PG|NE|ET|PE, CR4 = PAE, as the library set them. */
	auto reports = g.vcpu.run_to_halt();
	/*
	 * KVM on SVM ORs the host's CR4.MCE into the guest's real CR4
	 * (svm_set_cr4) and does not intercept CR4 reads, so the guest may see
	 * MCE (bit 6) it never set; KVM_GET_SREGS still says 0x20.
	 */
	CHECK_EQ((size_t)5, reports.size());
	reports[4] &= ~0x40ull;
	check_reports(reports, {0x9abcdef0, 0x12345678, SEL_CODE64, 0x80000031, 0x20});
	CHECK_EQ(~0x1122334455667788ull, g.vm.at<uint64_t>(DATA_GPA + 8));
	kvm_sregs s = g.vcpu.sregs();
	CHECK_EQ((uint64_t)0x500, (uint64_t)(s.efer & 0x500)); /* LME | LMA */
	CHECK_EQ((uint8_t)1, s.cs.l);
	CHECK_EQ((uint64_t)0x20, (uint64_t)s.cr4);
}

TEST(long_mode_memory_above_4g)
{
	/* A second slot at 4 GiB, reached through the identity map's fifth PD. */
	Guest g(Mode::Long64, GUEST(guest_long64_high));
	uint8_t *high = g.vm.add_memory(1, HIGH_GPA, 0x200000);
	*reinterpret_cast<uint64_t *>(high) = 0x00000001ffffffffull;
	check_reports(g.vcpu.run_to_halt(), {0, 2});
	CHECK_EQ(0x0000000200000000ull, *reinterpret_cast<uint64_t *>(high + 8));
}
