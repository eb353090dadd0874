/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters shared by every test of the run. The TAP harness runs each test in a forked
 * child, so they live in a MAP_SHARED page set up by main() before the first fork;
 * main() prints the one summary line after the last test:
 *
 *   # fuzz: seed=S ioctls=N guest_insns=N exit_reasons=N (NAME,...) seconds=N
 *
 * ioctls: every ioctl() the fuzzer issued on a KVM fd (system, VM or vCPU), whatever it
 * returned. guest_insns: only instructions known to have retired (see count_insns()).
 */
#ifndef SELFTESTS_FUZZ_STATS_H
#define SELFTESTS_FUZZ_STATS_H

#include <atomic>
#include <cstdint>
#include <string>

namespace fz
{

constexpr unsigned MAX_TESTS = 16;

struct TestProgress {
	std::atomic<uint64_t> iter;    /* the iteration running now */
	std::atomic<uint64_t> subseed; /* its sub-seed */
	std::atomic<uint64_t> done;    /* iterations finished */
	std::atomic<int> in_iteration; /* 1 while an iteration runs: a crash happened there */
};

struct Stats {
	std::atomic<uint64_t> ioctls;
	std::atomic<uint64_t> guest_insns;
	std::atomic<uint64_t> single_steps;
	std::atomic<uint64_t> exit_mask; /* bit r: KVM_EXIT r seen (r < 64) */
	TestProgress tests[MAX_TESTS];
};

/* The shared page; init_stats() must run before the harness forks. */
void init_stats();
Stats &stats();

inline void count_ioctl()
{
	stats().ioctls.fetch_add(1, std::memory_order_relaxed);
}
/*
 * Guest instructions whose retirement is proven: a structured guest's counted loop that
 * reported its checksum (the exact number of instructions of the loop and its frame), or
 * one instruction per single-step KVM_EXIT_DEBUG with DR6.BS. Random bytes are never
 * counted: how many of them ran is unknown.
 */
inline void count_insns(uint64_t n)
{
	stats().guest_insns.fetch_add(n, std::memory_order_relaxed);
}
void note_exit(uint32_t reason);

std::string exit_reason_list(uint64_t mask);
/* The summary line, without the trailing newline. */
std::string summary_line(uint64_t seed, double seconds);

} // namespace fz

#endif
