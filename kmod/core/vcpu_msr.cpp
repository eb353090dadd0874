// SPDX-License-Identifier: GPL-2.0
// A vCPU's MSRs: the guest's RDMSR/WRMSR exits and user space's KVM_GET_MSRS/KVM_SET_MSRS
// (KVM's msr_io). Each MSR is the backend's (its VMCB or VMCS, or registers it switches)
// or the core's (core/core_msrs.hpp), asked in that order.
#include "core/vcpu.hpp"
#include "core/msr_io.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm
{

MsrResult Vcpu::get_msr(u32 index, bool host, u64 *val)
{
	MsrResult r = arch_->get_msr(index, features_, val);
	if (r == MsrResult::NotMine)
		r = msrs_.get(index, host, features_, val);
	return r;
}

MsrResult Vcpu::set_msr(u32 index, u64 val, bool host)
{
	if (index == x86::MSR_EFER) { // the rule is the core's; the backend holds the value
		InsnContext c;
		arch_->insn_context(c);
		if (!msr::efer_write_valid(val, c.efer, c.cr0 & x86::CR0_PG, features_.nx,
					   features_.lm, host))
			return MsrResult::Fault;
	}
	MsrResult r = arch_->set_msr(index, val, features_);
	if (r == MsrResult::NotMine)
		r = msrs_.set(index, val, host, features_);
	return r;
}

int Vcpu::handle_msr(const ArchExit &e, bool write)
{
	const u32 index = static_cast<u32>(reg(RCX));
	u64 rip;
	if (!next_rip(e, &rip))
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
	MsrResult r;
	if (write) {
		r = set_msr(index, (reg(RDX) << 32) | static_cast<u32>(reg(RAX)), false);
	} else {
		u64 v = 0;
		r = get_msr(index, false, &v);
		if (r == MsrResult::Done) {
			set_reg(RAX, static_cast<u32>(v));
			set_reg(RDX, v >> 32);
		}
	}
	if (r != MsrResult::Done) {
		// Unknown MSR or bad value: #GP(0), as KVM does without ignore_msrs.
		arch_->queue_exception(x86::VEC_GP, true, 0);
		return 1;
	}
	return finish_insn(rip);
}

Errno Vcpu::msrs_ioctl(unsigned long arg, bool write)
{
	return msr::msr_io(arg, write, [&](u32 index, u64 *v) {
		return write ? set_msr(index, *v, true) : get_msr(index, true, v);
	});
}

} // namespace dbgkvm
