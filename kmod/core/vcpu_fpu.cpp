// SPDX-License-Identifier: GPL-2.0
// A vCPU's FPU state from user space: KVM_GET/SET_FPU, KVM_GET/SET_XSAVE (the 4 KiB
// legacy struct kvm_xsave) and KVM_GET/SET_XCRS, as KVM answers them. The state lives in
// the guest fpstate the glue keeps (dk_guest_fpu); outside KVM_RUN it is saved there.
#include "core/fpu_state.hpp"
#include "core/vcpu.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm
{

Errno Vcpu::get_fpu(unsigned long arg)
{
	fpu::FxImage fx;
	dk_guest_fpu_read_fxsave(fpu_, &fx);
	kvm_fpu f;
	fpu::to_kvm_fpu(fx, &f);
	return dk_copy_to_user(arg, &f, sizeof(f)) ? -DK_EFAULT : 0;
}

Errno Vcpu::set_fpu(unsigned long arg)
{
	kvm_fpu f;
	if (dk_copy_from_user(&f, arg, sizeof(f)))
		return -DK_EFAULT;
	fpu::FxImage fx;
	dk_guest_fpu_read_fxsave(fpu_, &fx);
	fpu::from_kvm_fpu(f, &fx);
	dk_guest_fpu_write_fxsave(fpu_, &fx);
	return 0;
}

// x87 and SSE only: the guest has no XSAVE features (KVM reports the ones its guest's
// CPUID enables, always x87 and SSE).
Errno Vcpu::get_xsave(unsigned long arg)
{
	auto *x = static_cast<fpu::XsaveLegacy *>(dk_zalloc(sizeof(fpu::XsaveLegacy)));
	if (!x)
		return -DK_ENOMEM;
	dk_guest_fpu_get_xsave(fpu_, x, sizeof(*x), fpu::XSAVE_FEATURES);
	const Errno r = dk_copy_to_user(arg, x, sizeof(*x)) ? -DK_EFAULT : 0;
	dk_free(x);
	return r;
}

// The kernel checks the image (header, XSTATE_BV within x87|SSE, MXCSR): -EINVAL.
Errno Vcpu::set_xsave(unsigned long arg)
{
	auto *x = static_cast<fpu::XsaveLegacy *>(dk_zalloc(sizeof(fpu::XsaveLegacy)));
	if (!x)
		return -DK_ENOMEM;
	Errno r = -DK_EFAULT;
	if (!dk_copy_from_user(x, arg, sizeof(*x)))
		r = dk_guest_fpu_set_xsave(fpu_, x, fpu::XSAVE_FEATURES) ? -DK_EINVAL : 0;
	dk_free(x);
	return r;
}

// Without XSAVE on the host there is no XCR0 (nr_xcrs 0), as in KVM.
Errno Vcpu::get_xcrs(unsigned long arg)
{
	kvm_xcrs x{};
	if (dk_host_has_xsave) {
		x.nr_xcrs = 1;
		x.xcrs[0].xcr = 0;
		x.xcrs[0].value = fpu::XCR0;
	}
	return dk_copy_to_user(arg, &x, sizeof(x)) ? -DK_EFAULT : 0;
}

Errno Vcpu::set_xcrs(unsigned long arg)
{
	kvm_xcrs x;
	if (dk_copy_from_user(&x, arg, sizeof(x)))
		return -DK_EFAULT;
	return dk_host_has_xsave && fpu::set_xcrs_valid(x) ? 0 : -DK_EINVAL;
}

} // namespace dbgkvm
