// SPDX-License-Identifier: GPL-2.0
/*
 * vm_test: KVM_SET_USER_MEMORY_REGION and KVM_CREATE_VCPU on the VM fd.
 *
 * KVM's memory slot rules (virt/kvm/kvm_main.c __kvm_set_memory_region,
 * check_memory_region_flags, kvm_vm_ioctl_set_memory_region), in KVM's order:
 *  - unknown flags -> EINVAL (x86 knows LOG_DIRTY_PAGES and READONLY);
 *  - memory_size, guest_phys_addr, userspace_addr not page aligned -> EINVAL;
 *    userspace_addr..+size not a user range (access_ok) -> EINVAL;
 *  - slot id >= KVM_CAP_NR_MEMSLOTS, or address space (slot >> 16) unknown -> EINVAL;
 *  - guest_phys_addr + memory_size wraps -> EINVAL; more than 2^31-1 pages -> EINVAL;
 *  - memory_size 0 deletes; deleting a slot that does not exist -> EINVAL;
 *  - an existing slot: a new userspace_addr or size -> EINVAL (resizing is
 *    delete + create), a new guest_phys_addr is a move, same values -> 0;
 *  - a created or moved slot overlapping another slot's GPAs -> EEXIST;
 *  - a created or moved slot ending above the host's MAXPHYADDR -> EINVAL
 *    (kvm_arch_prepare_memory_region, kvm_mmu_max_gfn);
 *  - the ioctl argument unreadable -> EFAULT.
 * KVM_CREATE_VCPU (kvm_vm_ioctl_create_vcpu): id >= KVM_CAP_MAX_VCPU_ID ->
 * EINVAL; more than KVM_CAP_MAX_VCPUS vCPUs -> EINVAL; an id in use -> EEXIST.
 * KVM_GET_TSC_KHZ on the VM fd (the default for new vCPUs) and on a vCPU fd: the same
 * frequency, above 0. KVM_SET_TSS_ADDR (kvm_vm_ioctl_set_tss_addr): an address above
 * 4 GiB - 3 pages -> EINVAL. KVM_SET_IDENTITY_MAP_ADDR: once a vCPU exists -> EINVAL,
 * before the argument is read; an unreadable argument -> EFAULT.
 * KVM_ENABLE_CAP(KVM_CAP_MAX_VCPU_ID) (kvm_vm_ioctl_enable_cap): above the cap's value, with
 * flags, or a second, different value (the first vCPU fixes the default) -> EINVAL; the
 * same value again succeeds; then ids from it on -> EINVAL. A cap that cannot be
 * enabled -> EINVAL; an unreadable argument -> EFAULT.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <memory>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_peek_poke);

static constexpr uint64_t SLOT1_GPA = 0x400000;
static constexpr uint64_t SLOT1_SIZE = 0x10000;
static constexpr uint32_t BAD_FLAG = 1u << 7; /* not a KVM_MEM_* flag in any version */

static int set_region(Vm &vm, uint32_t slot, uint64_t gpa, uint64_t size, uint64_t hva,
		      uint32_t flags = 0)
{
	return vm.set_region(slot, gpa, size, reinterpret_cast<void *>(hva), flags);
}

#define CHECK_REGION(err, vm, ...)                                                                 \
	CHECK_EQ(tap::errno_name(err), tap::errno_name(-set_region(vm, __VA_ARGS__)))

TEST(add_and_delete)
{
	Vm vm;
	auto *mem = static_cast<uint8_t *>(alloc_host_mem(SLOT1_SIZE));
	uint64_t hva = (uint64_t)mem;
	CHECK_REGION(0, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva);
	/* The same region again changes nothing and succeeds. */
	CHECK_REGION(0, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva);
	CHECK_REGION(0, vm, 1, 0, 0, 0);		/* delete */
	CHECK_REGION(EINVAL, vm, 1, 0, 0, 0);		/* delete again: no such slot */
	CHECK_REGION(EINVAL, vm, 2, SLOT1_GPA, 0, hva); /* never created */
	/* The slot id is free again, and the GPA range too. */
	CHECK_REGION(0, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva);
	CHECK_REGION(0, vm, 3, SLOT1_GPA + SLOT1_SIZE, 0x1000, hva);
}

