// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_test: a running vCPU thread moved between CPUs thousands of times. Each move
 * is a vcpu_put on the old CPU and a vcpu_load on the new one (preempt notifiers); VMX
 * must VMCLEAR the VMCS on the old CPU and VMPTRLD it on the new one, SVM must take a
 * fresh ASID and flush, and the debug registers must be reloaded. The guest counts
 * through exits and its own debug register; any lost or corrupted state shows up as a
 * gap in the count or a wrong DR0.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_migrate);

namespace
{

int moves_wanted()
{
	// Bochs runs some 30x slower than QEMU here: fewer moves, still thousands.
	return machine() == "bochs-vmx" ? 1000 : 4000;
}

} // namespace

// Its pace is the guest scheduler's, not dbgkvm's: QEMU runs both guest CPUs on one host
// thread (scripts/vmtest.sh), so each move waits for the other CPU's turn. 4,000 moves
// took 7 to 30 s there on 2026-12-01, beside a Bochs run on a 2-core machine.
TEST_SLOW(vcpu_thread_moved_between_cpus_thousands_of_times, 100)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP("needs two online CPUs");
	Guest g(Mode::Long64, GUEST(guest_migrate));
	kvm_regs r = g.vcpu.regs();
	r.rbx = 0xdb0dead0; // the guest puts this in DR0 and checks it at every step
	g.vcpu.set_regs(r);

	const int want = moves_wanted();
	std::atomic<pid_t> tid{0};
	std::atomic<bool> done{false};
	std::atomic<int> moves{0};
	// The mover flips the vCPU thread's affinity between CPU 0 and CPU 1 while it runs.
	std::thread mover([&] {
		while (!tid.load())
			sched_yield();
		for (int i = 0; !done.load(); i++) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(i & 1, &set);
			if (sched_setaffinity(tid.load(), sizeof(set), &set) == 0)
				moves.fetch_add(1);
			usleep(100);
		}
	});
	tid = (pid_t)syscall(SYS_gettid);
	uint64_t next = 0;
	int cpu_changes = 0, last_cpu = sched_getcpu();
	bool ok = true;
	// The mover must be joined whatever happens: a failed check throws.
	struct Joiner {
		std::atomic<bool> &done;
		std::thread &t;
		~Joiner()
		{
			done = true;
			if (t.joinable())
				t.join();
		}
	} joiner{done, mover};
	while (cpu_changes < want && ok) {
		uint64_t v = g.vcpu.expect_out(PORT_REPORT, 4);
		if (v != (next & 0xffffffff)) {
			ok = false;
			tap::diag("after %d CPU changes: the guest reported %llu, expected %llu "
				  "(0xbad: its DR0 changed)",
				  cpu_changes, (unsigned long long)v, (unsigned long long)next);
		}
		next++;
		int cpu = sched_getcpu();
		if (cpu != last_cpu)
			cpu_changes++;
		last_cpu = cpu;
	}
	done = true;
	mover.join();
	CHECK_MSG(ok, "the guest's count or DR0 went wrong across migrations");
	tap::diag("%d exits, %d CPU changes seen between exits, %d affinity moves", (int)next,
		  cpu_changes, moves.load());
	CHECK_MSG(cpu_changes >= want, "only %d CPU changes", cpu_changes);
}
