/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hangs. Every thread that may block in a KVM ioctl gets a Slot; Busy marks the time
 * it entered the call. A guest may loop forever, so each KVM_RUN is preceded by a
 * one-shot POSIX timer (RunTimer) that sends SIG_KICK to that thread after a few
 * milliseconds: KVM_RUN must then return (EINTR, KVM_EXIT_INTR). The watchdog thread
 * kicks any call busy for more than KICK_AFTER seconds again and again, and declares a
 * hang when one stays busy HANG_AFTER seconds (the fuzzer prints the replay line of the
 * iteration and exits with status 3: the TAP harness reports the test as failed).
 */
#ifndef SELFTESTS_FUZZ_WATCHDOG_H
#define SELFTESTS_FUZZ_WATCHDOG_H

#include <atomic>
#include <cstdint>
#include <sys/types.h>
#include <time.h>

namespace fz
{

int sig_kick(); /* the signal: SIGRTMIN + 3, handler does nothing, no SA_RESTART */
void install_kick_handler();

uint64_t now_ns();

struct Slot {
	std::atomic<uint64_t> since{0}; /* 0: not in a call */
	std::atomic<const char *> what{nullptr};
	std::atomic<pid_t> tid{0};
};

/* Starts the watchdog thread (once per test process) and gives a slot to this thread. */
Slot *watch_this_thread();
void release_slot(Slot *s);

class Busy
{
public:
	Busy(Slot *s, const char *what) : s_(s)
	{
		if (s_) {
			s_->what.store(what, std::memory_order_relaxed);
			s_->since.store(now_ns(), std::memory_order_release);
		}
	}
	~Busy()
	{
		if (s_)
			s_->since.store(0, std::memory_order_release);
	}
	Busy(const Busy &) = delete;
	Busy &operator=(const Busy &) = delete;

private:
	Slot *s_;
};

/* A one-shot timer that sends sig_kick() to the thread that created it. */
class RunTimer
{
public:
	RunTimer();
	~RunTimer();
	RunTimer(const RunTimer &) = delete;
	RunTimer &operator=(const RunTimer &) = delete;
	void arm(uint64_t usec);
	void disarm();

private:
	timer_t t_{};
	bool ok_ = false;
};

/*
 * Text written (async-signal-safely) if the process hangs or crashes: the replay line
 * of the iteration in progress. Set at the start of every iteration.
 */
void set_crash_note(const char *text);
/* SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT print the crash note, then die as they would. */
void install_crash_handlers();

} // namespace fz

#endif