TEST(resize_and_remap_rejected)
{
	Vm vm;
	auto *mem = static_cast<uint8_t *>(alloc_host_mem(2 * SLOT1_SIZE));
	uint64_t hva = (uint64_t)mem;
	CHECK_REGION(0, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 2 * SLOT1_SIZE, hva);		/* grow */
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, SLOT1_SIZE / 2, hva);		/* shrink */
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva + SLOT1_SIZE);	/* new hva */
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA + 0x100000, 2 * SLOT1_SIZE, hva); /* move+grow */
	/* Resizing is delete + create. */
	CHECK_REGION(0, vm, 1, 0, 0, 0);
	CHECK_REGION(0, vm, 1, SLOT1_GPA, 2 * SLOT1_SIZE, hva);
}

TEST(overlap_eexist)
{
	Vm vm;
	auto *mem = static_cast<uint8_t *>(alloc_host_mem(0x400000));
	uint64_t hva = (uint64_t)mem;
	CHECK_REGION(0, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva);
	const struct {
		uint64_t gpa, size;
		const char *what;
	} cases[] = {
	    {SLOT1_GPA, SLOT1_SIZE, "same range"},
	    {SLOT1_GPA - 0x1000, 0x2000, "over the start"},
	    {SLOT1_GPA + SLOT1_SIZE - 0x1000, 0x2000, "over the end"},
	    {SLOT1_GPA + 0x4000, 0x1000, "inside"},
	    {SLOT1_GPA - 0x100000, 0x200000, "around"},
	};
	for (auto &c : cases) {
		int r = set_region(vm, 2, c.gpa, c.size, hva + SLOT1_SIZE);
		CHECK_MSG(r == -EEXIST, "%s (gpa 0x%llx size 0x%llx): expected EEXIST, got %s",
			  c.what, (unsigned long long)c.gpa, (unsigned long long)c.size,
			  tap::errno_name(-r).c_str());
	}
	/* Touching is not overlapping. */
	CHECK_REGION(0, vm, 2, SLOT1_GPA + SLOT1_SIZE, 0x1000, hva + SLOT1_SIZE);
	CHECK_REGION(0, vm, 3, SLOT1_GPA - 0x1000, 0x1000, hva + SLOT1_SIZE + 0x1000);
	/* Moving a slot onto another slot's range overlaps too. */
	CHECK_REGION(EEXIST, vm, 2, SLOT1_GPA + 0x8000, 0x1000, hva + SLOT1_SIZE);
	/* Two slots may share host memory (KVM allows aliases). */
	CHECK_REGION(0, vm, 4, 0x800000, SLOT1_SIZE, hva);
}

TEST(misaligned_einval)
{
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(2 * SLOT1_SIZE);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA + 0x800, SLOT1_SIZE, hva);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, SLOT1_SIZE + 0x800, hva);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, SLOT1_SIZE, hva + 0x800);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA + 1, SLOT1_SIZE, hva);
}

TEST(slot_id_range)
{
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(3 * 0x1000);
	long nr = check_extension(vm.dev_fd(), KVM_CAP_NR_MEMSLOTS);
	CHECK_REGION(0, vm, nr - 1, 0x100000, 0x1000, hva);
	CHECK_REGION(EINVAL, vm, nr, 0x200000, 0x1000, hva + 0x1000);
	CHECK_REGION(EINVAL, vm, 0xffff, 0x200000, 0x1000, hva + 0x1000);
	/* Bits 31:16 select the address space: x86 has at most 2 (SMM). */
	CHECK_REGION(EINVAL, vm, 2u << 16, 0x200000, 0x1000, hva + 0x1000);
	CHECK_REGION(EINVAL, vm, 0xffffffffu, 0x200000, 0x1000, hva + 0x1000);
}

TEST(bad_flags_einval)
{
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(0x1000);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0x1000, hva, BAD_FLAG);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0x1000, hva, 0x80000000u);
}

