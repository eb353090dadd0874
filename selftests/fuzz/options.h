/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_test's options, from the command line and, inside the test machines (whose
 * runner starts each binary without arguments), from the kernel command line:
 *
 *   --seed S      / fuzz.seed=S      the run seed (decimal or 0x...; default: from the clock)
 *   --seconds N   / fuzz.seconds=N   time budget: run until it expires (shared by the tests)
 *   --iter N      / fuzz.iter=N      with --single: replay iteration N only
 *   --single      / fuzz.single=1
 *   --compare     / fuzz.compare=1   only the differential test (dbgkvm against KVM)
 *   --verbose     / fuzz.verbose=1   each iteration's start on stderr (finds the iteration
 *                                    that took the machine or the emulator down)
 *   --truncate N  / fuzz.truncate=N  guests: cut each program after N bytes (then OUT
 *                                    PORT_DONE; HLT), to shorten a failing guest's replay
 *   --code HEX    / fuzz.code=HEX    guests: run these bytes instead of the generated
 *                                    program (everything else as the sub-seed says)
 *   TEST...       / fuzz.tests=a,b   run only these tests
 *
 * e.g. scripts/vmtest.sh ... --only fuzz_test --append "fuzz.seed=0x1234 fuzz.seconds=600".
 */
#ifndef SELFTESTS_FUZZ_OPTIONS_H
#define SELFTESTS_FUZZ_OPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

namespace fz
{

struct Options {
	uint64_t seed = 0;
	bool seed_given = false;
	unsigned seconds = 0; /* 0: no budget, run until the minimum counts are reached */
	bool single = false;
	uint64_t iter = 0;
	bool compare_only = false;
	bool verbose = false;
	unsigned truncate = 0;
	std::vector<uint8_t> code;
	std::vector<std::string> tests;
};

/* Parses argv and /proc/cmdline (argv wins); exits with a usage message on a bad option. */
Options parse_options(int argc, char **argv);
const Options &options();

/* The line that replays one iteration, for failure reports. */
std::string replay_command(const char *test, uint64_t iter);

} // namespace fz

#endif
