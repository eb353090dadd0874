/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One thread's fuzzing context: its random stream, the log of its recent operations
 * (printed when the iteration fails), its watchdog slot, and the ioctl wrapper that
 * counts and logs every call. run_iterations() drives a test: it derives each
 * iteration's sub-seed from the run seed, decides when to stop (time budget or the
 * test's quota), and turns a failure into a report with the seed, the sub-seed, the
 * replay command line and the operations that led to it.
 */
#ifndef SELFTESTS_FUZZ_CTX_H
#define SELFTESTS_FUZZ_CTX_H

#include "rng.h"
#include "watchdog.h"

#include <cstdint>
#include <functional>
#include <string>

namespace fz
{

struct OpRec {
	const char *what;
	uint64_t a, b; /* what the op needs to be understood: a number, an argument */
	long ret;
	int err;
};

class Ctx
{
public:
	explicit Ctx(uint64_t seed, bool watched = true);
	~Ctx();
	Ctx(const Ctx &) = delete;
	Ctx &operator=(const Ctx &) = delete;

	Rng rng;
	Slot *slot() { return slot_; }

	/* ioctl(): counted, logged, watched; returns its result with errno as it left it. */
	long io(int fd, unsigned long req, unsigned long arg, const char *what, uint64_t b = 0);
	long io(int fd, unsigned long req, const void *arg, const char *what, uint64_t b = 0)
	{
		return io(fd, req, reinterpret_cast<unsigned long>(arg), what, b);
	}
	/* A log entry for something that is not an ioctl. */
	void note(const char *what, uint64_t a = 0, uint64_t b = 0);
	void clear_log() { n_ = 0; }
	std::string log(unsigned last = 48) const;

private:
	static constexpr unsigned LOG = 128;
	OpRec ops_[LOG];
	uint64_t n_ = 0;
	Slot *slot_ = nullptr;
};

/* The name of an ioctl request (KVM_RUN, ...) or its number. */
std::string ioctl_name(unsigned long req);

/* When a test stops: a share of the time budget, or its own minimum amounts. */
struct Quota {
	uint64_t ioctls = 0;	  /* this test's ioctls (delta of the shared counter) */
	uint64_t guest_insns = 0; /* this test's counted instructions */
	uint64_t iterations = 1;
	double weight = 1; /* its share of a --seconds budget */
};

/*
 * Runs `body(ctx, iter)` for iterations 0, 1, ... of test number `test` until the quota
 * or the time share is used up (with --single: only --iter). A tap::Failure from the
 * body is rethrown with the seed, the sub-seed, the replay line and the op log.
 */
void run_iterations(unsigned test, const char *name, const Quota &q,
		    const std::function<void(Ctx &, uint64_t)> &body);

/* Registered by main(): the test numbers (sub-seeds depend on them) and time shares. */
unsigned test_number(const char *name);
double time_share(const char *name);

} // namespace fz

#endif
