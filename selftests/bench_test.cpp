// SPDX-License-Identifier: GPL-2.0
/*
 * bench_test: the cost of the exits every VMM pays for, measured the same way on dbgkvm
 * and on Linux's KVM. Run it under QEMU's `-icount shift=0` (`make bench`): the guest
 * clock then counts instructions (1 ns = 1 instruction of the emulated CPU, L2 guest
 * included, of both of the machine's CPUs), so the numbers repeat from run to run and
 * compare across hypervisors in the same machine. Without icount they are wall-clock TCG
 * times. Every test runs pinned to CPU 0, so the other CPU stays idle.
 *
 *  - pio_roundtrip: OUT to a port -> KVM_EXIT_IO -> back into the guest (long mode).
 *  - cpuid_long64: CPUID, handled in the kernel without leaving KVM_RUN (long mode): the
 *    time of rounds of 100 CPUIDs + 1 OUT minus rounds of 1 CPUID + 1 OUT, over 99.
 *  - cpuid_real: the same in real mode.
 *  - mmio_roundtrip: a 4-byte store to MMIO_GPA (no memory slot) -> KVM_EXIT_MMIO -> back.
 *  - pio_bp_enabled: pio_roundtrip while the guest has an execute breakpoint armed in its
 *    own DR0/DR7 (switch_db_regs BP_ENABLED at every exit).
 *  - pio_wont_exit: pio_roundtrip while the guest owns its debug registers (WONT_EXIT).
 *    KVM gives the registers back to the host at the first exit after the guest took them
 *    (the sync clears WONT_EXIT and intercepts DR accesses again), so a MOV DR only before
 *    the loop would leave just the first OUT in WONT_EXIT. The guest therefore writes DR0
 *    at the start of every round: a round is that MOV DR intercept (handled in the kernel,
 *    the instruction re-executed natively) plus an OUT exit to user space in WONT_EXIT.
 *  - vcpu_switch: two vCPUs of one VM, each a thread, both pinned to CPU 0, taking turns
 *    through a futex. One switch is: the handover (the running thread's FUTEX_WAKE, its
 *    FUTEX_WAIT, the context switch to the other thread), then that thread's KVM_RUN with
 *    its vCPU freshly loaded on the CPU (the other vCPU ran there last), running one
 *    pio_wont_exit round (MOV DR0 intercepted, the OUT exit with the guest owning its
 *    armed DR0/DR7), back to user space. Figure: guest-clock time of 2N switches / 2N
 *    (the clock is read by vCPU 0's thread at the start of its turns, every N = 20 of them).
 *
 * The rounds are timed in chunks (PIO/MMIO: 100 rounds; CPUID: each round; vcpu_switch:
 * 40 switches), and the figure is the median chunk per operation: a chunk that a timer
 * interrupt hit is the one that differs from run to run (see Timing). The mean over all
 * chunks, interrupts included, is printed in words beside it.
 *
 * Each test checks that the guest really did the work (every exit seen, in order, with the
 * guest's running count; the guest's debug registers as it set them) and prints one
 * diagnostic, "BENCH <name> <ns per operation> ns per <what, in words> (<target>; ...)",
 * whose first three words scripts/bench-guard.sh reads. It is printed only once every
 * check has passed.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_bench_pio);
GUEST_DECLARE(guest_bench_cpuid);
GUEST_DECLARE(guest_bench_cpuid_real);
GUEST_DECLARE(guest_bench_mmio);
GUEST_DECLARE(guest_bench_pio_bp);
GUEST_DECLARE(guest_bench_pio_dr);

namespace
{

constexpr int WARMUP = 50;	  // rounds before each measurement (faults in the pages, DR setup)
constexpr int ROUNDS = 2000;	  // PIO and MMIO round trips
constexpr int CHUNK = 100;	  // ... timed 100 at a time (230k-560k instructions)
constexpr int CPUID_ROUNDS = 200; // rounds of each of the two CPUID loops, each timed
constexpr int CPUIDS_PER_ROUND = 100;
constexpr int SWITCH_ROUNDS = 1000; // rounds per vCPU: 2 x 1000 switches
constexpr int SWITCH_CHUNK = 20;    // ... timed 2 x 20 switches at a time (about 400k)
// Execute breakpoints on addresses the guests never execute (the data page).
constexpr uint64_t NOWHERE = DATA_GPA + 0x100;
constexpr uint64_t DR7_L0_EXEC = DR7_FIXED_1 | dr7_l(0) | dr7_rwlen(0, 0, 0);

uint64_t now_ns()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}

/* Everything on CPU 0 (threads created afterwards inherit it): the other CPU stays idle. */
void pin_to_cpu0()
{
	if (!pin_to_cpu(0))
		FAIL("sched_setaffinity(CPU 0): %s", strerror(errno));
	CHECK_EQ(0, sched_getcpu());
}

