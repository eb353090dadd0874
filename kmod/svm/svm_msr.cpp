// SPDX-License-Identifier: GPL-2.0
// The MSRs whose guest values live in the VMCB.
#include "core/msr_rules.hpp"
#include "dbgkvm_glue.h"
#include "svm/svm.hpp"

namespace dbgkvm::svm
{

using namespace msr;

Errno SvmVcpu::get_msr(u32 index, u64 *val)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case EFER:
		*val = s.efer & ~EFER_SVME;
		return 0;
	case STAR:
		*val = s.star;
		return 0;
	case LSTAR:
		*val = s.lstar;
		return 0;
	case CSTAR:
		*val = s.cstar;
		return 0;
	case SFMASK:
		*val = s.sfmask;
		return 0;
	case FS_BASE:
		*val = s.fs.base;
		return 0;
	case GS_BASE:
		*val = s.gs.base;
		return 0;
	case KERNEL_GS_BASE:
		*val = s.kernel_gs_base;
		return 0;
	case SYSENTER_CS:
		*val = s.sysenter_cs;
		return 0;
	case SYSENTER_ESP:
		*val = s.sysenter_esp;
		return 0;
	case SYSENTER_EIP:
		*val = s.sysenter_eip;
		return 0;
	case PAT:
		*val = s.g_pat;
		return 0;
	case DEBUGCTL:
		*val = 0;
		return 0;
	case TSC:
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
	case EFER: {
		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -DK_EINVAL;
		// LME cannot change while paging is on; LMA is the processor's (SDM 9.8.5).
		if ((s.cr0 & bit(31)) && ((v ^ s.efer) & EFER_LME))
			return -DK_EINVAL;
		s.efer = (v & ~EFER_LMA) | (s.efer & EFER_LMA) | EFER_SVME;
		return 0;
	}
	case STAR:
		s.star = v;
		return 0;
	case LSTAR:
	case CSTAR:
	case FS_BASE:
	case GS_BASE:
	case KERNEL_GS_BASE:
	case SYSENTER_ESP:
	case SYSENTER_EIP:
		if (!canonical(v))
			return -DK_EINVAL;
		if (index == LSTAR)
			s.lstar = v;
		else if (index == CSTAR)
			s.cstar = v;
		else if (index == FS_BASE)
			s.fs.base = v;
		else if (index == GS_BASE)
			s.gs.base = v;
		else if (index == KERNEL_GS_BASE)
			s.kernel_gs_base = v;
		else if (index == SYSENTER_ESP)
			s.sysenter_esp = v;
		else
			s.sysenter_eip = v;
		return 0;
	case SFMASK:
		s.sfmask = v;
		return 0;
	case SYSENTER_CS:
		s.sysenter_cs = v & 0xffff;
		return 0;
	case PAT:
		if (!pat_valid(v))
			return -DK_EINVAL;
		s.g_pat = v;
		return 0;
	case DEBUGCTL:
		return v ? -DK_EINVAL : 0; // no branch tracing for guests yet
	case TSC:
		vmcb_->control.tsc_offset = v - rdtsc();
		return 0;
	default:
		return -DK_ENOENT;
	}
}

} // namespace dbgkvm::svm
