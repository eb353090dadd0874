// SPDX-License-Identifier: GPL-2.0
/*
 * msr_test: KVM_GET_MSR_INDEX_LIST, KVM_GET_MSR_FEATURE_INDEX_LIST, KVM_GET_MSRS and
 * KVM_SET_MSRS (vCPU and system fd), and the guest's RDMSR/WRMSR of the same MSRs.
 *
 * KVM's rules (arch/x86/kvm/x86.c, mtrr.c, lapic.c):
 *  - The index lists: nmsrs is set to the list's length first; fewer asked -> E2BIG,
 *    else the indices. An unreadable or unwritable argument -> EFAULT.
 *  - KVM_GET/SET_MSRS: nmsrs >= 256 (MAX_IO_MSRS) -> E2BIG; else the entries in order
 *    until one fails, returning how many succeeded. KVM_GET_MSRS writes every entry
 *    back, an unknown MSR's data as 0. Every MSR of the index list reads, and takes back
 *    what it read (what a VMM's save/restore does, as upstream state_test).
 *  - User space may set what the guest may not (host_initiated): the microcode revision,
 *    IA32_MISC_ENABLE's read-only bits, IA32_TSC_AUX without RDTSCP/RDPID in CPUID, any
 *    APIC mode transition. Value rules hold for both: canonical addresses, PAT and MTRR
 *    memory types, IA32_APIC_BASE's reserved bits from the vCPU's CPUID (MAXPHYADDR,
 *    x2APIC), also in KVM_SET_SREGS.
 *  - A guest's refused RDMSR/WRMSR is #GP(0); the guests here have no IDT, so a #GP is
 *    KVM_EXIT_SHUTDOWN.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <utility>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_msr);

namespace
{

constexpr uint32_t MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_UCODE_REV = 0x8b, MSR_MTRRCAP = 0xfe,
		   MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_BASE0 = 0x200, MSR_MTRR_MASK0 = 0x201,
		   MSR_MTRR_FIX4K_F8000 = 0x26f, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff,
		   MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
		   MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
		   MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_KERNEL_GS_BASE = 0xc0000102,
		   MSR_TSC_AUX = 0xc0000103;
/* No MSR at all: neither an architectural number nor one of KVM's ranges. */
constexpr uint32_t MSR_NONE = 0x3fffffff;

/* A struct kvm_msrs in the C layout (lib/kvm.h). */
struct Msrs {
	std::vector<uint8_t> buf;
	explicit Msrs(const std::vector<std::pair<uint32_t, uint64_t>> &es)
	    : buf(sizeof(msrs_header) + es.size() * sizeof(kvm_msr_entry))
	{
		hdr()->nmsrs = uint32_t(es.size());
		for (size_t i = 0; i < es.size(); i++) {
			e()[i].index = es[i].first;
			e()[i].data = es[i].second;
		}
	}
	msrs_header *hdr() { return reinterpret_cast<msrs_header *>(buf.data()); }
	kvm_msr_entry *e() { return reinterpret_cast<kvm_msr_entry *>(buf.data() + 8); }
};

long get(int fd, Msrs &m)
{
	return ioctl(fd, GET_MSRS, m.buf.data());
}
long set(int fd, Msrs &m)
{
	return ioctl(fd, SET_MSRS, m.buf.data());
}

uint64_t get_msr(Vcpu &v, uint32_t index)
{
	Msrs m({{index, 0}});
	const long r = get(v.fd(), m);
	CHECK_MSG(r == 1, "KVM_GET_MSRS of %#x: %ld/%s", index, r, tap::errno_name(errno).c_str());
	return m.e()[0].data;
}

/* KVM_SET_MSRS of one MSR: whether it was taken. */
bool set_msr(Vcpu &v, uint32_t index, uint64_t val)
{
	Msrs m({{index, val}});
	const long r = set(v.fd(), m);
	CHECK_MSG(r == 0 || r == 1, "KVM_SET_MSRS of %#x: %ld/%s", index, r,
		  tap::errno_name(errno).c_str());
	return r == 1;
}

