// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid2_test: KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_GET_CPUID2 and the guest's
 * CPUID instruction reading the vCPU's table.
 *
 * KVM's rules (arch/x86/kvm/cpuid.c, x86.c):
 *  - KVM_GET_SUPPORTED_CPUID: nent 0, or fewer than the table has -> E2BIG, header
 *    unchanged; nent above KVM_MAX_CPUID_ENTRIES (256) counts as 256; else nent becomes
 *    the number of entries. Leaves that take a subleaf carry
 *    KVM_CPUID_FLAG_SIGNIFCANT_INDEX. An unreadable or unwritable argument -> EFAULT.
 *  - KVM_SET_CPUID2: nent > 256 -> E2BIG; a virtual-address width (0x80000008
 *    EAX[15:8]) other than 0, 48 or 57 -> EINVAL; after KVM_RUN only the same table
 *    (kvm_cpuid_check_equal) -> else EINVAL. A refused call changes nothing.
 *  - KVM_GET_CPUID2: nent below the table's -> E2BIG; else the table, nent set. A vCPU
 *    that never had KVM_SET_CPUID2 has none (nent 0).
 *  - The guest's CPUID answers from the table: an exact entry; a leaf beyond its class's
 *    maximum, on a non-AMD vendor, as the maximum basic leaf; a missing leaf as zeros.
 *    CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN.
 * dbgkvm's own table (kmod/core/cpuid.cpp): no VMX, SVM or XSAVE, a 48-bit address width.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_cpuid_table);

