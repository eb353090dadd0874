// SPDX-License-Identifier: GPL-2.0
#include "race.h"

#include "codegen.h"
#include "guest_run.h"
#include "ioctl_gen.h"
#include "options.h"
#include "stats.h"
#include "tap.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fz
{

namespace
{

constexpr int NVCPU = 2;

/* SIGUSR1's handler sets immediate_exit through the receiving runner's own mapping. */
thread_local kvm_run *tl_run;

void on_usr1(int)
{
	if (tl_run)
		tl_run->immediate_exit = 1;
}

struct Shared {
	Device &d;
	uint64_t code_len = 0;
	bool real_mode = false;
	std::atomic<int> dev{-1}, vm{-1};
	std::atomic<int> vcpu[NVCPU];
	std::atomic<pid_t> tid[NVCPU];
	pthread_t pt[NVCPU];
	std::atomic<bool> stop{false};
	std::mutex mu;
	std::string failure;
	/* a runner saw KVM_EXIT_FAIL_ENTRY on this vCPU (see the sregs check in racer()) */
	std::atomic<bool> failed_entry[NVCPU];
	std::vector<int> cpus;

	explicit Shared(Device &dev_) : d(dev_)
	{
		for (int i = 0; i < NVCPU; i++) {
			vcpu[i] = -1;
			tid[i] = 0;
			failed_entry[i] = false;
		}
	}
	void fail(Ctx &c, const std::string &msg)
	{
		std::lock_guard<std::mutex> g(mu);
		if (failure.empty())
			failure = msg + "\noperations of the failing thread:\n" + c.log(32);
		stop = true;
	}
};

bool one_of(int err, std::initializer_list<int> l)
{
	for (int e : l)
		if (e == err)
			return true;
	return false;
}

/* The call's answer must be success or one of `errs`; otherwise the iteration fails. */
#define RACE_CHECK(s, c, ret, err, what, ...)                                                      \
	do {                                                                                       \
		if ((ret) < 0 && !one_of((err), {__VA_ARGS__}))                                    \
			(s).fail((c), tap::format("%s: -1/%s, not an answer KVM's ABI allows "     \
						  "here",                                          \
						  (what), err_name(err).c_str()));                 \
	} while (0)

void runner(Shared &s, int i, uint64_t seed)
{
	Ctx c(seed);
	s.tid[i] = pid_t(syscall(SYS_gettid));
	const int fd = s.vcpu[i].load();
	if (fd < 0)
		return;
	void *p = mmap(nullptr, size_t(s.d.run_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		if (errno != EBADF)
			s.fail(c, "mmap of the vCPU fd: " + err_name(errno));
		return;
	}
	auto *run = static_cast<kvm_run *>(p);
	tl_run = run;
	RunTimer timer;
	while (!s.stop) {
		const int f = s.vcpu[i].load();
		if (f < 0)
			break;
		timer.arm(c.rng.range(500, 8000));
		const long ret = c.io(f, KVM_RUN, 0ul, "KVM_RUN");
		const int err = errno;
		timer.disarm();
		run->immediate_exit = 0;
		if (ret < 0) {
			/* EFAULT: a slot's memory is gone (slot churn); EBADF: fd closed */
			RACE_CHECK(s, c, ret, err, "KVM_RUN", EINTR, EBADF, EFAULT);
			if (err == EBADF)
				break;
			if (err == EINTR && run->exit_reason == KVM_EXIT_INTR)
				note_exit(KVM_EXIT_INTR);
			continue;
		}
		const uint32_t why = run->exit_reason;
		note_exit(why);
		if (why == KVM_EXIT_FAIL_ENTRY)
			s.failed_entry[i] = true;
		if (why == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN &&
		    run->io.data_offset + uint64_t(run->io.size) * run->io.count <=
			uint64_t(s.d.run_size))
			c.rng.fill(reinterpret_cast<uint8_t *>(run) + run->io.data_offset,
				   size_t(run->io.size) * run->io.count);
		else if (why == KVM_EXIT_MMIO && !run->mmio.is_write)
			c.rng.fill(run->mmio.data, 8);
		else if (why == KVM_EXIT_SHUTDOWN || why == KVM_EXIT_INTERNAL_ERROR ||
			 why == KVM_EXIT_FAIL_ENTRY) {
			/* start the program again */
			kvm_regs r;
			if (c.io(f, KVM_GET_REGS, &r, "KVM_GET_REGS") == 0) {
				r.rip = CODE_GPA;
				r.rflags = 2;
				c.io(f, KVM_SET_REGS, &r, "KVM_SET_REGS");
			}
		}
	}
	tl_run = nullptr;
	munmap(run, size_t(s.d.run_size));
}

/* vCPU ioctls on the runners' vCPUs, and a second KVM_RUN on the same vCPU. */
void racer(Shared &s, uint64_t seed)
{
	Ctx c(seed);
	Rng &r = c.rng;
	RunTimer timer;
	kvm_run *extra = nullptr;
	int extra_fd = -1;
	while (!s.stop) {
		const int which = int(r.below(NVCPU));
		const int fd = s.vcpu[which].load();
		switch (r.below(9)) {
		case 0: {
			kvm_regs x;
			const long ret = c.io(fd, KVM_GET_REGS, &x, "KVM_GET_REGS");
			RACE_CHECK(s, c, ret, errno, "KVM_GET_REGS", EBADF);
			break;
		}
		case 1: {
			kvm_regs x;
			if (c.io(fd, KVM_GET_REGS, &x, "KVM_GET_REGS") == 0) {
				const long ret = c.io(fd, KVM_SET_REGS, &x, "KVM_SET_REGS");
				RACE_CHECK(s, c, ret, errno, "KVM_SET_REGS", EBADF);
			}
			break;
		}
		case 2: {
			kvm_sregs x;
			if (c.io(fd, KVM_GET_SREGS, &x, "KVM_GET_SREGS") == 0) {
				const long ret = c.io(fd, KVM_SET_SREGS, &x, "KVM_SET_SREGS");
				const std::string what = tap::format(
				    "KVM_SET_SREGS of KVM_GET_SREGS (cr0 0x%llx cr3 0x%llx cr4 "
				    "0x%llx "
				    "efer 0x%llx cs.l %u apic_base 0x%llx)",
				    (unsigned long long)x.cr0, (unsigned long long)x.cr3,
				    (unsigned long long)x.cr4, (unsigned long long)x.efer, x.cs.l,
				    (unsigned long long)x.apic_base);
				/*
				 * QEMU's VMRUN writes its own (L1) state into the VMCB save area
				 * when a consistency check fails: after a KVM_EXIT_FAIL_ENTRY,
				 * dbgkvm's GET_SREGS shows the host's CR0/CR3/CR4/EFER there
				 * (fuzz/README.md, open findings). Reported, not failed, there.
				 */
				const int err = errno;
				if (ret < 0 && err == EINVAL && qemu_left_long_mode(x))
					c.note("QEMU: CS.L without EFER.LMA (the guest cleared "
					       "CR0.PG)",
					       x.cr0, x.efer);
				else if (ret < 0 && err == EINVAL && qemu_tcg_bug() &&
					 s.failed_entry[which].load())
					c.note("QEMU: sregs after KVM_EXIT_FAIL_ENTRY refused "
					       "(cr3, cr4)",
					       x.cr3, x.cr4);
				else
					RACE_CHECK(s, c, ret, err, what.c_str(), EBADF);
			}
			break;
		}
		case 3: {
			kvm_guest_debug g = {};
			g.control =
			    r.chance(1, 3) ? 0 : (r.u32() & s.d.dbg_mask) | KVM_GUESTDBG_ENABLE;
			for (int k = 0; k < 4; k++)
				g.arch.debugreg[k] = CODE_GPA + r.below(s.code_len + 16);
			g.arch.debugreg[7] = qemu_safe_dr7((r.next() & 0xffff00ffull) | 0x400,
							   g.arch.debugreg, s.real_mode);
			const long ret =
			    c.io(fd, KVM_SET_GUEST_DEBUG, &g, "KVM_SET_GUEST_DEBUG", g.control);
			RACE_CHECK(s, c, ret, errno, "KVM_SET_GUEST_DEBUG", EBADF, EBUSY);
			break;
		}
		case 4: {
			kvm_debugregs x = {};
			for (int k = 0; k < 4; k++)
				x.db[k] = CODE_GPA + r.below(s.code_len + 16);
			x.dr6 = 0xffff0ff0;
			x.dr7 =
			    qemu_safe_dr7((r.next() & 0xffff00ffull) | 0x400, x.db, s.real_mode);
			const long ret = c.io(fd, KVM_SET_DEBUGREGS, &x, "KVM_SET_DEBUGREGS");
			RACE_CHECK(s, c, ret, errno, "KVM_SET_DEBUGREGS", EBADF);
			const long ret2 = c.io(fd, KVM_GET_DEBUGREGS, &x, "KVM_GET_DEBUGREGS");
			RACE_CHECK(s, c, ret2, errno, "KVM_GET_DEBUGREGS", EBADF);
			break;
		}
		case 5: { /* immediate_exit through a mapping of our own */
			if (!extra && fd >= 0) {
				void *p = mmap(nullptr, size_t(s.d.run_size),
					       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
				if (p != MAP_FAILED) {
					extra = static_cast<kvm_run *>(p);
					extra_fd = fd;
				}
			}
			if (extra)
				extra->immediate_exit = r.coin();
			break;
		}
		case 6: { /* KVM_RUN on a vCPU another thread is running */
			timer.arm(r.range(500, 5000));
			const long ret = c.io(fd, KVM_RUN, 0ul, "KVM_RUN (second thread)");
			const int err = errno;
			timer.disarm();
			RACE_CHECK(s, c, ret, err, "KVM_RUN from a second thread", EINTR, EBADF,
				   EFAULT);
			/* its exit, through a mapping of our own (the FAIL_ENTRY flag) */
			if (ret == 0 && fd >= 0) {
				void *p = mmap(nullptr, size_t(s.d.run_size), PROT_READ, MAP_SHARED,
					       fd, 0);
				if (p != MAP_FAILED) {
					if (static_cast<kvm_run *>(p)->exit_reason ==
					    KVM_EXIT_FAIL_ENTRY)
						s.failed_entry[which] = true;
					munmap(p, size_t(s.d.run_size));
				}
			}
			break;
		}
		case 7: {
			const long ret = c.io(fd, unknown_ioctl(r), r.next(), "unknown ioctl");
			RACE_CHECK(s, c, ret, errno, "unknown ioctl", EBADF, ENOTTY, EINVAL);
			break;
		}
		default: /* unmap our mapping while the runners may be inside KVM_RUN */
			if (extra) {
				munmap(extra, size_t(s.d.run_size));
				extra = nullptr;
				c.note("munmap of a second kvm_run mapping", uint64_t(extra_fd));
			}
			break;
		}
	}
	if (extra)
		munmap(extra, size_t(s.d.run_size));
}

/* Memory slots added, moved and deleted under the running vCPUs, slot 0 included. */
void churner(Shared &s, uint64_t seed, uint8_t *mem)
{
	Ctx c(seed);
	Rng &r = c.rng;
	HostPool &pool = HostPool::get();
	while (!s.stop) {
		const int vm = s.vm.load();
		kvm_userspace_memory_region m = {};
		if (r.chance(1, 6)) {
			/* slot 0, where the guest's code lives: delete, move, or put back */
			m.slot = 0;
			m.userspace_addr = reinterpret_cast<uint64_t>(mem);
			switch (r.below(3)) {
			case 0:
				m.memory_size = 0;
				break;
			case 1:
				m.memory_size = GUEST_MEM_SIZE;
				m.guest_phys_addr = GUEST_MEM_SIZE * r.range(1, 4);
				break;
			default:
				m.memory_size = GUEST_MEM_SIZE;
				break;
			}
		} else {
			m.slot = uint32_t(r.range(1, 6));
			const uint64_t pages = r.range(1, 8);
			m.memory_size = r.chance(1, 4) ? 0 : pages * 4096;
			m.guest_phys_addr =
			    r.pick({uint64_t(MMIO_GPA), uint64_t(HIGH_GPA), uint64_t(0xfee00000),
				    uint64_t(GUEST_MEM_SIZE)}) +
			    r.below(16) * 4096;
			/* RW pool pages, or PROT_NONE ones (KVM_RUN: EFAULT when touched) */
			m.userspace_addr =
			    reinterpret_cast<uint64_t>(pool.base) +
			    (r.chance(1, 4) ? pool.pages : r.below(pool.pages - 8)) * 4096;
		}
		const long ret =
		    c.io(vm, KVM_SET_USER_MEMORY_REGION, &m, "KVM_SET_USER_MEMORY_REGION", m.slot);
		RACE_CHECK(s, c, ret, errno, "KVM_SET_USER_MEMORY_REGION", EBADF, EINVAL, EEXIST);
		if (r.chance(1, 4))
			usleep(unsigned(r.below(500)));
	}
}

/* Signals to the runners, and moves between CPUs. */
void signaller(Shared &s, uint64_t seed)
{
	Ctx c(seed, false);
	Rng &r = c.rng;
	while (!s.stop) {
		const int i = int(r.below(NVCPU));
		const pid_t t = s.tid[i].load();
		if (!t) {
			sched_yield();
			continue;
		}
		if (r.coin()) {
			pthread_kill(s.pt[i], SIGUSR1);
		} else if (!s.cpus.empty()) {
			cpu_set_t set;
			CPU_ZERO(&set);
			for (int cpu : s.cpus)
				if (r.coin())
					CPU_SET(cpu, &set);
			if (!CPU_COUNT(&set))
				CPU_SET(s.cpus[r.below(s.cpus.size())], &set);
			/* ESRCH once the runner has ended */
			if (sched_setaffinity(t, sizeof(set), &set) && errno != ESRCH)
				s.fail(c, "sched_setaffinity: " + err_name(errno));
		}
		usleep(unsigned(r.range(50, 3000)));
	}
}

} // namespace

void race_iteration(Ctx &c, Device &d)
{
	Rng &r = c.rng;
	struct sigaction sa = {};
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, nullptr);

	Shared s(d);
	cpu_set_t all;
	if (sched_getaffinity(0, sizeof(all), &all) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &all))
				s.cpus.push_back(i);

	uint8_t *mem = guest_memory();
	madvise(mem, GUEST_MEM_SIZE, MADV_DONTNEED);
	kt::Mode mode =
	    r.pick({kt::Mode::Long64, kt::Mode::Long64, kt::Mode::Prot32, kt::Mode::Real});
	/* Under QEMU no real-mode racers: with CS.base != 0 any instruction breakpoint that a
	 * program's bytes arm (a jump into an immediate) takes QEMU's TCG down (qemu_tcg_bug(),
	 * gdb_set_stop_cpu); guest_real covers real mode without racers. */
	if (qemu_tcg_bug() && mode == kt::Mode::Real)
		mode = kt::Mode::Prot32;
	GenOptions g;
	g.max_loop = 2000;
	g.safe_breakpoints = qemu_tcg_bug();
	g.no_insn_breakpoints = qemu_tcg_bug();
	/* Random bytes may arm instruction breakpoints of their own (qemu_tcg_bug()): not under
	 * QEMU, where racing real-mode guests took the emulator down that way. */
	g.mixed = r.chance(1, 4) && !qemu_tcg_bug();
	Program p = generate(r, mode, g);
	s.code_len = p.code.size();
	/* Racing guests change mode under the racers' breakpoints (CR0 writes, SET_SREGS of
	 * stale state): under QEMU no instruction breakpoint from the host side at all. */
	s.real_mode = mode == kt::Mode::Real || qemu_tcg_bug();
	c.note("race: mode, program length", uint64_t(mode), p.code.size());
	if (!options().code.empty())
		p.code = options().code;
	if (options().verbose) {
		std::string hex;
		for (uint8_t byte : p.code)
			hex += tap::format("%02x", byte);
		fprintf(stderr, "fuzz: race program: %s\n", hex.c_str());
	}

	int dev = open(d.path.c_str(), O_RDWR | O_CLOEXEC);
	CHECK_MSG(dev >= 0, "open %s: %s", d.path.c_str(), err_name(errno).c_str());
	{
		Box b(d, mem);
		b.create(c);
		b.setup_mode(c, mode, p.code.data(), p.code.size());
		if (r.chance(1, 2)) {
			uint64_t base;
			uint16_t limit;
			kvm_sregs sr;
			write_idt(r, mode, IdtKind::Stubs, mem, &base, &limit);
			CHECK(c.io(b.vcpu, KVM_GET_SREGS, &sr, "KVM_GET_SREGS") == 0);
			sr.idt.base = base;
			sr.idt.limit = limit;
			CHECK(c.io(b.vcpu, KVM_SET_SREGS, &sr, "KVM_SET_SREGS") == 0);
		}
		const int v1 = int(c.io(b.vm, KVM_CREATE_VCPU, 1ul, "KVM_CREATE_VCPU"));
		CHECK_MSG(v1 >= 0, "KVM_CREATE_VCPU 1: %s", err_name(errno).c_str());
		CHECK(set_cpuid(c, d, v1) == 0);
		kvm_sregs sr;
		kvm_regs rr;
		CHECK(c.io(b.vcpu, KVM_GET_SREGS, &sr, "KVM_GET_SREGS") == 0);
		CHECK(c.io(b.vcpu, KVM_GET_REGS, &rr, "KVM_GET_REGS") == 0);
		CHECK(c.io(v1, KVM_SET_SREGS, &sr, "KVM_SET_SREGS") == 0);
		CHECK(c.io(v1, KVM_SET_REGS, &rr, "KVM_SET_REGS") == 0);
		safe_initial_debugregs(c, b.vcpu);
		safe_initial_debugregs(c, v1);
		s.dev = dev;
		s.vm = b.vm;
		s.vcpu[0] = b.vcpu;
		s.vcpu[1] = v1;
		b.vm = b.vcpu = -1; /* the threads own them now */
		munmap(b.run, size_t(d.run_size));
		b.run = nullptr;
	}

	struct RunnerArg {
		Shared *s;
		int i;
		uint64_t seed;
	} args[NVCPU];
	for (int i = 0; i < NVCPU; i++) {
		args[i] = RunnerArg{&s, i, r.next()};
		const int e = pthread_create(
		    &s.pt[i], nullptr,
		    [](void *a) -> void * {
			    auto *ra = static_cast<RunnerArg *>(a);
			    runner(*ra->s, ra->i, ra->seed);
			    return nullptr;
		    },
		    &args[i]);
		CHECK_MSG(e == 0, "pthread_create: %s", strerror(e));
	}
	std::vector<std::thread> threads;
	const unsigned nracers = unsigned(r.range(1, 2));
	for (unsigned i = 0; i < nracers; i++)
		threads.emplace_back(racer, std::ref(s), r.next());
	if (r.chance(3, 4))
		threads.emplace_back(churner, std::ref(s), r.next(), mem);
	threads.emplace_back(signaller, std::ref(s), r.next());

	/* Let them race; close fds while the runners are inside KVM_RUN. */
	const unsigned ms = unsigned(r.range(20, 120));
	for (unsigned t = 0; t < ms && !s.stop; t += 5) {
		usleep(5000);
		if (!r.chance(1, 12))
			continue;
		std::atomic<int> *which[] = {&s.vcpu[0], &s.vcpu[1], &s.vm, &s.dev};
		std::atomic<int> *a = which[r.below(4)];
		const int fd = a->exchange(-1);
		if (fd >= 0) {
			c.note("close while running (fd)", uint64_t(fd));
			CHECK_MSG(close(fd) == 0, "close: %s", err_name(errno).c_str());
		}
	}
	s.stop = true;
	for (auto &t : threads)
		t.join();
	for (int i = 0; i < NVCPU; i++) {
		/* Kick until it leaves KVM_RUN (the watchdog reports one that never does). */
		for (;;) {
			pthread_kill(s.pt[i], sig_kick());
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 2000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(s.pt[i], nullptr, &ts) == 0)
				break;
		}
	}
	for (std::atomic<int> *a : {&s.vcpu[0], &s.vcpu[1], &s.vm, &s.dev}) {
		const int fd = a->exchange(-1);
		if (fd >= 0)
			close(fd);
	}
	CHECK_MSG(s.failure.empty(), "%s", s.failure.c_str());
}

} // namespace fz
