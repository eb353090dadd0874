// SPDX-License-Identifier: GPL-2.0
#include "ioctl_gen.h"

#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>

namespace fz
{

namespace
{

/* A RW page followed by a PROT_NONE page, and a read-only page. */
struct Edges {
	uint8_t *rw_then_none;
	uint8_t *read_only;
	Edges()
	{
		void *p = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			FAIL("mmap: %s", strerror(errno));
		rw_then_none = static_cast<uint8_t *>(p);
		mprotect(rw_then_none + 4096, 4096, PROT_NONE);
		read_only = rw_then_none + 2 * 4096;
		mprotect(read_only, 4096, PROT_READ);
	}
};

Edges &edges()
{
	static Edges e;
	return e;
}

/* x86 KVM's ioctl numbers leave these KVMIO numbers unused (uapi 6.12's <linux/kvm.h>). */
const uint8_t FREE_NR[] = {0x07, 0x08, 0x0b, 0x10, 0x20, 0x3f, 0x43, 0x4a, 0x4f,
			   0x53, 0x5f, 0x69, 0x6b, 0x70, 0x72, 0x75, 0x7d, 0x7f,
			   0x87, 0xd3, 0xd6, 0xdf, 0xe4, 0xf0, 0xfe, 0xff};
/* ioctl types the VFS does not answer for every file (not 'T', 'X', 'f', 0x94, 0x12). */
const uint8_t FOREIGN_TYPE[] = {'V', 'U', 'E', 'Q', 0xaf, 0x3b, 'k', 'm'};

struct Hdr8 {
	uint32_t n, pad;
};

const Unimplemented UNIMPLEMENTED[] = {
    {_IOWR(KVMIO, 0xc1, Hdr8), "KVM_GET_SUPPORTED_HV_CPUID (system)", 0, 8},
    {KVM_GET_DEVICE_ATTR, "KVM_GET_DEVICE_ATTR (system)", 0, sizeof(kvm_device_attr)},
    {_IOWR(KVMIO, 0x09, Hdr8), "KVM_GET_EMULATED_CPUID", 0, 8},
    {_IOR(KVMIO, 0x9d, uint64_t), "KVM_X86_GET_MCE_CAP_SUPPORTED", 0, 8},
    {KVM_GET_CLOCK, "KVM_GET_CLOCK", 1, sizeof(kvm_clock_data)},
    {KVM_GET_PIT2, "KVM_GET_PIT2", 1, sizeof(kvm_pit_state2)},
    {KVM_GET_DIRTY_LOG, "KVM_GET_DIRTY_LOG", 1, sizeof(kvm_dirty_log)},
    {_IOWR(KVMIO, 0xb0, Hdr8), "KVM_GET_REG_LIST", 2, 8},
    {KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", 1, sizeof(kvm_irqchip)},
    {KVM_GET_ONE_REG, "KVM_GET_ONE_REG", 2, sizeof(kvm_one_reg)},
    {KVM_GET_LAPIC, "KVM_GET_LAPIC", 2, sizeof(kvm_lapic_state)},
    {KVM_GET_SREGS2, "KVM_GET_SREGS2", 2, sizeof(kvm_sregs2)},
    {_IOR(KVMIO, 0xcf, kt::xsave_legacy), "KVM_GET_XSAVE2", 2, sizeof(kt::xsave_legacy)},
    {KVM_TRANSLATE, "KVM_TRANSLATE", 2, sizeof(kvm_translation)},
    {_IOWR(KVMIO, 0xc1, Hdr8), "KVM_GET_SUPPORTED_HV_CPUID", 2, 8},
    {KVM_GET_NESTED_STATE, "KVM_GET_NESTED_STATE", 2, sizeof(kvm_nested_state)},
};

/* x86-64's TASK_SIZE_MAX with 4-level and with 5-level paging (LA57: QEMU's -cpu max). */
constexpr uint64_t TASK_SIZE_4L = 0x7ffffffff000ull;
constexpr uint64_t TASK_SIZE_5L = 0xfffffffffff000ull;

} // namespace

void *bad_pointer(Rng &r, size_t size, bool written, const char **kind)
{
	switch (r.below(written ? 8 : 7)) {
	case 0:
		*kind = "NULL";
		return nullptr;
	case 1:
		*kind = "kernel address";
		return reinterpret_cast<void *>(
		    r.pick({0xffff888000000000ull, 0xffffffff81000000ull, 0xfffffffffffff000ull}));
	case 2:
		*kind = "PROT_NONE page";
		return static_cast<uint8_t *>(kt::bad_user_ptr()) + r.below(64);
	case 3:
		*kind = "non-canonical";
		return reinterpret_cast<void *>(
		    r.pick({0x0000800000000000ull, 0x8000000000000000ull, 0xdead000000000000ull}));
	case 4:
		*kind = "unmapped (below mmap_min_addr)";
		return reinterpret_cast<void *>(0x1000 + r.below(0x1000));
	case 5:
	case 6: {
		*kind = "buffer running into a PROT_NONE page";
		const size_t k = size > 1 ? r.range(1, size - 1) : 0;
		return edges().rw_then_none + 4096 - k;
	}
	default:
		*kind = "read-only page";
		return edges().read_only;
	}
}

unsigned long unknown_ioctl(Rng &r)
{
	const unsigned dir = unsigned(r.below(4));
	const unsigned size = unsigned(r.chance(1, 2) ? r.below(64) : r.below(1 << 14));
	if (r.chance(3, 4))
		return _IOC(dir, KVMIO, r.pick(FREE_NR), size);
	return _IOC(dir, r.pick(FOREIGN_TYPE), r.below(256), size);
}

const Unimplemented &unimplemented_ioctl(Rng &r)
{
	return r.pick(UNIMPLEMENTED);
}

bool Expect::allows(long ret, int err) const
{
	if (ret >= 0)
		return ok;
	for (int e : errs)
		if (e && e == err)
			return true;
	return false;
}

std::string Expect::describe() const
{
	std::string s = ok ? "success" : "";
	for (int e : errs)
		if (e)
			s += (s.empty() ? "-1/" : " or -1/") + err_name(e);
	return s + " (" + rule + ")";
}

HostPool &HostPool::get()
{
	static HostPool p = [] {
		HostPool h;
		h.pages = 512;
		void *m = mmap(nullptr, (h.pages + 16) * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			FAIL("mmap: %s", strerror(errno));
		h.base = static_cast<uint8_t *>(m);
		mprotect(h.base + h.pages * 4096, 16 * 4096, PROT_NONE);
		return h;
	}();
	return p;
}

SlotModel::SlotModel(const Device &d) : d_(d)
{
	/* The host's MAXPHYADDR: "address sizes : N bits physical" in /proc/cpuinfo. */
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &phys_bits_) == 1)
			break;
	if (f)
		fclose(f);
	CHECK_MSG(phys_bits_ >= 32 && phys_bits_ <= 52, "no address sizes in /proc/cpuinfo");
	const long as = ioctl(d.fd, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE);
	address_spaces_ = as > 1 ? unsigned(as) : 1;
}

kvm_userspace_memory_region SlotModel::generate(Rng &r) const
{
	HostPool &pool = HostPool::get();
	kvm_userspace_memory_region m = {};
	switch (r.below(12)) {
	case 0: /* at and beyond the limits (dbgkvm 32, KVM 32764), other address spaces:
		 * fixed numbers, so that both devices are asked the same */
		m.slot =
		    uint32_t(r.pick<uint64_t>({31, 32, 33, 32763, 32764, 0xffff, 0x10000, 0x10001,
					       0x7fff0000, 0xffffffff, uint64_t(r.u32())}));
		break;
	default:
		m.slot = uint32_t(r.below(8));
		break;
	}
	/* Slot k's own host range and size: an existing slot is moved, not resized. */
	const uint64_t k = m.slot % 8;
	m.userspace_addr = reinterpret_cast<uint64_t>(pool.base) + k * 32 * 4096;
	m.memory_size = (k % 4 + 1) * 4096;
	m.guest_phys_addr = r.below(64) * 4096;
	if (r.chance(1, 6))
		m.flags = uint32_t(r.chance(1, 2) ? r.below(4) : r.interesting64());
	switch (r.below(16)) {
	case 0:
	case 1:
		m.memory_size = 0; /* delete */
		if (r.coin())
			m.userspace_addr = r.pick({0ull, 0xffff888000000000ull});
		break;
	case 2: /* misaligned */
		m.guest_phys_addr += r.range(1, 4095);
		break;
	case 3:
		m.memory_size += r.range(1, 4095);
		break;
	case 4:
		m.userspace_addr += r.range(1, 4095);
		break;
	case 5: /* sizes at and beyond the limits, or another size for the slot */
		m.memory_size =
		    r.pick<uint64_t>({1ull << 34, (1ull << 34) + 4096, 1ull << 43, 1ull << 62,
				      ~0xfffull, 0x8000000000000000ull, m.memory_size + 4096});
		break;
	case 6: /* GPAs that wrap, or beyond any MAXPHYADDR */
		m.guest_phys_addr = r.pick<uint64_t>(
		    {~0xfffull, 1ull << 52, 1ull << 63, 0x10000000ull - 4096, 1ull << 40});
		break;
	case 7: /* host addresses that are not the caller's, or another one for the slot */
		m.userspace_addr = r.pick<uint64_t>({0ull, 0xffff888000000000ull, 0x7ffffffff000ull,
						     0x7fffffffe000ull, 0x0000800000000000ull,
						     m.userspace_addr + 4096});
		break;
	case 8: /* unbacked (PROT_NONE) host memory: accepted, fails only when used */
		m.userspace_addr = reinterpret_cast<uint64_t>(pool.base) + pool.pages * 4096;
		break;
	default:
		break;
	}
	return m;
}

std::string SlotModel::uaddr_kind(uint64_t uaddr) const
{
	HostPool &pool = HostPool::get();
	const uint64_t b = reinterpret_cast<uint64_t>(pool.base);
	if (uaddr >= b && uaddr < b + (pool.pages + 16) * 4096)
		return tap::format("pool+0x%llx", (unsigned long long)(uaddr - b));
	return tap::format("0x%llx", (unsigned long long)uaddr);
}

bool SlotModel::overlaps(const kvm_userspace_memory_region &m) const
{
	const uint64_t end = m.guest_phys_addr + m.memory_size;
	for (const auto &[id, s] : slots_) {
		if (id == m.slot || (id >> 16) != (m.slot >> 16))
			continue;
		if (m.guest_phys_addr < s.guest_phys_addr + s.memory_size &&
		    s.guest_phys_addr < end)
			return true;
	}
	return false;
}

Expect SlotModel::expect(const kvm_userspace_memory_region &m) const
{
	/* The order of KVM's __kvm_set_memory_region(); every rule gives EINVAL but overlap. */
	const uint32_t valid_flags = d_.kvm ? KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY : 0;
	if (m.flags & ~valid_flags)
		return Expect::error(EINVAL, "unknown or unsupported flags");
	if ((m.memory_size | m.guest_phys_addr | m.userspace_addr) & 4095)
		return Expect::error(EINVAL, "size, GPA or host address not page-aligned");
	/*
	 * access_ok() of the host range, for every call (a deletion too). Whether a range
	 * that ends between the 4-level and the 5-level TASK_SIZE_MAX is user space depends on
	 * the paging the kernel runs with: either answer there.
	 */
	const uint64_t sum = m.userspace_addr + m.memory_size;
	if (sum < m.userspace_addr || sum > TASK_SIZE_5L)
		return Expect::error(EINVAL, "host range not in user space");
	const bool edge = sum >= TASK_SIZE_4L;
	Expect e = expect_rest(m);
	if (edge && !e.errs[0])
		e.errs[0] = EINVAL;
	else if (edge && e.errs[0] != EINVAL)
		e.errs[1] = EINVAL;
	return e;
}

Expect SlotModel::expect_rest(const kvm_userspace_memory_region &m) const
{
	if ((m.slot >> 16) >= address_spaces_ || (m.slot & 0xffff) >= uint64_t(d_.nr_memslots))
		return Expect::error(EINVAL, "slot id beyond KVM_CAP_NR_MEMSLOTS / address spaces");
	if (m.guest_phys_addr + m.memory_size < m.guest_phys_addr)
		return Expect::error(EINVAL, "GPA range wraps");
	const uint64_t max_pages = d_.kvm ? (1ull << 31) - 1 : 1ull << 22;
	if (m.memory_size / 4096 > max_pages)
		return Expect::error(EINVAL, "more pages than a slot may have");
	auto it = slots_.find(m.slot);
	if (!m.memory_size)
		return it == slots_.end()
			   ? Expect::error(EINVAL, "deleting a slot that does not exist")
			   : Expect::success("delete");
	if (it != slots_.end()) {
		const auto &o = it->second;
		if (m.userspace_addr != o.userspace_addr || m.memory_size != o.memory_size)
			return Expect::error(EINVAL,
					     "an existing slot changes size or host address");
		if (d_.kvm ? ((m.flags ^ o.flags) & KVM_MEM_READONLY) : m.flags != o.flags)
			return Expect::error(EINVAL, "an existing slot changes read-only");
		if (m.guest_phys_addr == o.guest_phys_addr)
			return Expect::success("no change, or flags only");
	}
	if (overlaps(m))
		return Expect::error(EEXIST, "overlaps another slot");
	/* Beyond the host's physical address width (kvm_mmu_max_gfn()), after the overlap. */
	if (m.guest_phys_addr + m.memory_size > (1ull << phys_bits_))
		return Expect::error(EINVAL, "slot ends above 2^MAXPHYADDR");
	if (d_.kvm && m.memory_size > (1ull << 32))
		return Expect::either(ENOMEM, "KVM's metadata for a huge slot");
	return Expect::success(it == slots_.end() ? "create" : "move");
}

void SlotModel::apply(const kvm_userspace_memory_region &m)
{
	if (!m.memory_size)
		slots_.erase(m.slot);
	else
		slots_[m.slot] = m;
}

SregsCase random_sregs(Rng &r, const kvm_sregs &current)
{
	SregsCase c{current, false, "valid mode"};
	const kt::Mode m = r.pick({kt::Mode::Real, kt::Mode::Prot32, kt::Mode::Long64});
	if (m == kt::Mode::Real) {
		/* sregs_for_mode() keeps CR0/CR4/EFER and the attributes: start from reset's */
		c.s.cr0 = 0x60000010;
		c.s.cr4 = 0;
		c.s.efer = 0;
		for (kvm_segment *s : {&c.s.cs, &c.s.ds, &c.s.es, &c.s.fs, &c.s.gs, &c.s.ss}) {
			*s = kvm_segment{};
			s->limit = 0xffff;
			s->type = s == &c.s.cs ? 0xb : 0x3;
			s->present = 1;
			s->s = 1;
		}
	}
	kt::sregs_for_mode(c.s, m);
	/* kvm_is_valid_sregs() and kvm_is_valid_cr0/cr4(): these must be rejected. */
	switch (r.below(14)) {
	case 0:
		c.s.cr0 |= 1ull << r.range(32, 63);
		c.what = "CR0 bits 63:32";
		c.must_fail = true;
		break;
	case 1:
		c.s.cr0 = (c.s.cr0 | (1ull << 29)) & ~(1ull << 30);
		c.what = "CR0.NW without CD";
		c.must_fail = true;
		break;
	case 2:
		c.s.cr0 = (c.s.cr0 | (1ull << 31)) & ~1ull;
		c.s.efer = 0;
		c.s.cr4 = 0;
		c.s.cs.l = 0;
		c.what = "CR0.PG without PE";
		c.must_fail = true;
		break;
	case 3:
		c.s.cr4 |= 1ull << r.pick({63u, 40u, 32u, 31u, 26u});
		c.what = "reserved CR4 bit";
		c.must_fail = true;
		break;
	case 4:
		if (m == kt::Mode::Long64) {
			c.s.cr4 &= ~(1ull << 5);
			c.what = "long mode without CR4.PAE";
			c.must_fail = true;
		}
		break;
	case 5:
		c.s.efer |= 1ull << 10;
		c.s.efer &= ~(1ull << 8);
		c.what = "EFER.LMA without LME";
		c.must_fail = true;
		break;
	case 6:
		if (m != kt::Mode::Long64) {
			c.s.cs.l = 1;
			c.what = "CS.L outside long mode";
			c.must_fail = true;
		}
		break;
	case 7:
		if (m == kt::Mode::Long64) {
			c.s.cr3 |= 1ull << r.range(52, 63);
			c.what = "CR3 beyond MAXPHYADDR in long mode";
			c.must_fail = true;
		}
		break;
	case 8: /* random segments: any answer, but the state must stay coherent */
		for (kvm_segment *s : {&c.s.cs, &c.s.ds, &c.s.ss, &c.s.tr, &c.s.ldt}) {
			if (r.coin())
				continue;
			s->type = uint8_t(r.below(16));
			s->present = uint8_t(r.below(2));
			s->dpl = uint8_t(r.below(4));
			s->db = uint8_t(r.below(2));
			s->s = uint8_t(r.below(2));
			s->g = uint8_t(r.below(2));
			s->avl = uint8_t(r.below(2));
			s->unusable = uint8_t(r.below(2));
			s->base = r.interesting64();
			s->limit = r.u32();
			s->selector = uint16_t(r.below(0x10000));
		}
		c.what = "random segment attributes";
		break;
	case 9:
		c.s.efer ^= 1ull << r.below(64);
		c.what = "one EFER bit flipped";
		break;
	case 10:
		c.s.cr4 ^= 1ull << r.below(25);
		c.what = "one low CR4 bit flipped";
		break;
	case 11:
		c.s.apic_base = r.coin() ? r.interesting64() : 0xfee00000 | (r.below(8) << 9);
		c.s.cr8 = r.coin() ? r.below(16) : r.interesting64();
		c.what = "APIC base and CR8";
		break;
	case 12:
		c.s.cr2 = r.interesting64();
		c.s.gdt.base = r.interesting64();
		c.s.idt.limit = uint16_t(r.below(0x10000));
		c.what = "CR2, GDT and IDT";
		break;
	default:
		break;
	}
	return c;
}

} // namespace fz
