// SPDX-License-Identifier: GPL-2.0
/*
 * bench_test: the cost of the two exits every VMM pays for, measured the same way on
 * dbgkvm and on Linux's KVM. Run it under QEMU's `-icount shift=0` (`make bench`):
 * the guest clock then counts instructions (1 ns = 1 instruction of the emulated CPU,
 * L2 guest included), so the numbers repeat from run to run and compare across
 * hypervisors in the same machine. Without icount they are wall-clock TCG times.
 *
 *  - pio_exit_roundtrip: OUT to a port -> KVM_EXIT_IO -> back into the guest.
 *  - cpuid_exit_in_kernel: CPUID, handled in the kernel without leaving KVM_RUN.
 *
 * Each test checks that the guest really did the work (every exit seen, in order),
 * and prints ns per exit as a diagnostic.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <ctime>

using namespace kt;

GUEST_DECLARE(guest_bench_pio);
GUEST_DECLARE(guest_bench_cpuid);

namespace
{

uint64_t now_ns()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}

constexpr int ROUNDS = 2000;
constexpr int CPUIDS_PER_ROUND = 100;

} // namespace

TEST(pio_exit_roundtrip)
{
	Guest g(Mode::Long64, GUEST(guest_bench_pio));
	for (int i = 0; i < 50; i++) // warm up: fault in the guest's pages
		g.vcpu.expect_out(PORT_REPORT, 4);
	uint64_t t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
	uint64_t ns = (now_ns() - t0) / ROUNDS;
	tap::diag("%s: %llu ns per PIO exit round trip through user space", target().c_str(),
		  (unsigned long long)ns);
}

TEST(cpuid_exit_in_kernel)
{
	Guest g(Mode::Long64, GUEST(guest_bench_cpuid));
	kvm_regs r = g.vcpu.regs();
	r.r8 = CPUIDS_PER_ROUND;
	g.vcpu.set_regs(r);
	g.vcpu.expect_out(PORT_REPORT, 4); // warm up
	// Baseline: the same loop with one CPUID a round, to take the OUT out.
	uint64_t t0 = now_ns();
	for (int i = 0; i < ROUNDS / 10; i++)
		CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
	uint64_t with_many = (now_ns() - t0) / (ROUNDS / 10);
	r = g.vcpu.regs();
	r.r8 = 1;
	g.vcpu.set_regs(r);
	g.vcpu.expect_out(PORT_REPORT, 4);
	t0 = now_ns();
	for (int i = 0; i < ROUNDS / 10; i++)
		CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
	uint64_t with_one = (now_ns() - t0) / (ROUNDS / 10);
	CHECK_MSG(with_many > with_one, "100 CPUIDs a round (%llu ns) not slower than 1 (%llu ns)",
		  (unsigned long long)with_many, (unsigned long long)with_one);
	uint64_t ns = (with_many - with_one) / (CPUIDS_PER_ROUND - 1);
	tap::diag("%s: %llu ns per CPUID exit handled in the kernel", target().c_str(),
		  (unsigned long long)ns);
}
