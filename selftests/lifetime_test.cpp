// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime_test: object lifetimes and concurrency on the KVM fds.
 *
 * KVM's rules (virt/kvm/kvm_main.c):
 *  - A vCPU fd holds a reference on its VM (kvm_get_kvm in
 *    kvm_vm_ioctl_create_vcpu), and an mmap of kvm_run holds the vCPU file:
 *    closing fds in any order is fine, and a vCPU runs after its VM fd closed.
 *  - KVM_RUN and the other vCPU ioctls take vcpu->mutex: a second thread
 *    calling KVM_RUN waits for the first to return.
 *  - VM and vCPU ioctls from another process (another mm) fail with EIO.
 *  - Every VM holds a reference on the module that registered the device
 *    (kvm_chardev_ops.owner: dbgkvm, or kvm_amd/kvm_intel); delete_module with
 *    O_NONBLOCK then fails with EWOULDBLOCK. The test never unloads anything:
 *    it asks only while a VM holds the module, which makes unloading
 *    impossible unless the module's refcounting is broken.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_count);
GUEST_DECLARE(guest_loop);
GUEST_DECLARE(guest_once);
GUEST_DECLARE(guest_tick);
GUEST_DECLARE(guest_peek);

/* Builds a long-mode guest in a VM + vCPU owned by raw fds (for closing in any order). */
struct RawGuest {
	Vm vm;
	int vcpu_fd;
	kvm_run *run;
	explicit RawGuest(GuestCode code)
	{
		Vcpu tmp(vm, 0);
		setup_guest(vm, tmp, Mode::Long64, code);
		vcpu_fd = dup(tmp.fd()); /* the same open file: the vCPU survives tmp */
		run = static_cast<kvm_run *>(
		    mmap(nullptr, vm.run_size(), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0));
		CHECK_MSG(run != MAP_FAILED, "mmap of the vCPU fd: %s",
			  tap::errno_name(errno).c_str());
	}
};

static void expect_report(int vcpu_fd, kvm_run *run, uint64_t value)
{
	CHECK_OK(ioctl(vcpu_fd, KVM_RUN, 0));
	CHECK_EQ((uint32_t)KVM_EXIT_IO, run->exit_reason);
	CHECK_EQ((uint16_t)PORT_REPORT, run->io.port);
	uint32_t v;
	memcpy(&v, reinterpret_cast<uint8_t *>(run) + run->io.data_offset, 4);
	CHECK_EQ(value, (uint64_t)v);
}