/* An index list, sized by its E2BIG protocol. */
std::vector<uint32_t> msr_list(int dev, unsigned long req)
{
	msr_list_header h{0};
	CHECK_ERRNO(E2BIG, ioctl(dev, req, &h));
	std::vector<uint32_t> buf(1 + h.nmsrs);
	buf[0] = h.nmsrs;
	CHECK_OK(ioctl(dev, req, buf.data()));
	CHECK_EQ(h.nmsrs, buf[0]);
	return std::vector<uint32_t>(buf.begin() + 1, buf.end());
}

bool has(const std::vector<uint32_t> &list, uint32_t index)
{
	return std::find(list.begin(), list.end(), index) != list.end();
}

/* The supported CPUID's vendor is AMD's (or Hygon's): KVM's guest_cpuid_is_amd_compatible. */
bool amd_vendor(int dev)
{
	Cpuid c(dev);
	const kvm_cpuid_entry2 *zero = c.find(0);
	CHECK(zero != nullptr);
	return zero->ebx == 0x68747541 || zero->ebx == 0x6f677948; /* "Auth", "Hygo" */
}

/* The guest's RDMSR (read) or WRMSR of `index` (guest/msr.S): whether it ran (false:
 * #GP, the guest shut down); a read's value in *val. */
bool guest_msr_op(Guest &g, uint32_t index, bool write, uint64_t *val)
{
	kvm_regs r = g.vcpu.regs();
	r.rip = CODE_GPA;
	r.rflags = 2;
	r.rcx = index;
	r.rsi = write;
	r.rax = uint32_t(*val);
	r.rdx = *val >> 32;
	g.vcpu.set_regs(r);
	std::vector<uint64_t> out;
	const uint32_t reason = g.vcpu.run_reports(out);
	if (reason == KVM_EXIT_SHUTDOWN)
		return false;
	CHECK_MSG(reason == KVM_EXIT_HLT, "%s of %#x: %s", write ? "WRMSR" : "RDMSR", index,
		  g.vcpu.describe_exit().c_str());
	if (!write) {
		CHECK_EQ(size_t(2), out.size());
		*val = uint32_t(out[0]) | uint64_t(uint32_t(out[1])) << 32;
	}
	return true;
}

bool guest_rdmsr(Guest &g, uint32_t index, uint64_t *val)
{
	*val = 0;
	return guest_msr_op(g, index, false, val);
}

bool guest_wrmsr(Guest &g, uint32_t index, uint64_t val)
{
	return guest_msr_op(g, index, true, &val);
}

/* KVM passes these to the hardware (SVM: not intercepted), and QEMU's TCG, the test
 * machine's "hardware", does not check a written address for canonical form. */
bool kvm_passes_through(uint32_t index)
{
	return is_kvm() &&
	       (index == MSR_LSTAR || index == MSR_CSTAR || index == MSR_KERNEL_GS_BASE ||
		index == MSR_SYSENTER_ESP || index == MSR_SYSENTER_EIP);
}

/* A fresh guest, whose WRMSR of `val` to `index` must fault. */
void check_guest_wrmsr_faults(uint32_t index, uint64_t val, const char *why)
{
	Guest g(Mode::Long64, GUEST(guest_msr));
	const bool ran = guest_wrmsr(g, index, val);
	if (ran && kvm_passes_through(index)) {
		tap::diag("KVM: the guest's WRMSR %#x <- %#llx (%s) ran: QEMU's TCG does not check "
			  "it, and KVM passes the MSR through",
			  index, (unsigned long long)val, why);
		return;
	}
	CHECK_MSG(!ran, "WRMSR %#x <- %#llx ran (%s)", index, (unsigned long long)val, why);
}

} // namespace