uint64_t per_op(uint64_t ns, uint64_t ops)
{
	return (ns + ops / 2) / ops;
}

/*
 * A measurement: the guest-clock time of each chunk of `ops` operations. The figure is the
 * median chunk, per operation: a timer interrupt (HZ 250: every 4M instructions under
 * -icount) lands in a few chunks, at a place that varies from boot to boot, and makes the
 * mean of a whole run vary by up to 1.5% (seen on 6.1: 2271 ns per PIO round trip in
 * every uninterrupted chunk, means of 2274 to 2304 in three runs); the chunks it misses
 * repeat to the instruction. A cost the hypervisor paid in fewer than half of the chunks
 * would be left out too: the mean, interrupts included, is printed beside the figure.
 */
struct Timing {
	std::vector<uint64_t> chunks;
	uint64_t ops = 1; // per chunk

	explicit Timing(uint64_t ops_per_chunk) : ops(ops_per_chunk) {}
	uint64_t median() const
	{
		CHECK(!chunks.empty());
		std::vector<uint64_t> c = chunks;
		std::sort(c.begin(), c.end());
		const size_t n = c.size();
		return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2] + 1) / 2;
	}
	uint64_t total() const
	{
		uint64_t t = 0;
		for (uint64_t c : chunks)
			t += c;
		return t;
	}
	uint64_t per_op_median() const { return per_op(median(), ops); }
	uint64_t per_op_mean() const { return per_op(total(), ops * chunks.size()); }
};

/* "BENCH <name> <ns per op>" (what scripts/bench-guard.sh reads), then what it is, in words. */
void report(const char *name, uint64_t ns, uint64_t mean, const char *what)
{
	tap::diag("BENCH %s %llu ns per %s (%s; median chunk, mean %llu)", name,
		  (unsigned long long)ns, what, target().c_str(), (unsigned long long)mean);
}

void report(const char *name, const Timing &t, const char *what)
{
	report(name, t.per_op_median(), t.per_op_mean(), what);
}

/* One round: the guest's OUT of `count` (4 bytes) to PORT_REPORT. No string work unless
 * it fails, so the check costs the same few instructions on both targets. */
void pio_round(Vcpu &v, uint32_t count)
{
	CHECK_EQ((uint32_t)KVM_EXIT_IO, v.enter());
	const kvm_run *r = v.run();
	uint32_t data = 0;
	if (r->io.size == 4)
		memcpy(&data, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset, 4);
	if (r->io.direction != KVM_EXIT_IO_OUT || r->io.port != PORT_REPORT || r->io.size != 4 ||
	    r->io.count != 1 || data != count)
		FAIL("expected OUT %u to port 0x%x (4 bytes), got %s, data %u", count, PORT_REPORT,
		     v.describe_exit().c_str(), data);
}

/* One round: the guest's 4-byte store of `count` to MMIO_GPA. */
void mmio_round(Vcpu &v, uint32_t count)
{
	CHECK_EQ((uint32_t)KVM_EXIT_MMIO, v.enter());
	const kvm_run *r = v.run();
	uint32_t data = 0;
	memcpy(&data, r->mmio.data, 4);
	if (!r->mmio.is_write || r->mmio.phys_addr != MMIO_GPA || r->mmio.len != 4 || data != count)
		FAIL("expected an MMIO write of %u to 0x%x (4 bytes), got %s, data %u", count,
		     MMIO_GPA, v.describe_exit().c_str(), data);
}

/* WARMUP rounds, then ROUNDS timed ones, CHUNK at a time. */
template <class Round> Timing time_rounds(Vcpu &v, Round round)
{
	Timing t(CHUNK);
	t.chunks.reserve(ROUNDS / CHUNK);
	uint32_t count = 0;
	for (int i = 0; i < WARMUP; i++)
		round(v, ++count);
	uint64_t t0 = now_ns();
	for (int i = 0; i < ROUNDS / CHUNK; i++) {
		for (int j = 0; j < CHUNK; j++)
			round(v, ++count);
		const uint64_t t1 = now_ns();
		t.chunks.push_back(t1 - t0);
		t0 = t1;
	}
	return t;
}