TEST(bad_ranges_einval)
{
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(0x1000);
	/* GPA + size wraps around. */
	CHECK_REGION(EINVAL, vm, 1, 0xfffffffffffff000ull, 0x2000, hva);
	/* More than KVM_MEM_MAX_NR_PAGES (2^31 - 1) pages (also beyond the user range). */
	CHECK_REGION(EINVAL, vm, 1, 0, 1ull << 43, 0x10000000);
	/* Host range not in user space (access_ok). */
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0x1000, (uint64_t)kernel_ptr());
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0x1000, 0x8000000000000000ull);
}

/* The host's physical address width: /proc/cpuinfo's "address sizes : N bits physical". */
static unsigned host_phys_bits()
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	CHECK_MSG(f, "/proc/cpuinfo: %s", strerror(errno));
	char line[256];
	unsigned bits = 0;
	while (!bits && fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &bits) != 1)
			bits = 0;
	fclose(f);
	CHECK_MSG(bits >= 32 && bits <= 52, "no address sizes line in /proc/cpuinfo");
	return bits;
}

TEST(slot_beyond_maxphyaddr_einval)
{
	/*
	 * Found by fuzz_test (seed 0x2, compare): dbgkvm accepted a slot at GPA 2^63, which
	 * nested paging cannot map; KVM refuses a slot that ends above 2^MAXPHYADDR.
	 */
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(0x2000);
	const uint64_t top = 1ull << host_phys_bits();
	CHECK_REGION(EINVAL, vm, 1, top - 0x1000, 0x2000, hva);
	CHECK_REGION(EINVAL, vm, 1, top, 0x1000, hva);
	CHECK_REGION(EINVAL, vm, 1, 1ull << 63, 0x1000, hva);
	/* Ending exactly at 2^MAXPHYADDR is fine; moving it beyond is not. */
	CHECK_REGION(0, vm, 1, top - 0x2000, 0x2000, hva);
	CHECK_REGION(EINVAL, vm, 1, top - 0x1000, 0x2000, hva);
	CHECK_REGION(0, vm, 1, SLOT1_GPA, 0x2000, hva);
}

TEST(delete_with_kernel_address_einval)
{
	/*
	 * KVM checks access_ok() of userspace_addr for every call, a deletion (size 0) too.
	 * Found by fuzz_test (seed 0x2, compare): dbgkvm deleted the slot.
	 */
	Vm vm;
	uint64_t hva = (uint64_t)alloc_host_mem(0x1000);
	CHECK_REGION(0, vm, 1, SLOT1_GPA, 0x1000, hva);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0, (uint64_t)kernel_ptr());
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0, 0x8000000000000000ull);
	/* Still there: adding it again is a no-op, deleting it works. */
	CHECK_REGION(0, vm, 1, SLOT1_GPA, 0x1000, hva);
	CHECK_REGION(0, vm, 1, SLOT1_GPA, 0, 0);
	CHECK_REGION(EINVAL, vm, 1, SLOT1_GPA, 0, 0);
}

TEST(bad_argument_pointer_efault)
{
	Vm vm;
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_SET_USER_MEMORY_REGION, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_SET_USER_MEMORY_REGION, kernel_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_SET_USER_MEMORY_REGION, nullptr));
}

/*
 * KVM_SET_USER_MEMORY_REGION2 (KVM 6.8 on; KVM_CAP_USER_MEMORY2): the same slot rules
 * with a larger struct. A guest_memfd (KVM_MEM_GUEST_MEMFD) needs a VM type with private
 * memory: -EINVAL on the default type, in KVM and dbgkvm.
 */
