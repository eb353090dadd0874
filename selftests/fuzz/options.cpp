// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include "tap.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <time.h>
#include <unistd.h>

namespace fz
{

static Options opts;

const Options &options()
{
	return opts;
}

[[noreturn]] static void usage(const char *why)
{
	fprintf(stderr,
		"fuzz_test: %s\nusage: fuzz_test [--seed S] [--seconds N] [--iter N --single] "
		"[--compare] [--verbose] [--truncate N] [--code HEX] [TEST...]\n",
		why);
	exit(2);
}

static uint64_t number(const char *what, const std::string &s)
{
	char *end = nullptr;
	errno = 0;
	unsigned long long v = strtoull(s.c_str(), &end, 0);
	if (s.empty() || errno || *end)
		usage(tap::format("%s: not a number: '%s'", what, s.c_str()).c_str());
	return v;
}

static std::vector<uint8_t> hex_bytes(const std::string &s)
{
	std::vector<uint8_t> v;
	if (s.size() % 2)
		usage("--code: an even number of hex digits");
	for (size_t i = 0; i < s.size(); i += 2)
		v.push_back(uint8_t(number("--code", "0x" + s.substr(i, 2))));
	return v;
}

static void split_tests(const std::string &list)
{
	std::stringstream ss(list);
	for (std::string t; std::getline(ss, t, ',');)
		if (!t.empty())
			opts.tests.push_back(t);
}

/* fuzz.KEY=VALUE words of the kernel command line (the test machines' way to pass them). */
static void from_cmdline()
{
	std::ifstream f("/proc/cmdline");
	for (std::string w; f >> w;) {
		if (w.rfind("fuzz.", 0) != 0 || w.find('=') == std::string::npos)
			continue;
		std::string key = w.substr(5, w.find('=') - 5), val = w.substr(w.find('=') + 1);
		if (key == "seed") {
			opts.seed = number("fuzz.seed", val);
			opts.seed_given = true;
		} else if (key == "seconds") {
			opts.seconds = unsigned(number("fuzz.seconds", val));
		} else if (key == "iter") {
			opts.iter = number("fuzz.iter", val);
		} else if (key == "single") {
			opts.single = number("fuzz.single", val) != 0;
		} else if (key == "compare") {
			opts.compare_only = number("fuzz.compare", val) != 0;
		} else if (key == "code") {
			opts.code = hex_bytes(val);
		} else if (key == "truncate") {
			opts.truncate = unsigned(number("fuzz.truncate", val));
		} else if (key == "verbose") {
			opts.verbose = number("fuzz.verbose", val) != 0;
		} else if (key == "tests") {
			split_tests(val);
		} else {
			usage(("unknown kernel command line option " + w).c_str());
		}
	}
}

Options parse_options(int argc, char **argv)
{
	from_cmdline();
	std::vector<std::string> names;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> std::string {
			if (i + 1 >= argc)
				usage((a + " needs a value").c_str());
			return argv[++i];
		};
		if (a == "--seed") {
			opts.seed = number("--seed", value());
			opts.seed_given = true;
		} else if (a == "--seconds") {
			opts.seconds = unsigned(number("--seconds", value()));
		} else if (a == "--iter") {
			opts.iter = number("--iter", value());
		} else if (a == "--single") {
			opts.single = true;
		} else if (a == "--compare") {
			opts.compare_only = true;
		} else if (a == "--code") {
			opts.code = hex_bytes(value());
		} else if (a == "--truncate") {
			opts.truncate = unsigned(number("--truncate", value()));
		} else if (a == "--verbose") {
			opts.verbose = true;
		} else if (a.rfind("--", 0) == 0) {
			usage(("unknown option " + a).c_str());
		} else {
			names.push_back(a);
		}
	}
	if (!names.empty())
		opts.tests = names;
	if (!opts.seed_given) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = uint64_t(ts.tv_sec) * 1000000007ull ^ uint64_t(ts.tv_nsec) ^
			     (uint64_t(getpid()) << 40);
		opts.seed = x;
	}
	return opts;
}

std::string replay_command(const char *test, uint64_t iter)
{
	return tap::format("fuzz_test --seed 0x%llx --iter %llu --single %s"
			   "  (test machine: --append \"fuzz.seed=0x%llx fuzz.iter=%llu "
			   "fuzz.single=1 fuzz.tests=%s\")",
			   (unsigned long long)opts.seed, (unsigned long long)iter, test,
			   (unsigned long long)opts.seed, (unsigned long long)iter, test);
}

} // namespace fz