TEST(msr_index_lists_e2big_protocol)
{
	Fd dev(open_dev());
	for (unsigned long req : {GET_MSR_INDEX_LIST, GET_MSR_FEATURE_INDEX_LIST}) {
		const std::vector<uint32_t> list = msr_list(dev.fd, req);
		CHECK(!list.empty());
		std::vector<uint32_t> sorted = list;
		std::sort(sorted.begin(), sorted.end());
		CHECK_MSG(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
			  "a list names an MSR twice");
		/* fewer than the list: E2BIG with nmsrs set; more: the list, nmsrs set */
		std::vector<uint32_t> buf(1 + list.size() + 5, 0xffffffff);
		buf[0] = uint32_t(list.size() - 1);
		CHECK_ERRNO(E2BIG, ioctl(dev.fd, req, buf.data()));
		CHECK_EQ(uint32_t(list.size()), buf[0]);
		CHECK_EQ(0xffffffffu, buf[1]); /* nothing else written */
		buf[0] = uint32_t(list.size() + 5);
		CHECK_OK(ioctl(dev.fd, req, buf.data()));
		CHECK_EQ(uint32_t(list.size()), buf[0]);
		CHECK(std::equal(list.begin(), list.end(), buf.begin() + 1));
		CHECK_EQ(0xffffffffu, buf[1 + list.size()]);
		CHECK_ERRNO(EFAULT, ioctl(dev.fd, req, bad_user_ptr()));
	}
	const std::vector<uint32_t> saved = msr_list(dev.fd, GET_MSR_INDEX_LIST);
	for (uint32_t m :
	     {MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
	      MSR_SFMASK, MSR_KERNEL_GS_BASE, MSR_TSC, MSR_PAT, MSR_MISC_ENABLE, MSR_UCODE_REV})
		CHECK_MSG(has(saved, m), "KVM_GET_MSR_INDEX_LIST lacks %#x", m);
	/* in kvm_sregs, not in the list */
	CHECK(!has(saved, MSR_EFER) && !has(saved, MSR_APIC_BASE));
	CHECK(has(msr_list(dev.fd, GET_MSR_FEATURE_INDEX_LIST), MSR_UCODE_REV));
	CHECK_EQ(1L, check_extension(dev.fd, KVM_CAP_GET_MSR_FEATURES));
}

TEST(msr_index_list_round_trips)
{
	/* What a VMM's save and restore does: every listed MSR reads, takes back what it
	 * read, and reads the same (the TSC moves on). */
	Fd dev(open_dev());
	const std::vector<uint32_t> list = msr_list(dev.fd, GET_MSR_INDEX_LIST);
	Vm vm;
	Vcpu vcpu(vm, 0);
	std::vector<std::pair<uint32_t, uint64_t>> es;
	for (uint32_t m : list)
		es.push_back({m, 0});
	Msrs a(es);
	const long n = get(vcpu.fd(), a);
	CHECK_MSG(n == long(list.size()), "KVM_GET_MSRS read %ld of %zu (stopped at %#x)", n,
		  list.size(), n >= 0 && n < long(list.size()) ? list[n] : 0);
	/* One at a time: KVM without an in-kernel LAPIC refuses some of its paravirtual
	 * MSRs (0x4b564dxx, e.g. MSR_KVM_ASYNC_PF_INT needs one); upstream state_test has
	 * an irqchip. Every other MSR, and every one of dbgkvm's, takes its value back. */
	for (size_t i = 0; i < list.size(); i++) {
		if (set_msr(vcpu, list[i], a.e()[i].data))
			continue;
		const bool kvm_pv_needing_lapic = is_kvm() && (list[i] >> 8) == 0x4b564d;
		CHECK_MSG(kvm_pv_needing_lapic, "KVM_SET_MSRS %#x <- %#llx (what it read): refused",
			  list[i], (unsigned long long)a.e()[i].data);
		tap::diag("KVM: %#x refused without an in-kernel LAPIC", list[i]);
	}
	Msrs b(es);
	CHECK_EQ(long(list.size()), get(vcpu.fd(), b));
	/* counters that run: the TSC, KVM's Hyper-V time and runtime (0x400000xx) */
	for (size_t i = 0; i < list.size(); i++)
		if (list[i] != MSR_TSC && (list[i] >> 8) != 0x400000)
			CHECK_MSG(a.e()[i].data == b.e()[i].data, "MSR %#x: %#llx, then %#llx",
				  list[i], (unsigned long long)a.e()[i].data,
				  (unsigned long long)b.e()[i].data);
}

