// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include "kvm.h"
#include "tap.h"

#include <cstdlib>
#include <sys/mman.h>

namespace fz
{

static Stats *shared;

void init_stats()
{
	void *p =
	    mmap(nullptr, sizeof(Stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("fuzz_test: mmap of the shared counters");
		exit(1);
	}
	shared = new (p) Stats();
}

Stats &stats()
{
	return *shared;
}

void note_exit(uint32_t reason)
{
	if (reason < 64)
		stats().exit_mask.fetch_or(1ull << reason, std::memory_order_relaxed);
}

std::string exit_reason_list(uint64_t mask)
{
	std::string s;
	for (unsigned r = 0; r < 64; r++) {
		if (!(mask & (1ull << r)))
			continue;
		std::string n = kt::exit_name(r);
		if (n.rfind("KVM_EXIT_", 0) == 0)
			n = n.substr(9);
		if (n == "?")
			n = tap::format("%u", r);
		s += (s.empty() ? "" : ",") + n;
	}
	return s;
}

std::string summary_line(uint64_t seed, double seconds)
{
	const uint64_t mask = stats().exit_mask.load();
	return tap::format("# fuzz: seed=0x%llx ioctls=%llu guest_insns=%llu exit_reasons=%d (%s) "
			   "seconds=%.0f",
			   (unsigned long long)seed, (unsigned long long)stats().ioctls.load(),
			   (unsigned long long)stats().guest_insns.load(),
			   __builtin_popcountll(mask), exit_reason_list(mask).c_str(), seconds);
}

} // namespace fz
