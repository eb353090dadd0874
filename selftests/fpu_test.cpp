// SPDX-License-Identifier: GPL-2.0
/*
 * fpu_test: KVM_GET/SET_FPU, KVM_GET/SET_XSAVE (the 4 KiB legacy layout) and
 * KVM_GET/SET_XCRS.
 *
 * KVM's rules (arch/x86/kvm/x86.c):
 *  - KVM_GET/SET_FPU: the x87 registers and state and the XMM registers of the guest's
 *    FXSAVE image; MXCSR is neither reported (reads 0) nor taken.
 *  - KVM_GET/SET_XSAVE: the kernel's UABI XSAVE image; a bad MXCSR or XSTATE_BV outside
 *    the supported features -> EINVAL.
 *  - KVM_GET_XCRS: XCR0 (x87 only after reset) where the host has XSAVE. KVM_SET_XCRS:
 *    flags, more than 16 entries, an XCR0 without x87 or beyond the guest's features
 *    -> EINVAL.
 * dbgkvm's guests have no XSAVE (README): their XCR0 is x87 only and the XSAVE image
 * carries x87 and SSE, where KVM takes what KVM_GET_SUPPORTED_CPUID offers.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

using namespace kt;

GUEST_DECLARE(guest_fpu);

namespace
{

constexpr uint64_t CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10;
constexpr uint8_t PATTERN[16] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
				 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe};
constexpr uint8_t ONE[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}; /* 1.0, 80-bit */
/* kvm_xsave's legacy area: MXCSR at 24, XMM0 at 160; XSTATE_BV at 512. */
constexpr size_t XS_MXCSR = 24, XS_XMM = 160, XS_BV = 512;

/* Runs guest_fpu to its first HLT: ST0 = 1.0, XMM0 = PATTERN. */
struct FpuGuest : Guest {
	FpuGuest() : Guest(Mode::Long64, GUEST(guest_fpu))
	{
		kvm_sregs s = vcpu.sregs();
		s.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
		vcpu.set_sregs(s);
		vcpu.expect_exit(KVM_EXIT_HLT);
	}
	/* The XMM1 the rest of the guest reports. */
	void expect_xmm1(const uint8_t want[16])
	{
		std::vector<uint64_t> out = vcpu.run_to_halt();
		CHECK_EQ(size_t(4), out.size());
		uint8_t got[16];
		for (int i = 0; i < 4; i++) {
			const uint32_t d = uint32_t(out[i]);
			memcpy(got + 4 * i, &d, 4);
		}
		CHECK_MSG(!memcmp(got, want, 16), "the guest's XMM1 is not what was set");
	}
};

void pattern2(uint8_t out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = uint8_t(0xa0 + i);
}

} // namespace