TEST(msrs_partial_success)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	/* GET: stops at the unknown MSR, whose data reads 0; the rest written back as given */
	Msrs g({{MSR_STAR, 0x5555}, {MSR_NONE, 0x7777}, {MSR_LSTAR, 0x9999}});
	CHECK_EQ(1L, get(vcpu.fd(), g));
	CHECK_EQ(uint64_t(0), uint64_t(g.e()[0].data)); /* STAR after reset */
	CHECK_EQ(uint64_t(0), uint64_t(g.e()[1].data));
	CHECK_EQ(uint64_t(0x9999), uint64_t(g.e()[2].data));
	/* SET: the ones before the failure take effect, the rest do not */
	Msrs s({{MSR_STAR, 0x0023001000000000}, {MSR_NONE, 1}, {MSR_LSTAR, 0xffffffff81000000}});
	CHECK_EQ(1L, set(vcpu.fd(), s));
	CHECK_EQ(uint64_t(0x0023001000000000), get_msr(vcpu, MSR_STAR));
	CHECK_EQ(uint64_t(0), get_msr(vcpu, MSR_LSTAR));
	/* a refused value stops it too */
	Msrs bad({{MSR_CSTAR, 0xffffffff81000000}, {MSR_LSTAR, 0x8000000000000000}});
	CHECK_EQ(1L, set(vcpu.fd(), bad));
	CHECK_EQ(uint64_t(0), get_msr(vcpu, MSR_LSTAR));
	/* none, the most, one too many */
	Msrs none({});
	CHECK_EQ(0L, get(vcpu.fd(), none));
	CHECK_EQ(0L, set(vcpu.fd(), none));
	std::vector<std::pair<uint32_t, uint64_t>> many(255, {MSR_STAR, 0x0023001000000000});
	Msrs most(many);
	CHECK_EQ(255L, get(vcpu.fd(), most));
	CHECK_EQ(255L, set(vcpu.fd(), most));
	many.push_back({MSR_STAR, 0});
	Msrs too_many(many);
	CHECK_ERRNO(E2BIG, get(vcpu.fd(), too_many));
	CHECK_ERRNO(E2BIG, set(vcpu.fd(), too_many));
	CHECK_EQ(uint64_t(0x0023001000000000), get_msr(vcpu, MSR_STAR));
	/* unreadable header; entries running into an unmapped page */
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), GET_MSRS, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), SET_MSRS, bad_user_ptr()));
	auto *pages = static_cast<uint8_t *>(
	    mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK(pages != MAP_FAILED);
	CHECK_OK(mprotect(pages + 4096, 4096, PROT_NONE));
	uint8_t *edge = pages + 4096 - sizeof(msrs_header) - sizeof(kvm_msr_entry);
	Msrs two({{MSR_STAR, 0}, {MSR_LSTAR, 0}});
	memcpy(edge, two.buf.data(), sizeof(msrs_header) + sizeof(kvm_msr_entry));
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), GET_MSRS, edge));
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), SET_MSRS, edge));
	munmap(pages, 8192);
	CHECK_EQ(uint64_t(0x0023001000000000), get_msr(vcpu, MSR_STAR));
}

