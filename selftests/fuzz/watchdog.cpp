// SPDX-License-Identifier: GPL-2.0
#include "watchdog.h"

#include "tap.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fz
{

/* Seconds: QEMU TCG with nested SVM is slow, a debug kernel 3-5 times slower again. */
constexpr uint64_t KICK_AFTER = 2;
constexpr uint64_t HANG_AFTER = 60;
constexpr unsigned NSLOTS = 64;

static Slot slots[NSLOTS];
static std::atomic<bool> slot_used[NSLOTS];
static std::once_flag started;
static char crash_note[1024];

int sig_kick()
{
	return SIGRTMIN + 3;
}

static void on_kick(int) {}

void install_kick_handler()
{
	struct sigaction sa = {};
	sa.sa_handler = on_kick; /* no SA_RESTART: a blocked ioctl returns EINTR */
	sigaction(sig_kick(), &sa, nullptr);
}

uint64_t now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

static void write_all(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(2, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= size_t(w);
	}
}

static void *watchdog_main(void *)
{
	for (;;) {
		sleep(1);
		const uint64_t now = now_ns();
		for (unsigned i = 0; i < NSLOTS; i++) {
			uint64_t since = slots[i].since.load(std::memory_order_acquire);
			if (!since || now < since)
				continue;
			uint64_t secs = (now - since) / 1000000000ull;
			if (secs >= HANG_AFTER) {
				const char *what = slots[i].what.load();
				tap::diag("hang: thread %d stayed %llu s in %s, kicked with signal "
					  "%d every second since %llu s",
					  int(slots[i].tid.load()), (unsigned long long)secs,
					  what ? what : "?", sig_kick(),
					  (unsigned long long)KICK_AFTER);
				tap::diag("%s", crash_note);
				write_all("fuzz_test: hang: ");
				write_all(crash_note);
				write_all("\n");
				_exit(3);
			}
			if (secs >= KICK_AFTER)
				syscall(SYS_tgkill, getpid(), slots[i].tid.load(), sig_kick());
		}
	}
	return nullptr;
}

Slot *watch_this_thread()
{
	std::call_once(started, [] {
		pthread_t t;
		if (pthread_create(&t, nullptr, watchdog_main, nullptr))
			FAIL("pthread_create (watchdog): %s", strerror(errno));
		pthread_detach(t);
	});
	for (unsigned i = 0; i < NSLOTS; i++) {
		bool f = false;
		if (slot_used[i].compare_exchange_strong(f, true)) {
			slots[i].since = 0;
			slots[i].tid = pid_t(syscall(SYS_gettid));
			return &slots[i];
		}
	}
	FAIL("more than %u watched threads", NSLOTS);
}

void release_slot(Slot *s)
{
	if (!s)
		return;
	s->since = 0;
	slot_used[s - slots] = false;
}

RunTimer::RunTimer()
{
	struct sigevent ev = {};
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = sig_kick();
	ev._sigev_un._tid = pid_t(syscall(SYS_gettid));
	ok_ = timer_create(CLOCK_MONOTONIC, &ev, &t_) == 0;
	if (!ok_)
		FAIL("timer_create: %s", strerror(errno));
}

RunTimer::~RunTimer()
{
	if (ok_)
		timer_delete(t_);
}

void RunTimer::arm(uint64_t usec)
{
	struct itimerspec its = {};
	its.it_value.tv_sec = time_t(usec / 1000000);
	its.it_value.tv_nsec = long(usec % 1000000) * 1000;
	timer_settime(t_, 0, &its, nullptr);
}

void RunTimer::disarm()
{
	struct itimerspec its = {};
	timer_settime(t_, 0, &its, nullptr);
}

void set_crash_note(const char *text)
{
	strncpy(crash_note, text, sizeof(crash_note) - 1);
}

static void on_crash(int sig)
{
	write_all("fuzz_test: fatal signal in ");
	write_all(crash_note);
	write_all("\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

void install_crash_handlers()
{
	for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
		signal(s, on_crash);
}

} // namespace fz