namespace
{

/* A struct kvm_cpuid2 of `nent` entries in the C layout. */
struct Cpuid2 {
	std::vector<uint8_t> buf;
	explicit Cpuid2(uint32_t nent)
	    : buf(sizeof(cpuid2_header) + nent * sizeof(kvm_cpuid_entry2))
	{
		hdr()->nent = nent;
	}
	cpuid2_header *hdr() { return reinterpret_cast<cpuid2_header *>(buf.data()); }
	kvm_cpuid_entry2 *e() { return reinterpret_cast<kvm_cpuid_entry2 *>(buf.data() + 8); }
	kvm_cpuid_entry2 *find(uint32_t fn, uint32_t idx = 0)
	{
		for (uint32_t i = 0; i < hdr()->nent; i++)
			if (e()[i].function == fn &&
			    (!(e()[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
			     e()[i].index == idx))
				return &e()[i];
		return nullptr;
	}
};

Cpuid2 supported(int dev)
{
	Cpuid2 c(256);
	XIOCTL(dev, GET_SUPPORTED_CPUID, c.buf.data());
	c.buf.resize(sizeof(cpuid2_header) + c.hdr()->nent * sizeof(kvm_cpuid_entry2));
	return c;
}

/* The same entries, or the first that differs. KVM rewrites CPUID.0xD.0/1:EBX, the
 * XSAVE area size for the vCPU's XCR0/XSS (__kvm_update_cpuid_runtime): `runtime` takes
 * those from `got`. */
void check_same_table(Cpuid2 &want, Cpuid2 &got, bool runtime = false)
{
	for (uint32_t sub : {0u, 1u}) {
		kvm_cpuid_entry2 *w = want.find(0xd, sub), *g = got.find(0xd, sub);
		if (runtime && w && g)
			w->ebx = g->ebx;
	}
	for (uint32_t i = 0; i < want.hdr()->nent; i++) {
		const kvm_cpuid_entry2 &a = want.e()[i], &b = got.e()[i];
		CHECK_MSG(!memcmp(&a, &b, sizeof(a)),
			  "entry %u: set %#x.%u flags %u %08x %08x %08x %08x, got %#x.%u flags %u "
			  "%08x %08x %08x %08x",
			  i, a.function, a.index, a.flags, a.eax, a.ebx, a.ecx, a.edx, b.function,
			  b.index, b.flags, b.eax, b.ebx, b.ecx, b.edx);
	}
}

/* KVM_GET_CPUID2's nent after a success: the table's. Linux 6.1's KVM left it as user
 * space gave it (kvm_vcpu_ioctl_get_cpuid2 set it only on its error path); later kernels,
 * and dbgkvm, set it. */
void check_get_cpuid2_nent(uint32_t given, uint32_t got, uint32_t want)
{
	if (got == given && given != want && is_kvm()) {
		tap::diag("KVM_GET_CPUID2 left nent at %u (this kernel's KVM: set only on error)",
			  given);
		return;
	}
	CHECK_EQ(want, got);
}

} // namespace

TEST(supported_cpuid_e2big_protocol)
{
	Fd dev(open_dev());
	Cpuid2 all = supported(dev.fd);
	const uint32_t n = all.hdr()->nent;
	CHECK_MSG(n > 4 && n <= 256, "KVM_GET_SUPPORTED_CPUID: %u entries", n);
	for (uint32_t nent : {0u, 1u, n - 1}) {
		Cpuid2 c(nent);
		CHECK_ERRNO(E2BIG, ioctl(dev.fd, GET_SUPPORTED_CPUID, c.buf.data()));
		CHECK_EQ(nent, c.hdr()->nent);
	}
	Cpuid2 exact(n);
	CHECK_OK(ioctl(dev.fd, GET_SUPPORTED_CPUID, exact.buf.data()));
	CHECK_EQ(n, exact.hdr()->nent);
	CHECK(!memcmp(all.e(), exact.e(), n * sizeof(kvm_cpuid_entry2)));
	/* more than KVM_MAX_CPUID_ENTRIES: as many as there are */
	Cpuid2 big(1000);
	CHECK_OK(ioctl(dev.fd, GET_SUPPORTED_CPUID, big.buf.data()));
	CHECK_EQ(n, big.hdr()->nent);
	CHECK_ERRNO(EFAULT, ioctl(dev.fd, GET_SUPPORTED_CPUID, bad_user_ptr()));
}

TEST(supported_cpuid_contents)
{
	Fd dev(open_dev());
	Cpuid2 c = supported(dev.fd);
	CHECK(c.find(0) && c.find(1) && c.find(0x80000000) && c.find(0x80000008));
	kvm_cpuid_entry2 *seven = c.find(7, 0);
	CHECK(seven && (seven->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
	kvm_cpuid_entry2 *one = c.find(1);
	CHECK(one && !(one->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
	const uint32_t va = (c.find(0x80000008)->eax >> 8) & 0xff;
	CHECK_MSG(va == 48 || va == 57, "CPUID.80000008H:EAX[15:8] = %u", va);
	if (is_dbgkvm()) {
		CHECK_EQ(48u, va);
		CHECK_EQ(0u, one->ecx & ((1u << 5) | (1u << 26))); /* VMX, XSAVE */
		CHECK_EQ(0u, c.find(0x80000001)->ecx & (1u << 2)); /* SVM */
	}
}

TEST(set_get_cpuid2_round_trip)
{
	Fd dev(open_dev());
	Vm vm;
	Vcpu vcpu(vm, 0, VcpuCpuid::None);
	Cpuid2 none(4);
	CHECK_OK(ioctl(vcpu.fd(), GET_CPUID2, none.buf.data()));
	check_get_cpuid2_nent(4, none.hdr()->nent, 0); /* no table yet */
	Cpuid2 s = supported(dev.fd);
	const uint32_t n = s.hdr()->nent;
	/* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (enabled after reset) */
	s.find(1)->edx |= 1u << 9;
	CHECK_OK(ioctl(vcpu.fd(), SET_CPUID2, s.buf.data()));
	Cpuid2 small(n - 1);
	CHECK_ERRNO(E2BIG, ioctl(vcpu.fd(), GET_CPUID2, small.buf.data()));
	CHECK_EQ(n - 1, small.hdr()->nent);
	Cpuid2 g(n + 10);
	CHECK_OK(ioctl(vcpu.fd(), GET_CPUID2, g.buf.data()));
	check_get_cpuid2_nent(n + 10, g.hdr()->nent, n);
	check_same_table(s, g, true);
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), GET_CPUID2, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), SET_CPUID2, bad_user_ptr()));
}

TEST(set_cpuid2_refusals_change_nothing)
{
	Fd dev(open_dev());
	Vm vm;
	Vcpu vcpu(vm, 0, VcpuCpuid::None);
	Cpuid2 s = supported(dev.fd);
	CHECK_OK(ioctl(vcpu.fd(), SET_CPUID2, s.buf.data()));
	Cpuid2 before(256);
	CHECK_OK(ioctl(vcpu.fd(), GET_CPUID2, before.buf.data()));
	Cpuid2 huge(257);
	CHECK_ERRNO(E2BIG, ioctl(vcpu.fd(), SET_CPUID2, huge.buf.data()));
	for (uint32_t va : {39u, 52u, 64u}) {
		Cpuid2 bad = s;
		kvm_cpuid_entry2 *x = bad.find(0x80000008);
		x->eax = (x->eax & ~0xff00u) | (va << 8);
		CHECK_ERRNO(EINVAL, ioctl(vcpu.fd(), SET_CPUID2, bad.buf.data()));
	}
	/* a table whose entries run into an unmapped page: EFAULT */
	auto *pages = static_cast<uint8_t *>(
	    mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK(pages != MAP_FAILED);
	CHECK_OK(mprotect(pages + 4096, 4096, PROT_NONE));
	uint8_t *edge = pages + 4096 - sizeof(cpuid2_header) - 2 * sizeof(kvm_cpuid_entry2);
	memcpy(edge, s.buf.data(), sizeof(cpuid2_header) + 2 * sizeof(kvm_cpuid_entry2));
	reinterpret_cast<cpuid2_header *>(edge)->nent = 3;
	CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), SET_CPUID2, edge));
	munmap(pages, 8192);
	Cpuid2 g(256);
	CHECK_OK(ioctl(vcpu.fd(), GET_CPUID2, g.buf.data()));
	check_same_table(before, g);
}

