// SPDX-License-Identifier: GPL-2.0
/*
 * pin_test: who pays for guest memory, and which memory may be guest memory.
 *
 * dbgkvm pins each guest page long-term (FOLL_LONGTERM) the first time the guest
 * touches it, until its slot is deleted or moved or the VM is destroyed. Like the
 * other long-term pinners (RDMA ib_umem_get, io_uring, VFIO) it charges the pins:
 *  - to the mm that created the VM, in mm->pinned_vm (VmPin in /proc/PID/status),
 *    even when the last fd is closed by another process;
 *  - limited by RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK, which lifts the limit
 *    but not the charge (as in all three);
 *  - over the limit, KVM_RUN fails with ENOMEM (their errno for it); nothing of the
 *    failed page stays pinned or charged, and after raising the limit KVM_RUN goes on
 *    from the same guest instruction;
 *  - deleting or moving a slot, or destroying the VM, uncharges every pin released.
 * Long-term pins of shared, writable mappings of files that need dirty tracking are
 * refused (Linux 6.5+ GUP: writable_file_mapping_allowed; dbgkvm applies the same rule
 * on 6.1): KVM_RUN fails with EFAULT. Anonymous memory, private file mappings,
 * shmem/memfd and hugetlbfs work.
 *
 * Linux's KVM pins nothing (it follows the host mappings with MMU notifiers): no
 * VmPin, no limit, every mapping works. The tests check what both share and SKIP,
 * saying so, what only dbgkvm does.
 *
 * Tests that lower limits or drop to uid/gid 65534 do it in the harness's per-test
 * child, after opening the device and creating the VM (as a VMM dropping privileges
 * after setup does).
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_touch);
GUEST_DECLARE(guest_peek_poke);

static constexpr uint64_t SLOT1_GPA = 0x400000;
static constexpr uint64_t SLOT2_GPA = 0x800000;
static constexpr uint64_t MOVED_GPA = 0xc00000;
static constexpr uint64_t PAGE = PAGE_SIZE_4K;
static constexpr uid_t NOBODY = 65534;
static constexpr rlim_t SMALL_LIMIT = 64 << 10; /* 16 pages */
static constexpr rlim_t BIG_LIMIT = 4 << 20;

/* VmPin of this process in kB (mm->pinned_vm); -1 if the line is missing. */
static long vmpin_kb()
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* VmPin once it reached `kb`, or its value after 2 s (the last fput is synchronous: no wait
 * is expected, the poll only turns a slow release into a clear message). */
static long wait_vmpin(long kb)
{
	long v = vmpin_kb();
	for (int i = 0; i < 200 && v != kb; i++) {
		usleep(10000);
		v = vmpin_kb();
	}
	return v;
}

/* What dbgkvm charges for `pages` pins; Linux's KVM charges nothing. */
static long charge_kb(uint64_t pages)
{
	return is_kvm() ? 0 : (long)(pages * PAGE / 1024);
}

static void need_root()
{
	if (geteuid() != 0)
		SKIP("needs root (to drop to uid %u, to have CAP_IPC_LOCK, to mount ramfs)",
		     NOBODY);
}

static void need_root_in_own_process()
{
	const char *nf = getenv("DBGKVM_NO_FORK");
	if (nf && *nf == '1')
		SKIP("changes this process's limits or credentials: needs the harness's fork per "
		     "test (DBGKVM_NO_FORK=1 is set)");
	need_root();
}

static void set_memlock(rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {soft, hard};
	CHECK_MSG(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit(RLIMIT_MEMLOCK, %lu, %lu): %s",
		  (unsigned long)soft, (unsigned long)hard, tap::errno_name(errno).c_str());
}

/* RLIMIT_MEMLOCK soft/hard, then uid and gid 65534 with no supplementary groups: no
 * capabilities left (no CAP_IPC_LOCK). */
static void drop_privileges(rlim_t soft, rlim_t hard)
{
	set_memlock(soft, hard);
	CHECK_OK(setgroups(0, nullptr));
	CHECK_OK(setgid(NOBODY));
	CHECK_OK(setuid(NOBODY));
	CHECK_EQ(NOBODY, geteuid());
}