TEST(user_memory_region2)
{
	Vm vm0;
	if (!check_extension(vm0.fd(), KVM_CAP_USER_MEMORY2)) {
		CHECK(is_kvm());
		SKIP("this kernel's KVM predates KVM_SET_USER_MEMORY_REGION2");
	}
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	auto *mem = static_cast<uint8_t *>(alloc_host_mem(SLOT1_SIZE));
	kvm_userspace_memory_region2 r{};
	r.slot = 1;
	r.guest_phys_addr = SLOT1_GPA;
	r.memory_size = SLOT1_SIZE;
	r.userspace_addr = reinterpret_cast<uint64_t>(mem);
	r.flags = KVM_MEM_GUEST_MEMFD;
	CHECK_ERRNO(EINVAL, ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, &r));
	r.flags = BAD_FLAG;
	CHECK_ERRNO(EINVAL, ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, &r));
	r.flags = 0;
	CHECK_OK(ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, &r));
	reinterpret_cast<volatile uint32_t *>(mem)[0] = 0x1234;
	CHECK_EQ(0x1234ull, peek_poke(g, SLOT1_GPA, 0xaaaa));
	CHECK_EQ(0xaaaau, reinterpret_cast<volatile uint32_t *>(mem)[1]);
	/* the v1 call sees the slot: an overlap */
	CHECK_REGION(EEXIST, g.vm, 2, SLOT1_GPA, 0x1000, reinterpret_cast<uint64_t>(mem));
	/* the whole struct is read: one that runs into an unmapped page is EFAULT */
	auto *pages = static_cast<uint8_t *>(
	    mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK(pages != MAP_FAILED);
	CHECK_OK(mprotect(pages + 4096, 4096, PROT_NONE));
	uint8_t *edge = pages + 4096 - sizeof(kvm_userspace_memory_region);
	memcpy(edge, &r, sizeof(kvm_userspace_memory_region));
	CHECK_ERRNO(EFAULT, ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, edge));
	CHECK_OK(ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION, edge)); /* v1: the same slot */
	munmap(pages, 8192);
	CHECK_ERRNO(EFAULT, ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, bad_user_ptr()));
	/* deleted through v2 */
	r.memory_size = 0;
	CHECK_OK(ioctl(g.vm.fd(), KVM_SET_USER_MEMORY_REGION2, &r));
	CHECK_REGION(0, g.vm, 2, SLOT1_GPA, 0x1000, reinterpret_cast<uint64_t>(mem));
}

TEST(host_guest_share_memory)
{
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	auto *mem = g.vm.add_memory(1, SLOT1_GPA, SLOT1_SIZE);
	auto *words = reinterpret_cast<volatile uint32_t *>(mem);
	words[0] = 0x1234;
	CHECK_EQ(0x1234ull, peek_poke(g, SLOT1_GPA, 0xaaaa));
	CHECK_EQ(0xaaaau, (uint32_t)words[1]);
	/* The host changes memory between runs: the guest sees the new value. */
	words[0] = 0x5678;
	CHECK_EQ(0x5678ull, peek_poke(g, SLOT1_GPA, 0xbbbb));
	CHECK_EQ(0xbbbbu, (uint32_t)words[1]);
}

