// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: the ioctl and guest fuzzer. Its tests, in order:
 *
 *   ioctl_validation  every ioctl with valid, boundary and invalid arguments (validate.h)
 *   racing_threads    runners in KVM_RUN against ioctls, slot churn, signals, closes (race.h)
 *   guest_real, guest_prot32, guest_long64
 *                     random and structured guest code in each mode (guest_run.h)
 *   guest_debug       KVM_SET_GUEST_DEBUG single-stepping structured guests, random flags
 *   compare           dbgkvm against KVM, with the allow-list (diff.h)
 *   minimum_counts    a run without --seconds reached its minimum counts
 *
 * Options: options.h. Without --seconds each test runs until its quota (together at
 * least 100,000 ioctls and 1,000,000 counted guest instructions); with it, each test
 * gets a share of the budget. The last line is the summary (stats.h).
 */
#include "diff.h"
#include "guest_run.h"
#include "options.h"
#include "race.h"
#include "stats.h"
#include "tap.h"
#include "validate.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace fz;

namespace
{

/* Name, time share. The position in this list is the test number sub-seeds use. */
const struct {
	const char *name;
	double share;
} TESTS[] = {
    {"ioctl_validation", 0.18}, {"racing_threads", 0.2}, {"guest_real", 0.12},
    {"guest_prot32", 0.12},	{"guest_long64", 0.14},	 {"guest_debug", 0.1},
    {"compare", 0.14},
};

constexpr uint64_t MIN_IOCTLS = 100000;
constexpr uint64_t MIN_GUEST_INSNS = 1000000;

void guest_test(const char *name, kt::Mode m)
{
	Quota q;
	q.iterations = 80;
	q.guest_insns = 360000;
	run_iterations(test_number(name), name, q, [&](Ctx &c, uint64_t) {
		GuestOptions o;
		o.mode = m;
		guest_iteration(c, main_device(), o);
	});
}

} // namespace

namespace fz
{

unsigned test_number(const char *name)
{
	for (unsigned i = 0; i < sizeof(TESTS) / sizeof(TESTS[0]); i++)
		if (!strcmp(TESTS[i].name, name))
			return i;
	FAIL("no test %s", name);
}

double time_share(const char *name)
{
	return TESTS[test_number(name)].share;
}

} // namespace fz

TEST(ioctl_validation)
{
	Quota q;
	q.iterations = 100;
	q.ioctls = 35000;
	run_iterations(test_number("ioctl_validation"), "ioctl_validation", q,
		       [](Ctx &c, uint64_t) { validation_iteration(c, main_device(), nullptr); });
}

TEST(racing_threads)
{
	Quota q;
	q.iterations = 30;
	q.ioctls = 45000;
	run_iterations(test_number("racing_threads"), "racing_threads", q,
		       [](Ctx &c, uint64_t) { race_iteration(c, main_device()); });
}

TEST(guest_real)
{
	guest_test("guest_real", kt::Mode::Real);
}

TEST(guest_prot32)
{
	guest_test("guest_prot32", kt::Mode::Prot32);
}

TEST(guest_long64)
{
	guest_test("guest_long64", kt::Mode::Long64);
}

TEST(guest_debug)
{
	Quota q;
	q.iterations = 60;
	q.guest_insns = 2000; /* single steps: one KVM_RUN each */
	run_iterations(test_number("guest_debug"), "guest_debug", q, [](Ctx &c, uint64_t) {
		GuestOptions o;
		o.mode = c.rng.pick({kt::Mode::Real, kt::Mode::Prot32, kt::Mode::Long64});
		o.single_step = true;
		o.max_runs = 200;
		guest_iteration(c, main_device(), o);
	});
}

TEST(compare)
{
	compare_test(test_number("compare"));
}

TEST(minimum_counts)
{
	const Options &o = options();
	if (o.seconds || o.single || !o.tests.empty() || o.compare_only)
		SKIP("only a whole run without --seconds has minimum counts");
	const uint64_t io = stats().ioctls.load(), in = stats().guest_insns.load();
	CHECK_MSG(io >= MIN_IOCTLS && in >= MIN_GUEST_INSNS,
		  "the run made %llu ioctls and counted %llu guest instructions; the defaults must "
		  "reach %llu and %llu",
		  (unsigned long long)io, (unsigned long long)in, (unsigned long long)MIN_IOCTLS,
		  (unsigned long long)MIN_GUEST_INSNS);
}

int main(int argc, char **argv)
{
	const Options &o = parse_options(argc, argv);
	init_stats();
	if (o.single && o.tests.empty() && !o.compare_only) {
		fprintf(stderr,
			"fuzz_test: --single needs the test to replay (e.g. guest_long64)\n");
		return 2;
	}
	/* The harness's per-test timeout: each test's share of the budget, and a margin; a
	 * longer one from the runner (DBGKVM_TEST_TIMEOUT, set, maybe empty, by the test
	 * machines: 150 s on the debug kernel) is kept. */
	{
		const char *env = getenv("DBGKVM_TEST_TIMEOUT");
		const double given = env && *env ? atof(env) : 0;
		const unsigned t = o.seconds ? o.seconds + 300 : 600;
		if (given < t)
			setenv("DBGKVM_TEST_TIMEOUT", std::to_string(t).c_str(), 1);
	}
	std::vector<std::string> names = o.tests;
	if (o.compare_only)
		names = {"compare"};
	std::vector<char *> args = {argv[0]};
	for (std::string &n : names)
		args.push_back(n.data());
	printf("# fuzz_test: seed 0x%llx%s (replay the run: fuzz_test --seed 0x%llx%s)\n",
	       (unsigned long long)o.seed,
	       o.seconds ? tap::format(", %u s", o.seconds).c_str() : "",
	       (unsigned long long)o.seed,
	       o.seconds ? tap::format(" --seconds %u", o.seconds).c_str() : "");
	fflush(stdout);
	const uint64_t t0 = now_ns();
	const int rc = tap::run_all(int(args.size()), args.data());
	for (unsigned i = 0; i < sizeof(TESTS) / sizeof(TESTS[0]); i++) {
		const TestProgress &p = stats().tests[i];
		if (p.in_iteration.load())
			printf("# %s ended inside iteration %llu (sub-seed 0x%llx): crash, hang or "
			       "timeout there; replay: %s\n",
			       TESTS[i].name, (unsigned long long)p.iter.load(),
			       (unsigned long long)p.subseed.load(),
			       replay_command(TESTS[i].name, p.iter.load()).c_str());
	}
	printf("%s\n", summary_line(o.seed, (now_ns() - t0) / 1e9).c_str());
	return rc;
}