TEST(msr_reset_values)
{
	Vm vm;
	Vcpu v0(vm, 0), v1(vm, 1);
	CHECK_EQ(uint64_t(0xfee00900), get_msr(v0, MSR_APIC_BASE));
	CHECK_EQ(uint64_t(0xfee00800), get_msr(v1, MSR_APIC_BASE));
	CHECK_EQ(uint64_t(0x1800), get_msr(v0, MSR_MISC_ENABLE)); /* no BTS, no PEBS */
	/* KVM's microcode revision: an AMD patch level, or Intel's "none loaded" */
	Fd dev(open_dev());
	CHECK_EQ(amd_vendor(dev.fd) ? uint64_t(0x01000065) : uint64_t(1) << 32,
		 get_msr(v0, MSR_UCODE_REV));
	CHECK_EQ(uint64_t(0x508), get_msr(v0, MSR_MTRRCAP)); /* WC, fixed, 8 variable */
	CHECK_EQ(uint64_t(0), get_msr(v0, MSR_MTRR_DEF_TYPE));
	CHECK_EQ(uint64_t(0x0007040600070406), get_msr(v0, MSR_PAT));
}

TEST(msrs_host_and_guest_agree)
{
	/* What user space sets, the guest reads; what the guest writes, user space reads. */
	Fd dev(open_dev());
	Cpuid c(dev.fd);
	const kvm_cpuid_entry2 *ext1 = c.find(0x80000001);
	const bool rdtscp = ext1 && (ext1->edx & (1u << 27));
	/* SYSENTER_ESP/EIP keep 32 bits for an AMD guest (SYSENTER is legacy-mode only
	 * there), 64 for an Intel one, as KVM's SVM keeps them. */
	const uint64_t sysenter_mask = amd_vendor(dev.fd) ? 0xffffffffull : ~0ull;
	Guest g(Mode::Long64, GUEST(guest_msr));
	struct Case {
		uint32_t msr;
		uint64_t host, guest;
	};
	std::vector<Case> cases = {
	    {MSR_STAR, 0x0023001000000000, 0x001b000800000000},
	    {MSR_LSTAR, 0xffffffff81000000, 0xffffffff82000000},
	    {MSR_CSTAR, 0xffffffff81001000, 0xffffffff82001000},
	    {MSR_SFMASK, 0x47700, 0x700},
	    {MSR_KERNEL_GS_BASE, 0xffff888000001000, 0x7f0000001000},
	    {MSR_SYSENTER_CS, 0x10, 0x8},
	    {MSR_SYSENTER_ESP, 0xfffffe0000001000, 0x5000},
	    {MSR_SYSENTER_EIP, 0xffffffff81002000, 0x6000},
	    {MSR_PAT, 0x0007010600070106, 0x0007040600070406},
	    {MSR_MISC_ENABLE, 0x1801, 0x1800},
	    {MSR_MTRR_DEF_TYPE, 0xc06, 0x800},
	    {MSR_MTRR_BASE0, 0x80000006, 0x40000001},
	    {MSR_MTRR_MASK0, 0xfc0000800, 0xf80000800},
	    {MSR_MTRR_FIX4K_F8000, 0x0505050505050505, 0x0606060606060606},
	};
	if (rdtscp)
		cases.push_back({MSR_TSC_AUX, 0x42, 0x1001});
	else
		tap::diag("no RDTSCP in the supported CPUID: IA32_TSC_AUX left out");
	for (const Case &k : cases) {
		CHECK_MSG(set_msr(g.vcpu, k.msr, k.host), "KVM_SET_MSRS %#x", k.msr);
		const bool sysenter = k.msr == MSR_SYSENTER_ESP || k.msr == MSR_SYSENTER_EIP;
		const uint64_t want = sysenter ? k.host & sysenter_mask : k.host;
		uint64_t v;
		CHECK_MSG(guest_rdmsr(g, k.msr, &v), "RDMSR %#x faulted", k.msr);
		CHECK_MSG(v == want, "MSR %#x: set %#llx, the guest read %#llx", k.msr,
			  (unsigned long long)k.host, (unsigned long long)v);
		CHECK_MSG(guest_wrmsr(g, k.msr, k.guest), "WRMSR %#x faulted", k.msr);
		CHECK_MSG(get_msr(g.vcpu, k.msr) == k.guest,
			  "MSR %#x: the guest wrote %#llx, read %#llx", k.msr,
			  (unsigned long long)k.guest, (unsigned long long)get_msr(g.vcpu, k.msr));
	}
}