TEST(move_slot)
{
	/* KVM: a new guest_phys_addr for an existing slot (same size and hva) is a move. */
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	auto *mem = g.vm.add_memory(1, SLOT1_GPA, SLOT1_SIZE);
	auto *words = reinterpret_cast<volatile uint32_t *>(mem);
	words[0] = 0x1234;
	CHECK_EQ(0x1234ull, peek_poke(g, SLOT1_GPA, 0xaaaa)); /* maps it in the guest */

	const uint64_t moved = 0x800000;
	CHECK_REGION(0, g.vm, 1, moved, SLOT1_SIZE, (uint64_t)mem);
	words[0] = 0x4321;
	CHECK_EQ(0x4321ull, peek_poke(g, moved, 0xcccc));
	CHECK_EQ(0xccccu, (uint32_t)words[1]);

	/* The old GPA has no memory now: the same access is MMIO. */
	kvm_regs r = g.vcpu.regs();
	r.rbx = SLOT1_GPA;
	r.rcx = 0xdddd;
	g.vcpu.set_regs(r);
	g.vcpu.expect_mmio_read(SLOT1_GPA, 4, 0x7777);
	CHECK_EQ(0x7777ull, g.vcpu.expect_out(PORT_REPORT, 4));
	CHECK_EQ(0xddddull, g.vcpu.expect_mmio_write(SLOT1_GPA + 4, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0xccccu, (uint32_t)words[1]);
}

TEST(delete_slot_becomes_mmio)
{
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	auto *mem = g.vm.add_memory(1, SLOT1_GPA, SLOT1_SIZE);
	reinterpret_cast<volatile uint32_t *>(mem)[0] = 0x1111;
	CHECK_EQ(0x1111ull, peek_poke(g, SLOT1_GPA, 0));
	g.vm.delete_memory(1);
	kvm_regs r = g.vcpu.regs();
	r.rbx = SLOT1_GPA;
	g.vcpu.set_regs(r);
	g.vcpu.expect_mmio_read(SLOT1_GPA, 4, 0x2222);
	CHECK_EQ(0x2222ull, g.vcpu.expect_out(PORT_REPORT, 4));
}

TEST(unbacked_host_memory_efault)
{
	/*
	 * KVM accepts a slot whose host range is not mapped (it only checks
	 * access_ok); the guest's access then fails KVM_RUN with EFAULT
	 * (kvm_handle_error_pfn).
	 */
	if (is_pvm_host())
		SKIP("host KVM is PVM: it reports an unbacked slot as KVM_EXIT_MMIO");
	Guest g(Mode::Long64, GUEST(guest_peek_poke));
	void *hole = alloc_host_mem(SLOT1_SIZE);
	munmap(hole, SLOT1_SIZE);
	CHECK_REGION(0, g.vm, 1, SLOT1_GPA, SLOT1_SIZE, (uint64_t)hole);
	kvm_regs r = g.vcpu.regs();
	r.rbx = SLOT1_GPA;
	g.vcpu.set_regs(r);
	int ret = g.vcpu.run_raw();
	if (ret != -EFAULT)
		FAIL("KVM_RUN: expected -1/EFAULT, got %s%s", tap::errno_name(-ret).c_str(),
		     ret ? "" : (" with " + g.vcpu.describe_exit()).c_str());
}

TEST(create_vcpu_ids)
{
	Vm vm;
	long max_id = check_extension(vm.dev_fd(), KVM_CAP_MAX_VCPU_ID);
	int fd0 = CHECK_OK(ioctl(vm.fd(), KVM_CREATE_VCPU, 0));
	CHECK_ERRNO(EEXIST, ioctl(vm.fd(), KVM_CREATE_VCPU, 0));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_CREATE_VCPU, max_id));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_CREATE_VCPU, 0xffffffffUL));
	int fd_last = CHECK_OK(ioctl(vm.fd(), KVM_CREATE_VCPU, max_id - 1));
	CHECK_ERRNO(EEXIST, ioctl(vm.fd(), KVM_CREATE_VCPU, max_id - 1));
	close(fd0);
	close(fd_last);
}

TEST(create_vcpu_max_count)
{
	Vm vm;
	long max = check_extension(vm.dev_fd(), KVM_CAP_MAX_VCPUS);
	long max_id = check_extension(vm.dev_fd(), KVM_CAP_MAX_VCPU_ID);
	if (max > 64)
		SKIP("KVM_CAP_MAX_VCPUS is %ld: too many vCPUs to create here", max);
	std::vector<int> fds;
	/* Failed creations (duplicates) must not use up the count. */
	fds.push_back(CHECK_OK(ioctl(vm.fd(), KVM_CREATE_VCPU, 0)));
	for (int i = 0; i < 3; i++)
		CHECK_ERRNO(EEXIST, ioctl(vm.fd(), KVM_CREATE_VCPU, 0));
	for (long id = 1; id < max; id++)
		fds.push_back(CHECK_OK(ioctl(vm.fd(), KVM_CREATE_VCPU, id)));
	if (max < max_id)
		CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_CREATE_VCPU, max));
	for (int fd : fds)
		close(fd);
}