TEST(get_set_fpu)
{
	FpuGuest g;
	kvm_fpu f;
	XIOCTL(g.vcpu.fd(), KVM_GET_FPU, &f);
	CHECK_MSG(!memcmp(f.xmm[0], PATTERN, 16), "XMM0 is not what the guest loaded");
	CHECK_MSG(!memcmp(f.fpr[0], ONE, 10), "ST0 is not 1.0");
	CHECK_EQ(uint16_t(0x37f), f.fcw);		      /* FNINIT */
	CHECK_EQ(uint16_t(0x3800), uint16_t(f.fsw & 0x3800)); /* TOP = 7 */
	CHECK_EQ(uint8_t(0x80), f.ftwx);		      /* physical register 7 valid */
	CHECK_EQ(0u, f.mxcsr);				      /* never reported */
	uint8_t p2[16];
	pattern2(p2);
	memcpy(f.xmm[1], p2, 16);
	f.mxcsr = 0xffffffff; /* not taken: the guest does not fault on it */
	XIOCTL(g.vcpu.fd(), KVM_SET_FPU, &f);
	kvm_fpu back;
	XIOCTL(g.vcpu.fd(), KVM_GET_FPU, &back);
	CHECK(!memcmp(back.xmm[1], p2, 16) && !memcmp(back.fpr, f.fpr, sizeof(f.fpr)));
	g.expect_xmm1(p2);
	CHECK_ERRNO(EFAULT, ioctl(g.vcpu.fd(), KVM_GET_FPU, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(g.vcpu.fd(), KVM_SET_FPU, bad_user_ptr()));
}

TEST(get_set_xsave)
{
	FpuGuest g;
	CHECK_EQ(1L, check_extension(g.vm.fd(), KVM_CAP_XSAVE));
	xsave_legacy x;
	XIOCTL(g.vcpu.fd(), GET_XSAVE, &x);
	uint8_t *b = reinterpret_cast<uint8_t *>(x.region);
	CHECK_MSG(!memcmp(b + XS_XMM, PATTERN, 16), "XMM0 is not what the guest loaded");
	uint32_t mxcsr;
	memcpy(&mxcsr, b + XS_MXCSR, 4);
	CHECK_EQ(0x1f80u, mxcsr);
	uint64_t bv;
	memcpy(&bv, b + XS_BV, 8);
	CHECK_EQ(uint64_t(3), bv & 3); /* x87 and SSE in use */
	uint8_t p2[16];
	pattern2(p2);
	memcpy(b + XS_XMM + 16, p2, 16);
	XIOCTL(g.vcpu.fd(), SET_XSAVE, &x);
	/* refused: reserved MXCSR bits (FXRSTOR would #GP) */
	xsave_legacy bad = x;
	const uint32_t bad_mxcsr = 0xffffffff;
	memcpy(reinterpret_cast<uint8_t *>(bad.region) + XS_MXCSR, &bad_mxcsr, 4);
	CHECK_ERRNO(EINVAL, ioctl(g.vcpu.fd(), SET_XSAVE, &bad));
	if (is_dbgkvm()) {
		/* AVX state for a guest without XSAVE: dbgkvm takes x87 and SSE only */
		bad = x;
		const uint64_t avx = bv | 4;
		memcpy(reinterpret_cast<uint8_t *>(bad.region) + XS_BV, &avx, 8);
		CHECK_ERRNO(EINVAL, ioctl(g.vcpu.fd(), SET_XSAVE, &bad));
	}
	g.expect_xmm1(p2);
	CHECK_ERRNO(EFAULT, ioctl(g.vcpu.fd(), GET_XSAVE, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(g.vcpu.fd(), SET_XSAVE, bad_user_ptr()));
}

TEST(get_set_xcrs)
{
	Vm vm;
	Vcpu v(vm, 0);
	const long cap = check_extension(vm.fd(), KVM_CAP_XCRS);
	kvm_xcrs x;
	memset(&x, 0xff, sizeof(x));
	XIOCTL(v.fd(), KVM_GET_XCRS, &x);
	if (!cap) {
		CHECK_EQ(0u, x.nr_xcrs);
		kvm_xcrs s{};
		CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_XCRS, &s));
		tap::diag("the host has no XSAVE: no XCRs (nr_xcrs 0, KVM_SET_XCRS refused)");
		return;
	}
	CHECK_EQ(1u, x.nr_xcrs);
	CHECK_EQ(0u, x.flags);
	CHECK_EQ(0u, x.xcrs[0].xcr);
	CHECK_EQ(uint64_t(1), uint64_t(x.xcrs[0].value)); /* x87 only after reset */
	CHECK_OK(ioctl(v.fd(), KVM_SET_XCRS, &x));
	kvm_xcrs s = x;
	s.xcrs[0].value = 0; /* x87 is required */
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_XCRS, &s));
	s = x;
	s.flags = 1;
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_XCRS, &s));
	s = x;
	s.nr_xcrs = 17;
	CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_XCRS, &s));
	s = x;
	s.xcrs[0].xcr = 1; /* not XCR0: ignored */
	s.xcrs[0].value = 12345;
	CHECK_OK(ioctl(v.fd(), KVM_SET_XCRS, &s));
	if (is_dbgkvm()) {
		s = x;
		s.xcrs[0].value = 3; /* SSE: the guest has no XSAVE */
		CHECK_ERRNO(EINVAL, ioctl(v.fd(), KVM_SET_XCRS, &s));
	}
	XIOCTL(v.fd(), KVM_GET_XCRS, &x);
	CHECK_EQ(uint64_t(1), uint64_t(x.xcrs[0].value));
	CHECK_ERRNO(EFAULT, ioctl(v.fd(), KVM_GET_XCRS, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(v.fd(), KVM_SET_XCRS, bad_user_ptr()));
}