TEST(msr_value_rules)
{
	/* Refused from user space and from the guest alike. */
	Vm vm;
	Vcpu vcpu(vm, 0);
	const struct {
		uint32_t msr;
		uint64_t val;
		const char *why;
	} bad[] = {
	    {MSR_LSTAR, 0x0100000000000000, "non-canonical"},
	    {MSR_KERNEL_GS_BASE, 0x8000000000000000, "non-canonical"},
	    {MSR_PAT, 0x0007040600070402, "PAT type 2"},
	    {MSR_PAT, 0x0007040600070408, "PAT type 8"},
	    {MSR_MTRR_DEF_TYPE, 0x1006, "MTRR default type bit 12"},
	    {MSR_MTRR_DEF_TYPE, 0xc07, "MTRR type 7"},
	    {MSR_MTRR_BASE0, 0x80000106, "MTRR base bit 8"},
	    {MSR_MTRR_MASK0, 0xfc0000400, "MTRR mask bit 10"},
	    {MSR_MTRR_FIX4K_F8000, 0x0505050505050503, "MTRR fixed type 3"},
	    {MSR_MTRRCAP, 0x508, "MTRRCAP is read-only"},
	    {MSR_APIC_BASE, 0xfee00901, "APIC base bit 0"},
	    {MSR_APIC_BASE, 0xfee00400, "x2APIC without the global enable"},
	};
	for (const auto &b : bad) {
		CHECK_MSG(!set_msr(vcpu, b.msr, b.val), "KVM_SET_MSRS %#x <- %#llx (%s) was taken",
			  b.msr, (unsigned long long)b.val, b.why);
		check_guest_wrmsr_faults(b.msr, b.val, b.why);
	}
	/* Canonical for a 48-bit guest: dbgkvm's guests have no LA57. KVM 6.12 checks MSR
	 * addresses against the host's width (57 bits where the CPU has LA57) */
	if (is_dbgkvm())
		CHECK(!set_msr(vcpu, MSR_LSTAR, 0x0000800000000000));
	/* The guest's own rules. */
	check_guest_wrmsr_faults(MSR_MISC_ENABLE, 0x1000, "IA32_MISC_ENABLE bit 11 is read-only");
	check_guest_wrmsr_faults(MSR_MISC_ENABLE, 0x0800, "IA32_MISC_ENABLE bit 12 is read-only");
	{
		/* EMON (bit 7) ignores the guest's writes; user space sets it */
		Guest g(Mode::Long64, GUEST(guest_msr));
		CHECK(guest_wrmsr(g, MSR_MISC_ENABLE, 0x1880));
		CHECK_EQ(uint64_t(0x1800), get_msr(g.vcpu, MSR_MISC_ENABLE));
		CHECK(set_msr(g.vcpu, MSR_MISC_ENABLE, 0x80));
		CHECK_EQ(uint64_t(0x80), get_msr(g.vcpu, MSR_MISC_ENABLE));
		/* the guest's write of the microcode revision is ignored; user space's is not */
		const uint64_t ucode = get_msr(g.vcpu, MSR_UCODE_REV);
		CHECK(guest_wrmsr(g, MSR_UCODE_REV, 0));
		CHECK_EQ(ucode, get_msr(g.vcpu, MSR_UCODE_REV));
		CHECK(set_msr(g.vcpu, MSR_UCODE_REV, 0x1234));
		uint64_t v;
		CHECK(guest_rdmsr(g, MSR_UCODE_REV, &v));
		CHECK_EQ(uint64_t(0x1234), v);
	}
}