TEST(tsc_khz_vm_and_vcpu_agree)
{
	Vm vm;
	long vm_khz = ioctl(vm.fd(), KVM_GET_TSC_KHZ, 0);
	CHECK_MSG(vm_khz > 0, "KVM_GET_TSC_KHZ on the VM fd: %ld (errno %d)", vm_khz, errno);
	Vcpu vcpu(vm);
	CHECK_EQ(vm_khz, (long)ioctl(vcpu.fd(), KVM_GET_TSC_KHZ, 0));
}

TEST(set_tss_addr_below_4g_minus_3_pages)
{
	Vm vm;
	const unsigned long last = 0x100000000ul - 3 * 0x1000;
	CHECK_OK(ioctl(vm.fd(), KVM_SET_TSS_ADDR, 0xfffbd000ul));
	CHECK_OK(ioctl(vm.fd(), KVM_SET_TSS_ADDR, last));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_SET_TSS_ADDR, last + 1));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_SET_TSS_ADDR, 0x100000000ul));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_SET_TSS_ADDR, ~0ul));
}

TEST(set_identity_map_addr_only_before_vcpus)
{
	Vm vm;
	uint64_t addr = 0xfeffc000;
	CHECK_OK(ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, &addr));
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, kernel_ptr()));
	Vcpu vcpu(vm);
	/* KVM checks for vCPUs before it reads the argument. */
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, &addr));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, bad_user_ptr()));
}

static long enable_cap(int vm_fd, uint32_t cap, uint64_t arg0, uint32_t flags = 0)
{
	kvm_enable_cap c = {};
	c.cap = cap;
	c.flags = flags;
	c.args[0] = arg0;
	return ioctl(vm_fd, KVM_ENABLE_CAP, &c);
}

TEST(enable_cap_max_vcpu_id_once)
{
	Vm vm;
	const long max_id = check_extension(vm.fd(), KVM_CAP_MAX_VCPU_ID);
	CHECK_EQ(1L, check_extension(vm.fd(), KVM_CAP_ENABLE_CAP_VM));
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, max_id + 1));
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 2, 1));
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_USER_MEMORY, 1));
	CHECK_ERRNO(EFAULT, ioctl(vm.fd(), KVM_ENABLE_CAP, bad_user_ptr()));
	CHECK_OK(enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 2));
	CHECK_OK(enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 2));
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 3));
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 1));
	/* the cap still says what KVM can do, not this VM's limit */
	CHECK_EQ(max_id, check_extension(vm.fd(), KVM_CAP_MAX_VCPU_ID));
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_CREATE_VCPU, 2ul));
	const int fd = ioctl(vm.fd(), KVM_CREATE_VCPU, 1ul);
	CHECK_MSG(fd >= 0, "KVM_CREATE_VCPU 1: %s", tap::errno_name(errno).c_str());
	close(fd);
}

TEST(enable_cap_max_vcpu_id_fixed_by_first_vcpu)
{
	Vm vm;
	const long max_id = check_extension(vm.fd(), KVM_CAP_MAX_VCPU_ID);
	Vcpu vcpu(vm, 0);
	CHECK_ERRNO(EINVAL, enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, 2));
	CHECK_OK(enable_cap(vm.fd(), KVM_CAP_MAX_VCPU_ID, max_id));
}

TEST(vcpus_run_independently)
{
	/* Two vCPUs of one VM, each with its own registers, share the memory. */
	Vm vm;
	Vcpu a(vm, 0), b(vm, 1);
	setup_guest(vm, a, Mode::Long64, GUEST(guest_peek_poke));
	setup_guest(vm, b, Mode::Long64, GUEST(guest_peek_poke));
	vm.at<uint32_t>(DATA_GPA) = 0x99;
	for (Vcpu *v : {&a, &b}) {
		kvm_regs r = v->regs();
		r.rbx = DATA_GPA;
		r.rcx = v == &a ? 0xa : 0xb;
		v->set_regs(r);
	}
	CHECK_EQ(0x99ull, a.expect_out(PORT_REPORT, 4));
	CHECK_EQ(0x99ull, b.expect_out(PORT_REPORT, 4));
	a.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0xau, vm.at<uint32_t>(DATA_GPA + 4));
	b.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ(0xbu, vm.at<uint32_t>(DATA_GPA + 4));
}
