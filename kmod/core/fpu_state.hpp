// SPDX-License-Identifier: GPL-2.0
// KVM_GET/SET_FPU's struct kvm_fpu and the FXSAVE image it is read from and written to
// (SDM Vol. 1, 10.5.1, Table 10-2: the 64-bit layout), and the XCR0 rules of
// KVM_GET/SET_XCRS. Pure: the host unit tests run it.
#pragma once
#include "rt/types.hpp"

#include <linux/kvm.h>

namespace dbgkvm::fpu
{

struct FxImage {
	u16 fcw;
	u16 fsw;
	u8 ftw; // abridged tag word
	u8 reserved1;
	u16 fop;
	u64 fip;
	u64 fdp;
	u32 mxcsr;
	u32 mxcsr_mask;
	u8 st[8][16]; // ST0-ST7 / MM0-MM7, 10 bytes each in 16
	u8 xmm[16][16];
	u8 reserved2[96];
};
static_assert(sizeof(FxImage) == 512);

// KVM's kvm_arch_vcpu_ioctl_get_fpu / _set_fpu: the x87 registers, their state, and the
// XMM registers. MXCSR is neither reported (kvm_fpu.mxcsr reads 0) nor taken: KVM copies
// only these fields, and so a bad MXCSR cannot reach the guest's FXRSTOR either.
void to_kvm_fpu(const FxImage &fx, kvm_fpu *out);
void from_kvm_fpu(const kvm_fpu &in, FxImage *fx);

// XCR0 as KVM keeps it for a guest without XSAVE, which dbgkvm's guests always are
// (XSETBV raises #UD): x87 only (kvm_vcpu_reset), and KVM_SET_XCRS takes that alone
// (__kvm_set_xcr with no guest-supported features).
inline constexpr u64 XCR0 = 1;
inline constexpr u32 MAX_XCRS = 16; // KVM_MAX_XCRS
// struct kvm_xsave without the flexible array KVM_GET_XSAVE2 added, and the ioctl numbers
// built from it (in C++ the flexible array changes the struct's size: cpuid_table.hpp).
struct XsaveLegacy {
	u32 region[1024];
};
inline constexpr unsigned int IOCTL_GET_XSAVE = _IOR(KVMIO, 0xa4, XsaveLegacy);
inline constexpr unsigned int IOCTL_SET_XSAVE = _IOW(KVMIO, 0xa5, XsaveLegacy);
static_assert(IOCTL_GET_XSAVE == 0x9000aea4 && IOCTL_SET_XSAVE == 0x5000aea5);

// The state KVM_GET/SET_XSAVE carry: x87 and SSE (XFEATURE_MASK_FPSSE).
inline constexpr u64 XSAVE_FEATURES = 3;

// KVM_SET_XCRS' checks (kvm_vcpu_ioctl_x86_set_xcrs): flags 0, at most MAX_XCRS entries,
// and the first entry for XCR0 (if any) holding XCR0; other XCRs are ignored.
bool set_xcrs_valid(const kvm_xcrs &x);

} // namespace dbgkvm::fpu