TEST(guest_cpuid_reads_the_table_and_only_the_same_table_after_run)
{
	Fd dev(open_dev());
	Vm vm;
	Vcpu v(vm, 0);
	setup_guest(vm, v, Mode::Long64, GUEST(guest_cpuid_table));
	/* An Intel-vendor table of three leaves: 0 (max basic 1), 1 and 0x80000000. */
	Cpuid2 t(3);
	kvm_cpuid_entry2 *e = t.e();
	e[0] = {0, 0, 0, 1, 0x756e6547, 0x6c65746e, 0x49656e69, {}};
	e[1] = {1, 0, 0, 0x11, 0x22, 0x33, 0x44 | (1u << 9), {}};
	e[2] = {0x80000000, 0, 0, 0x80000000, 0, 0, 0, {}};
	CHECK_OK(ioctl(v.fd(), SET_CPUID2, t.buf.data()));
	const uint32_t q[][2] = {{0, 0}, {1, 7}, {0x80000000, 0}, {5, 0}, {0x80000005, 0}};
	const size_t nq = sizeof(q) / sizeof(q[0]);
	vm.write(DATA_GPA, q, sizeof(q));
	kvm_regs r = v.regs();
	r.rip = CODE_GPA;
	r.rsi = DATA_GPA;
	r.rdi = DATA_GPA + 0x1000;
	r.r8 = nq;
	v.set_regs(r);
	v.expect_exit(KVM_EXIT_HLT);
	uint32_t a[nq][4];
	memcpy(a, vm.hva(DATA_GPA + 0x1000, sizeof(a)), sizeof(a));
	const uint32_t want[nq][4] = {
	    {1, 0x756e6547, 0x6c65746e, 0x49656e69},
	    {0x11, 0x22, 0x33, 0x44 | (1u << 9)},
	    {0x80000000, 0, 0, 0},
	    {0x11, 0x22, 0x33, 0x44 | (1u << 9)}, /* beyond max basic: leaf 1 */
	    {0x11, 0x22, 0x33, 0x44 | (1u << 9)}, /* beyond max extended: leaf 1 */
	};
	for (size_t i = 0; i < nq; i++)
		CHECK_MSG(!memcmp(want[i], a[i], 16), "CPUID %#x.%u: %08x %08x %08x %08x", q[i][0],
			  q[i][1], a[i][0], a[i][1], a[i][2], a[i][3]);
	/* After KVM_RUN: the same table again is fine, another is EINVAL. */
	CHECK_OK(ioctl(v.fd(), SET_CPUID2, t.buf.data()));
	e[1].ebx = 0x23;
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), SET_CPUID2, t.buf.data()));
	t.hdr()->nent = 2;
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), SET_CPUID2, t.buf.data()));
}