TEST(run_after_vm_fd_closed)
{
	RawGuest g(GUEST(guest_count));
	expect_report(g.vcpu_fd, g.run, 0);
	g.vm.close_fd();
	expect_report(g.vcpu_fd, g.run, 1);
	kvm_regs r;
	CHECK_OK(ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
	CHECK_EQ((uint64_t)1, (uint64_t)r.rax);
	close(g.vcpu_fd);
	munmap(g.run, g.vm.run_size());
}

TEST(close_vm_then_vcpu)
{
	RawGuest g(GUEST(guest_count));
	expect_report(g.vcpu_fd, g.run, 0);
	g.vm.close_fd();
	CHECK_OK(close(g.vcpu_fd));
	CHECK_OK(munmap(g.run, g.vm.run_size()));
}

TEST(close_vcpu_then_vm)
{
	RawGuest g(GUEST(guest_count));
	expect_report(g.vcpu_fd, g.run, 0);
	CHECK_OK(munmap(g.run, g.vm.run_size()));
	CHECK_OK(close(g.vcpu_fd));
	g.vm.close_fd();
}

TEST(mmap_outlives_fds)
{
	/* The mapping keeps the vCPU (and so the VM) alive after both fds are closed. */
	RawGuest g(GUEST(guest_count));
	expect_report(g.vcpu_fd, g.run, 0);
	CHECK_OK(close(g.vcpu_fd));
	g.vm.close_fd();
	CHECK_EQ((uint32_t)KVM_EXIT_IO, g.run->exit_reason);
	CHECK_EQ((uint16_t)PORT_REPORT, g.run->io.port);
	g.run->immediate_exit = 1; /* still writable */
	CHECK_OK(munmap(g.run, g.vm.run_size()));
}

TEST(vcpu_ioctls_after_vm_closed)
{
	RawGuest g(GUEST(guest_count));
	g.vm.close_fd();
	kvm_sregs s;
	CHECK_OK(ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	CHECK_OK(ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	expect_report(g.vcpu_fd, g.run, 0);
	close(g.vcpu_fd);
	munmap(g.run, g.vm.run_size());
}

static void on_usr1(int) {}

static void install_usr1()
{
	struct sigaction sa = {};
	sa.sa_handler = on_usr1; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGUSR1, &sa, nullptr);
}

TEST(two_threads_run_one_vcpu)
{
	/*
	 * Both threads KVM_RUN the same vCPU N times; KVM serialises them, so the
	 * guest's counter ends at exactly 2N - 1 and every call returns 0.
	 */
	Guest g(Mode::Long64, GUEST(guest_count));
	constexpr int N = 200;
	std::atomic<int> bad{0};
	auto worker = [&] {
		for (int i = 0; i < N; i++) {
			if (ioctl(g.vcpu.fd(), KVM_RUN, 0) != 0 ||
			    g.vcpu.run()->exit_reason != KVM_EXIT_IO)
				bad++;
		}
	};
	std::thread a(worker), b(worker);
	a.join();
	b.join();
	CHECK_EQ(0, bad.load());
	CHECK_EQ((uint64_t)(2 * N - 1), (uint64_t)g.vcpu.regs().rax);
}

/* Waits up to `ms` for the guest's tick counter to move; returns whether it did. */
static bool guest_ticks(Vm &vm, int ms)
{
	volatile uint64_t *tick = &vm.at<uint64_t>(DATA_GPA);
	uint64_t start = *tick;
	for (int i = 0; i < ms; i++) {
		if (*tick != start)
			return true;
		usleep(1000);
	}
	return false;
}

TEST(second_run_waits_for_first)
{
	/*
	 * Thread A runs a guest that counts in memory; once the count moves, A
	 * is inside KVM_RUN. Thread B's KVM_RUN must then wait (not fail) until
	 * A is interrupted, and run the guest itself until interrupted.
	 */
	install_usr1();
	Guest g(Mode::Long64, GUEST(guest_tick));
	std::atomic<int> order{0};
	std::atomic<int> a_done{0}, b_done{0}, a_err{0}, b_err{0};
	auto run = [&](std::atomic<int> &done, std::atomic<int> &err) {
		int r = ioctl(g.vcpu.fd(), KVM_RUN, 0);
		err = r == 0 ? 0 : errno;
		done = ++order;
	};
	std::thread a([&] { run(a_done, a_err); });
	CHECK_MSG(guest_ticks(g.vm, 20000), "the guest did not start counting under thread A");
	std::thread b([&] { run(b_done, b_err); });
	usleep(300000);
	CHECK_MSG(!a_done && !b_done,
		  "a KVM_RUN returned while the guest was running (A %d/%s, B %d/%s)",
		  a_done.load(), tap::errno_name(a_err).c_str(), b_done.load(),
		  tap::errno_name(b_err).c_str());
	for (int i = 0; i < 2000 && !a_done; i++) {
		pthread_kill(a.native_handle(), SIGUSR1);
		usleep(10000);
	}
	CHECK(a_done);
	/* B now owns the vCPU: the guest counts again and B has not returned. */
	CHECK_MSG(guest_ticks(g.vm, 20000), "the guest did not run under thread B");
	CHECK_MSG(!b_done, "B returned (%s) instead of running the guest after A",
		  tap::errno_name(b_err).c_str());
	for (int i = 0; i < 2000 && !b_done; i++) {
		pthread_kill(b.native_handle(), SIGUSR1);
		usleep(10000);
	}
	a.join();
	b.join();
	CHECK_EQ(std::string("EINTR"), tap::errno_name(a_err));
	CHECK_EQ(std::string("EINTR"), tap::errno_name(b_err));
	CHECK_EQ(1, a_done.load());
	CHECK_EQ(2, b_done.load());
	CHECK_EQ((uint32_t)KVM_EXIT_INTR, g.vcpu.run()->exit_reason);
}

TEST(close_vm_fd_while_running)
{
	/* The running vCPU keeps the VM: closing the VM fd under it changes nothing. */
	install_usr1();
	Guest g(Mode::Long64, GUEST(guest_tick));
	std::atomic<int> done{0}, err{0};
	std::thread a([&] {
		int r = ioctl(g.vcpu.fd(), KVM_RUN, 0);
		err = r == 0 ? 0 : errno;
		done = 1;
	});
	CHECK_MSG(guest_ticks(g.vm, 20000), "the guest did not start");
	g.vm.close_fd();
	CHECK_MSG(guest_ticks(g.vm, 20000), "the guest stopped when the VM fd was closed");
	CHECK(!done);
	for (int i = 0; i < 2000 && !done; i++) {
		pthread_kill(a.native_handle(), SIGUSR1);
		usleep(10000);
	}
	a.join();
	CHECK_EQ(std::string("EINTR"), tap::errno_name(err));
}

TEST(munmap_guest_memory_efault)
{
	/*
	 * KVM follows the host mapping (MMU notifiers): once the memory behind a
	 * slot is unmapped, a guest access to it fails KVM_RUN with EFAULT; the
	 * guest never sees the freed pages.
	 */
	if (is_pvm_host())
		SKIP("host KVM is PVM: it reports an unbacked slot as KVM_EXIT_MMIO");
	Guest g(Mode::Long64, GUEST(guest_peek));
	const uint64_t gpa = 0x400000, size = 0x10000;
	auto *mem = static_cast<uint8_t *>(alloc_host_mem(size));
	CHECK_EQ(0, g.vm.set_region(1, gpa, size, mem));
	*reinterpret_cast<volatile uint32_t *>(mem) = 0xfeed;
	kvm_regs r = g.vcpu.regs();
	r.rbx = gpa;
	g.vcpu.set_regs(r);
	CHECK_EQ(0xfeedull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_OK(munmap(mem, size));
	if (is_dbgkvm()) {
		/*
		 * dbgkvm pins guest memory and has no MMU notifiers (README, "Where
		 * dbgkvm differs"): unmapping does not take the pages from the guest.
		 * The pinned page keeps its data and stays allocated until the slot
		 * goes; after the slot is deleted the address is MMIO.
		 */
		CHECK_EQ(0xfeedull, g.vcpu.expect_out(PORT_REPORT, 4));
		g.vcpu.expect_exit(KVM_EXIT_HLT);
		g.vm.delete_memory(1);
		g.vcpu.expect_mmio_read(gpa, 4, 0xbeef);
		CHECK_EQ(0xbeefull, g.vcpu.expect_out(PORT_REPORT, 4));
		return;
	}
	int ret = g.vcpu.run_raw();
	if (ret != -EFAULT)
		FAIL("KVM_RUN after munmap: expected -1/EFAULT, got %s%s",
		     tap::errno_name(-ret).c_str(),
		     ret ? "" : (" with " + g.vcpu.describe_exit()).c_str());
}

TEST(other_process_gets_eio)
{
	/* kvm_vm_ioctl / kvm_vcpu_ioctl: kvm->mm != current->mm -> EIO. */
	Guest g(Mode::Long64, GUEST(guest_count));
	pid_t pid = fork();
	if (pid == 0) {
		kvm_regs r;
		int code = 0;
		if (!(ioctl(g.vcpu.fd(), KVM_GET_REGS, &r) == -1 && errno == EIO))
			code |= 1;
		if (!(ioctl(g.vcpu.fd(), KVM_RUN, 0) == -1 && errno == EIO))
			code |= 2;
		if (!(ioctl(g.vm.fd(), KVM_CREATE_VCPU, 1) == -1 && errno == EIO))
			code |= 4;
		/* The child's own VM works. */
		int vm = ioctl(g.vm.dev_fd(), KVM_CREATE_VM, 0);
		if (vm < 0 || ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
			code |= 8;
		_exit(code);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	int code = WEXITSTATUS(status);
	CHECK_MSG(!(code & 1), "child KVM_GET_REGS on the parent's vCPU: expected EIO");
	CHECK_MSG(!(code & 2), "child KVM_RUN on the parent's vCPU: expected EIO");
	CHECK_MSG(!(code & 4), "child KVM_CREATE_VCPU on the parent's VM: expected EIO");
	CHECK_MSG(!(code & 8), "child could not create its own VM and vCPU");
	/* The parent is unaffected. */
	CHECK_EQ(0ull, g.vcpu.expect_out(PORT_REPORT, 4));
}

/* The module that owns the device: its refcount counts open VMs. */
static std::string owner_module()
{
	if (is_dbgkvm())
		return "dbgkvm";
	for (const char *m : {"kvm_amd", "kvm_intel"})
		if (!read_line(std::string("/sys/module/") + m + "/refcnt").empty())
			return m;
	return "";
}

static long module_refcnt(const std::string &m)
{
	std::string s = read_line("/sys/module/" + m + "/refcnt");
	return s.empty() ? -1 : atol(s.c_str());
}

TEST(many_vms)
{
	const int fds_before = count_open_fds();
	const std::string mod = owner_module();
	const long ref_before = mod.empty() ? -1 : module_refcnt(mod);
	const long slab_before = meminfo_kb("Slab");
	constexpr int N = 64;
	for (int i = 0; i < N; i++) {
		Guest g(Mode::Long64, GUEST(guest_once));
		CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
		g.vcpu.expect_exit(KVM_EXIT_HLT);
	}
	CHECK_EQ(fds_before, count_open_fds());
	if (ref_before >= 0)
		CHECK_MSG(module_refcnt(mod) == ref_before,
			  "%s refcnt %ld before, %ld after %d VMs", mod.c_str(), ref_before,
			  module_refcnt(mod), N);
	/* Slab usage moves for many reasons: information only, not a verdict. */
	tap::diag("%d VMs: Slab %ld kB -> %ld kB", N, slab_before, meminfo_kb("Slab"));
}

TEST(module_busy_while_vm_open)
{
	const std::string mod = owner_module();
	if (mod.empty() || module_refcnt(mod) < 0)
		SKIP("no loadable module behind %s (no /sys/module/*/refcnt)", dev_path().c_str());
	const long before = module_refcnt(mod);
	{
		Guest g(Mode::Long64, GUEST(guest_once));
		const long held = module_refcnt(mod);
		/* Only ask for an unload that the held reference makes impossible. */
		if (held <= before)
			FAIL("%s refcnt did not rise with a VM open (%ld -> %ld): not trying "
			     "delete_module",
			     mod.c_str(), before, held);
		errno = 0;
		long r = syscall(SYS_delete_module, mod.c_str(), O_NONBLOCK);
		CHECK_MSG(r == -1 && (errno == EWOULDBLOCK || errno == EBUSY),
			  "delete_module(%s, O_NONBLOCK) with a VM open: expected EWOULDBLOCK or "
			  "EBUSY, got %ld/%s",
			  mod.c_str(), r, tap::errno_name(errno).c_str());
		tap::diag("delete_module(%s) with a VM open: %s (refcnt %ld)", mod.c_str(),
			  tap::errno_name(errno).c_str(), held);
		CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
	}
	CHECK_EQ(before, module_refcnt(mod));
}
