// SPDX-License-Identifier: GPL-2.0
// The MSRs whose guest values live in the VMCB.
#include "core/msr_rules.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"
#include "svm/svm.hpp"

namespace dbgkvm::svm
{

using namespace msr;
using namespace x86;

Errno SvmVcpu::get_msr(u32 index, u64 *val)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER:
		*val = s.efer & ~EFER_SVME;
		return 0;
	case MSR_STAR:
		*val = s.star;
		return 0;
	case MSR_LSTAR:
		*val = s.lstar;
		return 0;
	case MSR_CSTAR:
		*val = s.cstar;
		return 0;
	case MSR_SFMASK:
		*val = s.sfmask;
		return 0;
	case MSR_FS_BASE:
		*val = s.fs.base;
		return 0;
	case MSR_GS_BASE:
		*val = s.gs.base;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*val = s.kernel_gs_base;
		return 0;
	case MSR_SYSENTER_CS:
		*val = s.sysenter_cs;
		return 0;
	case MSR_SYSENTER_ESP:
		*val = s.sysenter_esp;
		return 0;
	case MSR_SYSENTER_EIP:
		*val = s.sysenter_eip;
		return 0;
	case MSR_PAT:
		*val = s.g_pat;
		return 0;
	case MSR_DEBUGCTL:
		*val = 0;
		return 0;
	case MSR_TSC:
		*val = rdtsc() + vmcb_->control.tsc_offset;
		return 0;
	default:
		return -DK_ENOENT;
	}
}

Errno SvmVcpu::set_msr(u32 index, u64 v)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER: {
		if (v & ~EFER_GUEST_BITS)
			return -DK_EINVAL;
		// LME cannot change while paging is on; LMA is the processor's (SDM 9.8.5).
		if ((s.cr0 & CR0_PG) && ((v ^ s.efer) & EFER_LME))
			return -DK_EINVAL;
		s.efer = (v & ~EFER_LMA) | (s.efer & EFER_LMA) | EFER_SVME;
		return 0;
	}
	case MSR_STAR:
		s.star = v;
		return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return -DK_EINVAL;
		if (index == MSR_LSTAR)
			s.lstar = v;
		else if (index == MSR_CSTAR)
			s.cstar = v;
		else if (index == MSR_FS_BASE)
			s.fs.base = v;
		else if (index == MSR_GS_BASE)
			s.gs.base = v;
		else if (index == MSR_KERNEL_GS_BASE)
			s.kernel_gs_base = v;
		else if (index == MSR_SYSENTER_ESP)
			s.sysenter_esp = v;
		else
			s.sysenter_eip = v;
		return 0;
	case MSR_SFMASK:
		s.sfmask = v;
		return 0;
	case MSR_SYSENTER_CS:
		s.sysenter_cs = v & 0xffff;
		return 0;
	case MSR_PAT:
		if (!pat_valid(v))
			return -DK_EINVAL;
		s.g_pat = v;
		return 0;
	case MSR_DEBUGCTL:
		return v ? -DK_EINVAL : 0; // no branch tracing for guests yet
	case MSR_TSC:
		vmcb_->control.tsc_offset = v - rdtsc();
		return 0;
	default:
		return -DK_ENOENT;
	}
}

} // namespace dbgkvm::svm