TEST(msr_rules_follow_the_vcpus_cpuid)
{
	Fd dev(open_dev());
	/* IA32_TSC_AUX: user space's even without RDTSCP or RDPID in the vCPU's CPUID (the
	 * guest's: guest_tsc_aux_needs_rdtscp_or_rdpid). */
	{
		Cpuid c(dev.fd);
		const kvm_cpuid_entry2 *ext1 = c.find(0x80000001);
		if (!ext1 || !(ext1->edx & (1u << 27))) {
			tap::diag("no RDTSCP in the supported CPUID: IA32_TSC_AUX not checked");
		} else {
			c.find(0x80000001)->edx &= ~(1u << 27);
			if (kvm_cpuid_entry2 *seven = c.find(7))
				seven->ecx &= ~(1u << 22);
			Vm vm;
			Vcpu vcpu(vm, 0, VcpuCpuid::None);
			c.set_on(vcpu);
			CHECK(set_msr(vcpu, MSR_TSC_AUX, 7));
			CHECK_EQ(uint64_t(7), get_msr(vcpu, MSR_TSC_AUX));
		}
	}
	/* IA32_APIC_BASE: EXTD (bit 10) only with x2APIC in CPUID; no bit at or above
	 * MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); KVM_SET_SREGS takes it the same way. */
	for (bool x2apic : {false, true}) {
		Cpuid c(dev.fd);
		kvm_cpuid_entry2 *one = c.find(1);
		CHECK(one != nullptr);
		one->ecx = x2apic ? one->ecx | (1u << 21) : one->ecx & ~(1u << 21);
		kvm_cpuid_entry2 *e8 = c.find(0x80000008);
		CHECK(e8 != nullptr);
		e8->eax = (e8->eax & ~0xffu) | 36;
		Vm vm;
		Vcpu vcpu(vm, 0, VcpuCpuid::None);
		c.set_on(vcpu);
		CHECK_EQ(x2apic, set_msr(vcpu, MSR_APIC_BASE, 0xfee00d00));
		kvm_sregs s = vcpu.sregs();
		s.apic_base = 0xfee00900 | uint64_t(1) << 36;
		CHECK_ERRNO(EINVAL, ioctl(vcpu.fd(), KVM_SET_SREGS, &s));
		CHECK(!set_msr(vcpu, MSR_APIC_BASE, s.apic_base));
		s.apic_base = 0xfee00900 | uint64_t(1) << 35;
		CHECK_OK(ioctl(vcpu.fd(), KVM_SET_SREGS, &s));
		CHECK_EQ(uint64_t(s.apic_base), get_msr(vcpu, MSR_APIC_BASE));
	}
}

/* EFER (KVM's set_efer and __kvm_valid_efer): the guest's WRMSR may set NXE only with NX in
 * its CPUID, and may not change LME while paging is on; KVM_SET_MSRS may set NXE anyway
 * (host-initiated, whatever the order of KVM_SET_CPUID2). KVM_SET_SREGS checks EFER
 * against the CPUID too: dbgkvm as 6.12's KVM (kvm_is_valid_sregs); 6.1's KVM does not. */
