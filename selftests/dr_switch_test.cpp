// SPDX-License-Identifier: GPL-2.0
/*
 * dr_switch_test: reproducers of seeds 000/003 (2016, "KVM: x86: fix missed
 * hardware breakpoints"): the hardware DR0-3 belong to whoever ran last on
 * the CPU, so a vCPU must reload its effective DR0-3 after it is scheduled
 * back in (KVM sets KVM_DEBUGREG_RELOAD in kvm_arch_vcpu_load), and the host's
 * own breakpoints (ptrace, perf) must be restored after each guest run.
 *
 *  a) several vCPUs (one per VM), each guest with its own execute breakpoints,
 *     all pinned to one host CPU, yielding to each other at every guest OUT.
 *  b) the same guests next to a host process stopped by a ptrace hardware
 *     breakpoint (PTRACE_POKEUSER u_debugreg, as CRIU does, seed 003), also on
 *     that CPU: no stop may be missed, none may be wrong, and the guests must
 *     see exactly their own breakpoints.
 *
 * Iteration counts are sized for QEMU TCG (about 100x slower than a real
 * CPU): a few seconds each. They are printed with the time taken.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <sched.h>
#include <signal.h>
#include <string>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_dr_switch);
GUEST_LABEL_DECLARE(sw_sled);

static constexpr int MAX_GUESTS = 4;

static double now()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Everything on CPU 0 (the threads and the forked tracee inherit it). */
static void pin_to_cpu0()
{
	if (!pin_to_cpu(0))
		FAIL("sched_setaffinity(CPU 0): %s", strerror(errno));
}

struct SwitchGuest {
	std::unique_ptr<DebugGuest> g;
	std::string error;
	uint64_t exits = 0;
};

/*
 * One vCPU thread: run; at each PORT_REPORT yield the CPU; stop the guest
 * (DBG_PARAM[1]) after `passes` passes or when `stop` is set.
 */
static void vcpu_thread(SwitchGuest *s, uint64_t passes, std::atomic<bool> *stop)
{
	try {
		DebugGuest &g = *s->g;
		for (;;) {
			g.vcpu.enter();
			const kvm_run *r = g.vcpu.run();
			if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_REPORT) {
				s->exits++;
				if (s->exits >= passes || (stop && stop->load()))
					g.set_param(1, 1);
				sched_yield();
				continue;
			}
			if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_DONE)
				return;
			s->error =
			    "unexpected exit " + g.vcpu.describe_exit() + "; " + g.describe_log();
			return;
		}
	} catch (const tap::Failure &f) {
		s->error = f.msg;
	}
}

static void make_guests(std::vector<SwitchGuest> &gs, int n)
{
	gs.resize(n);
	for (int k = 0; k < n; k++) {
		gs[k].g = std::make_unique<DebugGuest>(GUEST(guest_dr_switch));
		gs[k].g->set_param(0, k);
	}
}

/* Each guest: every pass hit each of its 4 breakpoints once, and nothing else. */
static void check_guests(std::vector<SwitchGuest> &gs)
{
	const uint64_t sled = GUEST_GPA(guest_dr_switch, sw_sled);
	for (size_t k = 0; k < gs.size(); k++) {
		SwitchGuest &s = gs[k];
		if (!s.error.empty())
			FAIL("guest %zu: %s", k, s.error.c_str());
		DebugGuest &g = *s.g;
		const uint64_t passes = g.out(0);
		for (int n = 0; n < 4; n++) {
			uint64_t hits = g.u64(DBG_BHITS + 8 * n);
			CHECK_MSG(hits == passes,
				  "guest %zu: DR%d (slot %s) hit %llu times in %llu passes: %s", k,
				  n, hex(sled + 16 * (4 * k + n)).c_str(), (unsigned long long)hits,
				  (unsigned long long)passes,
				  hits < passes ? "missed breakpoints (stale DR0-3 loaded?)"
						: "extra hits");
		}
		CHECK_MSG(g.u64(DBG_WRONG) == 0,
			  "guest %zu: %llu #DBs at a RIP that is not its own breakpoint (another "
			  "vCPU's or the host's DR0-3 were live in the guest); %s",
			  k, (unsigned long long)g.u64(DBG_WRONG), g.describe_log().c_str());
		CHECK_MSG(g.count() == 4 * passes, "guest %zu: %llu exceptions for %llu passes", k,
			  (unsigned long long)g.count(), (unsigned long long)passes);
	}
}

TEST(seed000_vcpus_sharing_one_cpu_keep_their_breakpoints)
{
	pin_to_cpu0();
	const int nguests = MAX_GUESTS;
	const uint64_t passes = 600;
	std::vector<SwitchGuest> gs;
	make_guests(gs, nguests);
	const double t0 = now();
	std::vector<std::thread> th;
	for (auto &s : gs)
		th.emplace_back(vcpu_thread, &s, passes, nullptr);
	for (auto &t : th)
		t.join();
	uint64_t total = 0;
	for (auto &s : gs)
		total += s.exits;
	tap::diag("%d vCPU threads on CPU 0, %llu passes each (4 guest breakpoints per pass), "
		  "%llu yields, %.1f s",
		  nguests, (unsigned long long)passes, (unsigned long long)total, now() - t0);
	check_guests(gs);
}