static void start_touch(Guest &g, uint64_t gpa, uint64_t pages)
{
	kvm_regs r = g.vcpu.regs();
	r.rip = CODE_GPA;
	r.rbx = gpa;
	r.rcx = pages;
	g.vcpu.set_regs(r);
}

/* The guest writes pages..1 into the first qword of each page from gpa on. */
static void touch(Guest &g, uint64_t gpa, uint64_t pages)
{
	start_touch(g, gpa, pages);
	CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
}

static void check_touched(const uint8_t *mem, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t v;
		memcpy(&v, mem + i * PAGE, sizeof(v));
		CHECK_MSG(v == pages - i, "page %llu of the slot holds %llu, the guest wrote %llu",
			  (unsigned long long)i, (unsigned long long)v,
			  (unsigned long long)(pages - i));
	}
}

/* Closes the VM: every fd and the kvm_run mapping (the host memory stays). */
static void close_guest(Guest &g)
{
	g.vcpu.unmap_run();
	g.vcpu.close_fd();
	g.vm.close_fd();
}

static uint32_t u32_at(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

TEST(over_limit_enomem)
{
	need_root_in_own_process();
	constexpr uint64_t pages = 32; /* 128 KiB: twice the limit */
	Guest g(Mode::Long64, GUEST(guest_touch));
	uint8_t *mem = g.vm.add_memory(1, SLOT1_GPA, pages * PAGE);
	start_touch(g, SLOT1_GPA, pages);
	CHECK_EQ(0L, vmpin_kb());
	drop_privileges(SMALL_LIMIT, BIG_LIMIT);
	if (is_kvm()) {
		CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
		check_touched(mem, pages);
		CHECK_EQ(0L, vmpin_kb());
		SKIP("Linux's KVM pins no guest memory, RLIMIT_MEMLOCK does not limit it: checked "
		     "only that the guest touching %llu KiB runs under a %lu KiB limit",
		     (unsigned long long)(pages * PAGE / 1024), (unsigned long)(SMALL_LIMIT >> 10));
	}
	int r = g.vcpu.run_raw();
	CHECK_EQ(tap::errno_name(ENOMEM), tap::errno_name(-r));
	const long pinned = vmpin_kb();
	CHECK_MSG(pinned > 0 && pinned <= (long)(SMALL_LIMIT >> 10),
		  "VmPin %ld kB after KVM_RUN failed: expected 1..%lu kB (the charge stops at "
		  "the limit)",
		  pinned, (unsigned long)(SMALL_LIMIT >> 10));
	/* The guest stopped at the first page it could not get: the rest is untouched. */
	uint64_t done = 0;
	while (done < pages && u32_at(mem + done * PAGE))
		done++;
	CHECK_MSG(done < pages, "the guest touched all %llu pages over the limit",
		  (unsigned long long)pages);
	for (uint64_t i = done; i < pages; i++)
		CHECK_EQ(0u, u32_at(mem + i * PAGE));
	tap::diag("ENOMEM after %llu of %llu pages of slot 1, VmPin %ld kB",
		  (unsigned long long)done, (unsigned long long)pages, pinned);
	/* Failing again charges nothing more. */
	r = g.vcpu.run_raw();
	CHECK_EQ(tap::errno_name(ENOMEM), tap::errno_name(-r));
	CHECK_EQ(pinned, vmpin_kb());
	/* An unprivileged process may raise its soft limit to the hard one: the guest goes on. */
	set_memlock(BIG_LIMIT, BIG_LIMIT);
	CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	check_touched(mem, pages);
	CHECK_EQ(pinned + charge_kb(pages - done), vmpin_kb());
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
}

TEST(within_limit_runs)
{
	need_root_in_own_process();
	constexpr uint64_t pages = 4;
	Guest g(Mode::Long64, GUEST(guest_touch));
	uint8_t *mem = g.vm.add_memory(1, SLOT1_GPA, pages * PAGE);
	start_touch(g, SLOT1_GPA, pages);
	drop_privileges(SMALL_LIMIT, SMALL_LIMIT);
	CHECK_EQ(0x600dull, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	check_touched(mem, pages);
	const long pinned = vmpin_kb();
	if (is_kvm())
		CHECK_EQ(0L, pinned);
	else
		CHECK_MSG(pinned >= charge_kb(pages) && pinned <= (long)(SMALL_LIMIT >> 10),
			  "VmPin %ld kB: expected %ld..%lu kB", pinned, charge_kb(pages),
			  (unsigned long)(SMALL_LIMIT >> 10));
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
}

TEST(cap_ipc_lock_not_limited)
{
	/* Root keeps CAP_IPC_LOCK: the limit does not apply, the charge does (VFIO, RDMA and
	 * io_uring alike). */
	need_root_in_own_process();
	constexpr uint64_t pages = 64; /* 256 KiB: four times the limit */
	Guest g(Mode::Long64, GUEST(guest_touch));
	uint8_t *mem = g.vm.add_memory(1, SLOT1_GPA, pages * PAGE);
	set_memlock(SMALL_LIMIT, SMALL_LIMIT);
	touch(g, SLOT1_GPA, pages);
	check_touched(mem, pages);
	const long pinned = vmpin_kb();
	if (is_kvm())
		CHECK_EQ(0L, pinned);
	else
		CHECK_MSG(pinned >= charge_kb(pages), "VmPin %ld kB: expected at least %ld kB",
			  pinned, charge_kb(pages));
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
}

TEST(slot_delete_and_move_uncharge)
{
	constexpr uint64_t pages = 16;
	const uint64_t size = pages * PAGE;
	CHECK_EQ(0L, vmpin_kb());
	Guest g(Mode::Long64, GUEST(guest_touch));
	uint8_t *mem = g.vm.add_memory(1, SLOT1_GPA, size);
	/* What the guest itself needs (code, page tables, a page of slot 0) stays pinned. */
	touch(g, DATA_GPA, 1);
	const long base = vmpin_kb();
	touch(g, SLOT1_GPA, pages);
	CHECK_EQ(base + charge_kb(pages), vmpin_kb());
	/* Touching the same pages again pins and charges nothing more. */
	touch(g, SLOT1_GPA, pages);
	CHECK_EQ(base + charge_kb(pages), vmpin_kb());
	g.vm.delete_memory(1);
	CHECK_EQ(base, vmpin_kb());
	CHECK_EQ(0, g.vm.set_region(1, SLOT1_GPA, size, mem));
	touch(g, SLOT1_GPA, pages);
	CHECK_EQ(base + charge_kb(pages), vmpin_kb());
	/* Moving a slot unpins it too; the guest pins it again at the new address. */
	CHECK_EQ(0, g.vm.set_region(1, MOVED_GPA, size, mem));
	CHECK_EQ(base, vmpin_kb());
	memset(mem, 0, size);
	touch(g, MOVED_GPA, pages);
	check_touched(mem, pages);
	CHECK_EQ(base + charge_kb(pages), vmpin_kb());
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
}

TEST(charge_stays_with_owner)
{
	/*
	 * A forked child holds the VM's fds and kvm_run mapping after the owner closed its
	 * own: the pins live on, charged to the owner's mm (the child's own mm is charged
	 * nothing), and are uncharged from the owner when the child's copies go.
	 */
	constexpr uint64_t pages = 16;
	CHECK_EQ(0L, vmpin_kb());
	Guest g(Mode::Long64, GUEST(guest_touch));
	g.vm.add_memory(1, SLOT1_GPA, pages * PAGE);
	touch(g, SLOT1_GPA, pages);
	const long owner = vmpin_kb();
	CHECK_MSG(owner >= charge_kb(pages), "VmPin %ld kB: expected at least %ld kB", owner,
		  charge_kb(pages));
	int to_child[2], to_parent[2];
	CHECK_OK(pipe(to_child));
	CHECK_OK(pipe(to_parent));
	pid_t pid = fork();
	CHECK_OK(pid);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		char c = vmpin_kb() == 0 ? 'y' : 'n';
		if (write(to_parent[1], &c, 1) != 1)
			_exit(2);
		if (read(to_child[0], &c, 1) < 0) /* until the owner closed its fds */
			_exit(3);
		_exit(0); /* its copies of the fds and of the mapping go: the VM goes */
	}
	close(to_child[0]);
	close(to_parent[1]);
	char c = 0;
	CHECK_EQ(1L, (long)read(to_parent[0], &c, 1));
	CHECK_MSG(c == 'y', "the forked child's own VmPin is not 0");
	close_guest(g);
	CHECK_EQ(owner, vmpin_kb());
	close(to_child[1]);
	int status = 0;
	CHECK_EQ((long)pid, (long)waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(0L, wait_vmpin(0));
}

/* A ramfs mount under /tmp with one file of `size` bytes; all gone at scope exit. */
struct RamfsFile {
	char dir[32] = "/tmp/pin_test.XXXXXX";
	std::string path;
	int fd = -1;
	bool mounted = false;
	explicit RamfsFile(size_t size)
	{
		CHECK_MSG(mkdtemp(dir), "mkdtemp: %s", tap::errno_name(errno).c_str());
		if (mount("pin_test", dir, "ramfs", 0, nullptr))
			SKIP("cannot mount ramfs: %s", tap::errno_name(errno).c_str());
		mounted = true;
		path = std::string(dir) + "/mem";
		fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		CHECK_MSG(fd >= 0, "open %s: %s", path.c_str(), tap::errno_name(errno).c_str());
		CHECK_OK(ftruncate(fd, size));
	}
	~RamfsFile()
	{
		if (fd >= 0)
			close(fd);
		if (!path.empty())
			unlink(path.c_str());
		if (mounted)
			umount2(dir, MNT_DETACH);
		rmdir(dir);
	}
	uint32_t read_u32(off_t off)
	{
		uint32_t v = 0;
		CHECK_EQ((long)sizeof(v), (long)pread(fd, &v, sizeof(v), off));
		return v;
	}
	void write_u32(off_t off, uint32_t v)
	{
		CHECK_EQ((long)sizeof(v), (long)pwrite(fd, &v, sizeof(v), off));
	}
};

TEST(file_shared_mapping_refused)
{
	/*
	 * A shared, writable mapping of a ramfs file. ramfs never writes back, but its
	 * mappings have the generic page_mkwrite, so 6.5+ GUP refuses a long-term writable
	 * pin (vma_needs_dirty_tracking), and dbgkvm refuses it on 6.1 by the same rule: what
	 * makes such pins unsafe on ext4 and friends (writeback cleaning a page the guest
	 * still writes through the pin) is the same check.
	 */
	need_root();
	const size_t size = 4 * PAGE;
	RamfsFile file(size);
	file.write_u32(0, 0x1234);
	void *shared = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0);
	CHECK_MSG(shared != MAP_FAILED, "mmap: %s", tap::errno_name(errno).c_str());
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	peek_poke(g, DATA_GPA, 0); /* pins what the guest itself needs */
	const long base = vmpin_kb();
	CHECK_EQ(0, g.vm.set_region(1, SLOT1_GPA, size, shared));
	if (is_kvm()) {
		/* KVM maps the page cache without a long-term pin. */
		CHECK_EQ(0x1234ull, peek_poke(g, SLOT1_GPA, 0x5678));
		CHECK_EQ(0x5678u, file.read_u32(4));
	} else {
		kvm_regs r = g.vcpu.regs();
		r.rip = CODE_GPA;
		r.rbx = SLOT1_GPA;
		r.rcx = 0x5678;
		g.vcpu.set_regs(r);
		int ret = g.vcpu.run_raw();
		CHECK_EQ(tap::errno_name(EFAULT), tap::errno_name(-ret));
		CHECK_EQ(base, vmpin_kb());
		CHECK_EQ(0u, file.read_u32(4));
	}
	g.vm.delete_memory(1);
	CHECK_EQ(base, vmpin_kb());
	/* A private mapping of the same file works: the write breaks COW, the file is unchanged. */
	const uint32_t before = file.read_u32(4);
	auto *priv = static_cast<uint8_t *>(
	    mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd, 0));
	CHECK_MSG(priv != MAP_FAILED, "mmap: %s", tap::errno_name(errno).c_str());
	CHECK_EQ(0, g.vm.set_region(1, SLOT1_GPA, size, priv));
	CHECK_EQ(0x1234ull, peek_poke(g, SLOT1_GPA, 0x9abc));
	CHECK_EQ(0x9abcu, u32_at(priv + 4));
	CHECK_EQ(before, file.read_u32(4));
	CHECK_EQ(base + charge_kb(1), vmpin_kb());
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
	munmap(priv, size);
	munmap(shared, size);
}