/* The guest's DR0/DR7 are what it wrote: the breakpoint was armed. */
void check_guest_bp(Vcpu &v, uint64_t addr)
{
	const kvm_debugregs d = get_debugregs(v);
	CHECK_EQ(addr, (uint64_t)d.db[0]);
	CHECK_EQ(DR7_L0_EXEC, (uint64_t)d.dr7 & 0xffff07ffull);
}

/* A guest whose DR0 = addr and DR7 = DR7_L0_EXEC (RBX, RCX: see bench.S). */
void arm_guest_bp(Vcpu &v, uint64_t addr)
{
	kvm_regs r = v.regs();
	r.rbx = addr;
	r.rcx = DR7_L0_EXEC;
	v.set_regs(r);
}

/*
 * ns per CPUID exit: rounds of CPUIDS_PER_ROUND CPUIDs + 1 OUT minus rounds of 1 CPUID +
 * 1 OUT, over the CPUIDs in between; CPUID_ROUNDS of each, every round timed (one round of
 * 100 CPUIDs is about 250k instructions), the median rounds subtracted. `per_round` is the
 * register that holds the guest's CPUIDs per round; the guest reports its running count.
 */
void cpuid_bench(const char *name, Vcpu &v, __u64 kvm_regs::*per_round, const char *what)
{
	uint32_t total = 0;
	auto loop = [&](uint32_t n) {
		kvm_regs r = v.regs();
		r.*per_round = n;
		v.set_regs(r);
		for (int i = 0; i < 2; i++) // warm up; the guest reads the count at a round's start
			pio_round(v, total += n);
		Timing t(1);
		t.chunks.reserve(CPUID_ROUNDS);
		uint64_t t0 = now_ns();
		for (int i = 0; i < CPUID_ROUNDS; i++) {
			pio_round(v, total += n);
			const uint64_t t1 = now_ns();
			t.chunks.push_back(t1 - t0);
			t0 = t1;
		}
		return t;
	};
	const Timing many = loop(CPUIDS_PER_ROUND);
	const Timing one = loop(1);
	CHECK_MSG(many.median() > one.median() && many.total() > one.total(),
		  "%d CPUIDs a round (median %llu ns) not slower than 1 (median %llu ns)",
		  CPUIDS_PER_ROUND, (unsigned long long)many.median(),
		  (unsigned long long)one.median());
	report(name, per_op(many.median() - one.median(), CPUIDS_PER_ROUND - 1),
	       per_op(many.total() - one.total(), uint64_t(CPUID_ROUNDS) * (CPUIDS_PER_ROUND - 1)),
	       what);
}

} // namespace

TEST(pio_roundtrip)
{
	pin_to_cpu0();
	Guest g(Mode::Long64, GUEST(guest_bench_pio));
	const Timing t = time_rounds(g.vcpu, pio_round);
	report("pio_roundtrip", t, "PIO exit round trip through user space");
}

TEST(cpuid_long64)
{
	pin_to_cpu0();
	Guest g(Mode::Long64, GUEST(guest_bench_cpuid));
	cpuid_bench("cpuid_long64", g.vcpu, &kvm_regs::r8,
		    "CPUID exit handled in the kernel (long mode)");
}

TEST(cpuid_real)
{
	pin_to_cpu0();
	Guest g(Mode::Real, GUEST(guest_bench_cpuid_real));
	CHECK_EQ(0ull, g.vcpu.sregs().cr0 & 1); // real mode
	cpuid_bench("cpuid_real", g.vcpu, &kvm_regs::rsi,
		    "CPUID exit handled in the kernel (real mode)");
}

TEST(mmio_roundtrip)
{
	pin_to_cpu0();
	Guest g(Mode::Long64, GUEST(guest_bench_mmio));
	const Timing t = time_rounds(g.vcpu, mmio_round);
	report("mmio_roundtrip", t, "MMIO store exit round trip through user space");
}

TEST(pio_bp_enabled)
{
	pin_to_cpu0();
	Guest g(Mode::Long64, GUEST(guest_bench_pio_bp));
	arm_guest_bp(g.vcpu, NOWHERE);
	const Timing t = time_rounds(g.vcpu, pio_round);
	check_guest_bp(g.vcpu, NOWHERE);
	report("pio_bp_enabled", t,
	       "PIO exit round trip, breakpoint armed in the guest's DR7 (BP_ENABLED)");
}

TEST(pio_wont_exit)
{
	pin_to_cpu0();
	Guest g(Mode::Long64, GUEST(guest_bench_pio_dr));
	arm_guest_bp(g.vcpu, NOWHERE);
	const Timing t = time_rounds(g.vcpu, pio_round);
	check_guest_bp(g.vcpu, NOWHERE);
	report("pio_wont_exit", t,
	       "MOV DR0 intercept + PIO exit round trip with the guest owning its armed DRs "
	       "(WONT_EXIT)");
}

