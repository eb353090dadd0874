// SPDX-License-Identifier: GPL-2.0
/*
 * exitprof probe (built and run by scripts/exit-profile.sh; not a selftest): the
 * loops of selftests/bench_test.cpp, with marker NOPs around them that the exitprof
 * QEMU plugin (scripts/exit-profile/plugin.c) turns into counting windows:
 *
 *   window 1: ROUNDS rounds of guest_bench_cpuid with R8 = MANY (MANY CPUIDs + 1 OUT)
 *   window 2: ROUNDS rounds of guest_bench_cpuid with R8 = 1    (1 CPUID + 1 OUT)
 *   window 3: PIO_ROUNDS rounds of guest_bench_pio             (1 OUT)
 *
 * so that (w1 - w2) / (ROUNDS * (MANY - 1)) is one in-kernel CPUID exit and
 * w3 / PIO_ROUNDS one PIO round trip through user space (the counts of bench_test). It also prints
 * the module symbols of /proc/kallsyms (the core kernel comes from System.map, booted with nokaslr)
 * and the CPU vulnerability mitigations, as "# " diagnostics.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sched.h>
#include <string>

using namespace kt;

GUEST_DECLARE(guest_bench_pio);
GUEST_DECLARE(guest_bench_cpuid);

#define MARK(id) asm volatile("nopl %c0(%%rax)" ::"i"(0x46520000 + (id)) : "memory")

namespace
{

constexpr int ROUNDS = 200;	 /* as bench_test: 2000 / 10 rounds of CPUIDs */
constexpr int PIO_ROUNDS = 2000; /* as bench_test */
uint64_t now_ns()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}
uint64_t ns[4];
constexpr int MANY = 100;

void pin()
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(1, &s);
	sched_setaffinity(0, sizeof(s), &s);
	sched_yield();
}

} // namespace

TEST(kallsyms)
{
	/* Module symbols always; the core kernel's text symbols too when the command
	 * line says exitprof.kallsyms=all (Debian's System.map is a stub; with nokaslr
	 * they are the same every boot, so exit-profile.sh asks once per kernel). */
	std::string cmdline;
	{
		std::ifstream c("/proc/cmdline");
		std::getline(c, cmdline);
	}
	bool all = cmdline.find("exitprof.kallsyms=all") != std::string::npos;
	std::ifstream f("/proc/kallsyms");
	std::string line, buf;
	while (std::getline(f, line)) {
		bool mod = line.find('[') != std::string::npos;
		if (!mod && !(all && line.size() > 18 && (line[17] == 't' || line[17] == 'T')) &&
		    line.find(" _text") == std::string::npos)
			continue;
		buf += "# ksym " + line + "\n";
		if (buf.size() > 65536) {
			fwrite(buf.data(), 1, buf.size(), stdout);
			buf.clear();
		}
	}
	fwrite(buf.data(), 1, buf.size(), stdout);
	fflush(stdout);
	tap::diag("cmdline %s", cmdline.c_str());
}

TEST(vulnerabilities)
{
	const char *names[] = {"gather_data_sampling",
			       "itlb_multihit",
			       "l1tf",
			       "mds",
			       "meltdown",
			       "mmio_stale_data",
			       "reg_file_data_sampling",
			       "retbleed",
			       "spec_rstack_overflow",
			       "spec_store_bypass",
			       "spectre_v1",
			       "spectre_v2",
			       "srbds",
			       "tsx_async_abort",
			       "its",
			       "tsa",
			       "indirect_target_selection",
			       "vmscape"};
	for (const char *n : names) {
		std::ifstream f(std::string("/sys/devices/system/cpu/vulnerabilities/") + n);
		std::string line;
		if (f && std::getline(f, line))
			tap::diag("vuln %s: %s", n, line.c_str());
	}
}

TEST(profile_windows)
{
	pin();
	{
		Guest g(Mode::Long64, GUEST(guest_bench_cpuid));
		kvm_regs r = g.vcpu.regs();
		r.r8 = MANY;
		g.vcpu.set_regs(r);
		for (int i = 0; i < 20; i++) // warm up
			g.vcpu.expect_out(PORT_REPORT, 4);
		ns[1] = now_ns();
		MARK(1);
		for (int i = 0; i < ROUNDS; i++)
			CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
		MARK(0);
		ns[1] = now_ns() - ns[1];
		r = g.vcpu.regs();
		r.r8 = 1;
		g.vcpu.set_regs(r);
		for (int i = 0; i < 20; i++)
			g.vcpu.expect_out(PORT_REPORT, 4);
		ns[2] = now_ns();
		MARK(2);
		for (int i = 0; i < ROUNDS; i++)
			CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
		MARK(0);
		ns[2] = now_ns() - ns[2];
	}
	{
		Guest g(Mode::Long64, GUEST(guest_bench_pio));
		for (int i = 0; i < 50; i++)
			g.vcpu.expect_out(PORT_REPORT, 4);
		ns[3] = now_ns();
		MARK(3);
		for (int i = 0; i < PIO_ROUNDS; i++)
			CHECK_EQ((uint32_t)KVM_EXIT_IO, g.vcpu.enter());
		MARK(0);
		ns[3] = now_ns() - ns[3];
	}
	tap::diag("windows: rounds=%d many=%d pio_rounds=%d", ROUNDS, MANY, PIO_ROUNDS);
	tap::diag("clock: w1 %llu ns, w2 %llu ns, w3 %llu ns (under -icount shift=0: instructions)",
		  (unsigned long long)ns[1], (unsigned long long)ns[2], (unsigned long long)ns[3]);
}