TEST(efer_follows_the_vcpus_cpuid)
{
	Fd dev(open_dev());
	constexpr uint64_t NXE = 1u << 11, LME = 1u << 8;
	for (bool nx : {false, true}) {
		Cpuid c(dev.fd);
		kvm_cpuid_entry2 *ext1 = c.find(0x80000001);
		CHECK(ext1 != nullptr);
		if (nx && !(ext1->edx & (1u << 20))) {
			tap::diag("no NX in the supported CPUID: EFER.NXE with NX not checked");
			continue;
		}
		if (!nx)
			ext1->edx &= ~(1u << 20);
		Guest g(Mode::Long64, GUEST(guest_msr), c);
		const uint64_t efer = get_msr(g.vcpu, MSR_EFER);
		if (!nx) {
			kvm_sregs s = g.vcpu.sregs();
			s.efer |= NXE;
			errno = 0;
			const int r = ioctl(g.vcpu.fd(), KVM_SET_SREGS, &s);
			if (r == 0 && is_kvm()) {
				tap::diag(
				    "KVM_SET_SREGS took EFER.NXE without NX: this kernel's KVM "
				    "does not check it (6.1); dbgkvm and 6.12's KVM refuse it");
				s.efer = efer;
				g.vcpu.set_sregs(s);
			} else {
				CHECK_MSG(r == -1 && errno == EINVAL,
					  "KVM_SET_SREGS with EFER.NXE, no NX in CPUID: %d/%s", r,
					  tap::errno_name(errno).c_str());
			}
			CHECK(set_msr(g.vcpu, MSR_EFER, efer | NXE));
			CHECK_EQ(efer | NXE, get_msr(g.vcpu, MSR_EFER));
			CHECK(set_msr(g.vcpu, MSR_EFER, efer));
		}
		/* The guest's own write (a #GP is a triple fault: its state is gone after). */
		CHECK_EQ(nx, guest_wrmsr(g, MSR_EFER, efer | NXE));
		if (nx)
			CHECK_EQ(efer | NXE, get_msr(g.vcpu, MSR_EFER));
	}
	/* Paging is on: LME may not change. */
	Guest g(Mode::Long64, GUEST(guest_msr));
	CHECK(!guest_wrmsr(g, MSR_EFER, get_msr(g.vcpu, MSR_EFER) & ~LME));
}

TEST(guest_tsc_aux_needs_rdtscp_or_rdpid)
{
	Fd dev(open_dev());
	Cpuid c(dev.fd);
	const kvm_cpuid_entry2 *ext1 = c.find(0x80000001);
	if (!ext1 || !(ext1->edx & (1u << 27)))
		SKIP("no RDTSCP in the supported CPUID (the host lacks IA32_TSC_AUX)");
	c.find(0x80000001)->edx &= ~(1u << 27);
	if (kvm_cpuid_entry2 *seven = c.find(7))
		seven->ecx &= ~(1u << 22);
	Vm vm;
	Vcpu vcpu(vm, 0, VcpuCpuid::None);
	c.set_on(vcpu);
	setup_guest(vm, vcpu, Mode::Long64, GUEST(guest_msr));
	kvm_regs r = vcpu.regs();
	r.rcx = MSR_TSC_AUX;
	r.rsi = 0;
	vcpu.set_regs(r);
	std::vector<uint64_t> out;
	const uint32_t reason = vcpu.run_reports(out);
	CHECK_MSG(reason == KVM_EXIT_SHUTDOWN, "RDMSR IA32_TSC_AUX without RDTSCP/RDPID: %s",
		  vcpu.describe_exit().c_str());
}

TEST(feature_msrs_on_the_system_fd)
{
	Fd dev(open_dev());
	const std::vector<uint32_t> list = msr_list(dev.fd, GET_MSR_FEATURE_INDEX_LIST);
	std::vector<std::pair<uint32_t, uint64_t>> es;
	for (uint32_t m : list)
		es.push_back({m, 0});
	Msrs all(es);
	CHECK_EQ(long(list.size()), get(dev.fd, all));
	Msrs unknown({{MSR_NONE, 0x1234}});
	CHECK_EQ(0L, get(dev.fd, unknown));
	CHECK_EQ(uint64_t(0), uint64_t(unknown.e()[0].data));
	/* a vCPU MSR is no feature MSR (KVM 6.12 reads 0 for the MSRs its index list names,
	 * kvm_do_msr_access; 6.1 and dbgkvm refuse) */
	Msrs star({{MSR_STAR, 0}});
	if (is_dbgkvm())
		CHECK_EQ(0L, get(dev.fd, star));
	CHECK_ERRNO(EFAULT, ioctl(dev.fd, GET_MSRS, bad_user_ptr()));
}
