// SPDX-License-Identifier: GPL-2.0
#include "core/fpu_state.hpp"

namespace dbgkvm::fpu
{

namespace
{
void copy(void *dst, const void *src, unsigned long n)
{
	__builtin_memcpy(dst, src, n);
}
} // namespace

void to_kvm_fpu(const FxImage &fx, kvm_fpu *out)
{
	*out = kvm_fpu{};
	copy(out->fpr, fx.st, sizeof(fx.st));
	out->fcw = fx.fcw;
	out->fsw = fx.fsw;
	out->ftwx = fx.ftw;
	out->last_opcode = fx.fop;
	out->last_ip = fx.fip;
	out->last_dp = fx.fdp;
	copy(out->xmm, fx.xmm, sizeof(fx.xmm));
}

void from_kvm_fpu(const kvm_fpu &in, FxImage *fx)
{
	copy(fx->st, in.fpr, sizeof(fx->st));
	fx->fcw = in.fcw;
	fx->fsw = in.fsw;
	fx->ftw = in.ftwx;
	fx->reserved1 = 0; // KVM stores ftwx into the 16-bit twd field
	fx->fop = in.last_opcode;
	fx->fip = in.last_ip;
	fx->fdp = in.last_dp;
	copy(fx->xmm, in.xmm, sizeof(fx->xmm));
}

bool set_xcrs_valid(const kvm_xcrs &x)
{
	if (x.flags || x.nr_xcrs > MAX_XCRS)
		return false;
	for (u32 i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr == 0)
			return x.xcrs[i].value == XCR0;
	return true;
}

} // namespace dbgkvm::fpu