/* ---- b) a ptrace hardware breakpoint on the same CPU ---- */

struct TraceeShared {
	volatile uint64_t calls;
	volatile uint64_t armed; /* set by the tracer at each stop, cleared by the tracee */
	volatile uint64_t missed;
};

static TraceeShared *shared;

/* The tracee's breakpoint: the tracer must stop it here on every call. */
__attribute__((noinline)) static void bp_target()
{
	shared->calls = shared->calls + 1;
	if (!shared->armed)
		shared->missed = shared->missed + 1;
	shared->armed = 0;
	asm volatile("" ::: "memory");
}

static void (*volatile bp_target_ptr)() = bp_target;

static long poke_debugreg(pid_t pid, int n, unsigned long v)
{
	return ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg) + n * sizeof(long),
		      v);
}

static unsigned long peek_user(pid_t pid, size_t off)
{
	errno = 0;
	return ptrace(PTRACE_PEEKUSER, pid, off, 0);
}

TEST(seed003_ptrace_breakpoint_next_to_vcpus_on_one_cpu)
{
	pin_to_cpu0();
	const uint64_t stops_wanted = 3000;
	void *m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	shared = static_cast<TraceeShared *>(m);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The tracee: stop for the tracer, then call bp_target() stops_wanted times. */
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(10);
		raise(SIGSTOP);
		for (uint64_t i = 0; i < stops_wanted; i++)
			bp_target_ptr();
		_exit(0);
	}
	int st;
	CHECK_EQ(pid, waitpid(pid, &st, 0));
	CHECK_MSG(WIFSTOPPED(st), "tracee status 0x%x", st);
	const unsigned long addr = reinterpret_cast<unsigned long>(bp_target);
	/* DR0 = bp_target, DR7 = L0 (execute, 1 byte), like the CRIU reproducer. */
	if (poke_debugreg(pid, 0, addr) || poke_debugreg(pid, 7, 1)) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		FAIL("PTRACE_POKEUSER u_debugreg: %s", strerror(e));
	}

	std::vector<SwitchGuest> gs;
	make_guests(gs, 2);
	std::atomic<bool> stop{false};
	const double t0 = now();
	std::vector<std::thread> th;
	for (auto &s : gs)
		th.emplace_back(vcpu_thread, &s, ~0ull, &stop);

	uint64_t stops = 0, wrong = 0;
	std::string first_wrong;
	std::string err;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, 0)) {
			err = tap::format("PTRACE_CONT: %s", strerror(errno));
			break;
		}
		if (waitpid(pid, &st, 0) != pid) {
			err = tap::format("waitpid: %s", strerror(errno));
			break;
		}
		if (WIFEXITED(st)) {
			if (WEXITSTATUS(st))
				err = tap::format("tracee exited with %d", WEXITSTATUS(st));
			break;
		}
		if (!WIFSTOPPED(st)) {
			err = tap::format("tracee status 0x%x", st);
			break;
		}
		stops++;
		unsigned long rip = peek_user(pid, offsetof(struct user, regs.rip));
		unsigned long dr6 =
		    peek_user(pid, offsetof(struct user, u_debugreg) + 6 * sizeof(long));
		if (WSTOPSIG(st) != SIGTRAP || rip != addr || (dr6 & 0xf) != 1) {
			if (!wrong++)
				first_wrong =
				    tap::format("signal %d rip %s dr6 %s (want SIGTRAP at %s, "
						"DR6.B0)",
						WSTOPSIG(st), hex(rip).c_str(), hex(dr6).c_str(),
						hex(addr).c_str());
		}
		shared->armed = 1;
	}
	stop = true;
	for (auto &t : th)
		t.join();
	if (!err.empty()) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		FAIL("%s", err.c_str());
	}
	uint64_t guest_exits = 0;
	for (auto &s : gs)
		guest_exits += s.exits;
	tap::diag("ptrace: %llu calls, %llu stops; 2 vCPU threads: %llu passes (yields); all on "
		  "CPU 0; %.1f s",
		  (unsigned long long)shared->calls, (unsigned long long)stops,
		  (unsigned long long)guest_exits, now() - t0);
	CHECK_MSG(shared->missed == 0,
		  "the tracee ran bp_target() %llu times without stopping: the host's DR0/DR7 "
		  "were not restored after a guest ran",
		  (unsigned long long)shared->missed);
	CHECK_MSG(wrong == 0, "%llu wrong stops; first: %s", (unsigned long long)wrong,
		  first_wrong.c_str());
	CHECK_EQ(stops_wanted, stops);
	CHECK_EQ(stops_wanted, (uint64_t)shared->calls);
	check_guests(gs);
}