namespace
{

long futex(std::atomic<uint32_t> *word, int op, uint32_t val)
{
	return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op, val, nullptr, nullptr, 0);
}

/* Two vCPU threads taking turns: `turn` says whose it is (2: nobody's yet). */
struct Switcher {
	std::atomic<uint32_t> turn{2};
	std::atomic<bool> abort{false};
	Timing timing{2 * SWITCH_CHUNK}; // switches per chunk
	uint64_t t0 = 0;
	std::string error[2];
	uint32_t rounds_done[2] = {0, 0};
	int cpu[2] = {-1, -1};

	bool wait_turn(uint32_t me)
	{
		for (;;) {
			const uint32_t t = turn.load();
			if (abort.load())
				return false;
			if (t == me)
				return true;
			futex(&turn, FUTEX_WAIT_PRIVATE, t);
		}
	}
	void hand_over(uint32_t me)
	{
		turn.store(1 - me);
		futex(&turn, FUTEX_WAKE_PRIVATE, 1);
	}
	void stop()
	{
		abort.store(true);
		turn.store(3);
		futex(&turn, FUTEX_WAKE_PRIVATE, INT_MAX);
	}
};

/*
 * vCPU `me`: WARMUP + SWITCH_ROUNDS rounds, each in its turn; vCPU 0 does one more. vCPU 0
 * reads the clock at the start of its rounds WARMUP, WARMUP + SWITCH_CHUNK, ...,
 * WARMUP + SWITCH_ROUNDS: in each chunk, each vCPU ran SWITCH_CHUNK rounds and the CPU
 * switched between them 2 * SWITCH_CHUNK times.
 */
void switch_thread(Switcher *s, Vcpu *v, uint32_t me)
{
	const int rounds = WARMUP + SWITCH_ROUNDS + (me == 0 ? 1 : 0);
	try {
		s->cpu[me] = sched_getcpu();
		for (int i = 0; i < rounds; i++) {
			if (!s->wait_turn(me))
				return;
			if (me == 0 && i >= WARMUP && (i - WARMUP) % SWITCH_CHUNK == 0) {
				const uint64_t t = now_ns();
				if (i > WARMUP)
					s->timing.chunks.push_back(t - s->t0);
				s->t0 = t;
			}
			pio_round(*v, i + 1);
			s->rounds_done[me]++;
			s->hand_over(me);
		}
		if (sched_getcpu() != s->cpu[me])
			s->cpu[me] = -2;
	} catch (const tap::Failure &f) {
		s->error[me] = f.msg;
		s->stop();
	}
}

} // namespace

TEST(vcpu_switch)
{
	pin_to_cpu0();
	Vm vm;
	Vcpu v0(vm, 0), v1(vm, 1);
	Vcpu *vcpus[2] = {&v0, &v1};
	for (uint32_t k = 0; k < 2; k++) {
		setup_guest(vm, *vcpus[k], Mode::Long64, GUEST(guest_bench_pio_dr));
		arm_guest_bp(*vcpus[k], NOWHERE + 16 * k);
	}
	Switcher s;
	s.timing.chunks.reserve(SWITCH_ROUNDS / SWITCH_CHUNK);
	std::thread th0(switch_thread, &s, &v0, 0u), th1(switch_thread, &s, &v1, 1u);
	s.turn.store(0);
	futex(&s.turn, FUTEX_WAKE_PRIVATE, INT_MAX);
	th0.join();
	th1.join();
	for (int k = 0; k < 2; k++) {
		CHECK_MSG(s.error[k].empty(), "vCPU %d: %s", k, s.error[k].c_str());
		CHECK_MSG(s.cpu[k] == 0, "vCPU %d's thread ran on CPU %d, not 0 (-2: it moved)", k,
			  s.cpu[k]);
		check_guest_bp(*vcpus[k], NOWHERE + 16 * k);
	}
	CHECK_EQ(uint32_t(WARMUP + SWITCH_ROUNDS + 1), s.rounds_done[0]);
	CHECK_EQ(uint32_t(WARMUP + SWITCH_ROUNDS), s.rounds_done[1]);
	CHECK_EQ(size_t(SWITCH_ROUNDS / SWITCH_CHUNK), s.timing.chunks.size());
	report("vcpu_switch", s.timing,
	       "vCPU switch on one CPU: futex handover between two vCPU threads of one VM, "
	       "then the other vCPU's MOV DR0 intercept + PIO round trip (guest-owned DRs)");
}