TEST(shmem_and_memfd_work)
{
	const size_t size = 16 * PAGE;
	int fd = memfd_create("pin_test", MFD_CLOEXEC);
	CHECK_MSG(fd >= 0, "memfd_create: %s", tap::errno_name(errno).c_str());
	CHECK_OK(ftruncate(fd, size));
	auto *memfd =
	    static_cast<uint8_t *>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	CHECK(memfd != MAP_FAILED);
	auto *shanon = static_cast<uint8_t *>(
	    mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	CHECK(shanon != MAP_FAILED);
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	peek_poke(g, DATA_GPA, 0);
	const long base = vmpin_kb();
	CHECK_EQ(0, g.vm.set_region(1, SLOT1_GPA, size, memfd));
	CHECK_EQ(0, g.vm.set_region(2, SLOT2_GPA, size, shanon));
	uint32_t v = 0x1111;
	CHECK_EQ((long)sizeof(v), (long)pwrite(fd, &v, sizeof(v), 3 * PAGE));
	CHECK_EQ(0x1111ull, peek_poke(g, SLOT1_GPA + 3 * PAGE, 0x2222));
	CHECK_EQ((long)sizeof(v), (long)pread(fd, &v, sizeof(v), 3 * PAGE + 4));
	CHECK_EQ(0x2222u, v);
	v = 0x3333;
	memcpy(shanon + 5 * PAGE, &v, sizeof(v));
	CHECK_EQ(0x3333ull, peek_poke(g, SLOT2_GPA + 5 * PAGE, 0x4444));
	CHECK_EQ(0x4444u, u32_at(shanon + 5 * PAGE + 4));
	CHECK_EQ(base + charge_kb(2), vmpin_kb());
	close_guest(g);
	CHECK_EQ(0L, wait_vmpin(0));
	munmap(memfd, size);
	munmap(shanon, size);
	close(fd);
}

/* Sets /proc/sys/vm/nr_hugepages for the test, puts the old value back at scope exit. */
struct HugepagesGuard {
	std::string old;
	bool changed = false;
	static std::string read()
	{
		char buf[32] = {};
		int fd = open("/proc/sys/vm/nr_hugepages", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return "";
		ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
		close(fd);
		return n > 0 ? std::string(buf, n) : "";
	}
	static bool write(const std::string &s)
	{
		int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		bool ok = ::write(fd, s.data(), s.size()) == (ssize_t)s.size();
		close(fd);
		return ok;
	}
	bool add_one()
	{
		old = read();
		if (old.empty() || geteuid() != 0)
			return false;
		changed = write(std::to_string(atol(old.c_str()) + 1));
		return changed;
	}
	~HugepagesGuard()
	{
		if (changed)
			write(old);
	}
};

TEST(hugetlb_works)
{
	constexpr size_t HUGE_SIZE = 2 << 20;
	int fd = memfd_create("pin_test_huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0)
		SKIP("memfd_create(MFD_HUGETLB): %s", tap::errno_name(errno).c_str());
	CHECK_OK(ftruncate(fd, HUGE_SIZE));
	HugepagesGuard guard;
	void *p = mmap(nullptr, HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED && guard.add_one())
		p = mmap(nullptr, HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		SKIP("no free 2 MiB huge page (mmap: %s)", tap::errno_name(errno).c_str());
	auto *mem = static_cast<uint8_t *>(p);
	{
		Guest g(Mode::Long64, GUEST(guest_peek_poke));
		peek_poke(g, DATA_GPA, 0);
		const long base = vmpin_kb();
		CHECK_EQ(0, g.vm.set_region(1, SLOT1_GPA, HUGE_SIZE, mem));
		uint32_t v = 0x5555;
		memcpy(mem + 7 * PAGE, &v, sizeof(v));
		CHECK_EQ(0x5555ull, peek_poke(g, SLOT1_GPA + 7 * PAGE, 0x6666));
		CHECK_EQ(0x6666u, u32_at(mem + 7 * PAGE + 4));
		/* Pinned and charged 4 KiB at a time, like any memory. */
		CHECK_EQ(base + charge_kb(1), vmpin_kb());
		close_guest(g);
		CHECK_EQ(0L, wait_vmpin(0));
	}
	munmap(mem, HUGE_SIZE);
	close(fd);
}
