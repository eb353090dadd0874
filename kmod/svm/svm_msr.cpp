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

MsrResult SvmVcpu::get_msr(u32 index, const cpuidt::Features &f, u64 *val)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER:
		*val = s.efer & ~EFER_SVME;
		return MsrResult::Done;
	case MSR_STAR:
		*val = s.star;
		return MsrResult::Done;
	case MSR_LSTAR:
		*val = s.lstar;
		return MsrResult::Done;
	case MSR_CSTAR:
		*val = s.cstar;
		return MsrResult::Done;
	case MSR_SFMASK:
		*val = s.sfmask;
		return MsrResult::Done;
	case MSR_FS_BASE:
		*val = s.fs.base;
		return MsrResult::Done;
	case MSR_GS_BASE:
		*val = s.gs.base;
		return MsrResult::Done;
	case MSR_KERNEL_GS_BASE:
		*val = s.kernel_gs_base;
		return MsrResult::Done;
	case MSR_SYSENTER_CS:
		*val = s.sysenter_cs;
		return MsrResult::Done;
	case MSR_SYSENTER_ESP:
		*val = static_cast<u32>(s.sysenter_esp) |
		       (f.amd_compatible ? 0 : u64{sysenter_esp_hi_} << 32);
		return MsrResult::Done;
	case MSR_SYSENTER_EIP:
		*val = static_cast<u32>(s.sysenter_eip) |
		       (f.amd_compatible ? 0 : u64{sysenter_eip_hi_} << 32);
		return MsrResult::Done;
	case MSR_PAT:
		*val = s.g_pat;
		return MsrResult::Done;
	case MSR_DEBUGCTL:
		*val = 0;
		return MsrResult::Done;
	case MSR_TSC:
		*val = rdtsc() + vmcb_->control.tsc_offset;
		return MsrResult::Done;
	default:
		return MsrResult::NotMine;
	}
}

MsrResult SvmVcpu::set_msr(u32 index, u64 v, const cpuidt::Features &f)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER: // checked by the core (msr::efer_write_valid); LMA is the CPU's
		s.efer = (v & ~EFER_LMA) | (s.efer & EFER_LMA) | EFER_SVME;
		return MsrResult::Done;
	case MSR_STAR:
		s.star = v;
		return MsrResult::Done;
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP: {
		// AMD keeps 32 bits: SYSENTER is legacy mode only there (APM Vol. 2, 6.1.1).
		// An Intel guest's 64-bit SYSENTER needs the high half, which KVM keeps
		// beside the VMCB for such a guest (cross-vendor migration) and drops for an
		// AMD one; dbgkvm does the same.
		if (!canonical(v))
			return MsrResult::Fault;
		const u32 hi = f.amd_compatible ? 0 : static_cast<u32>(v >> 32);
		if (index == MSR_SYSENTER_ESP) {
			s.sysenter_esp = static_cast<u32>(v);
			sysenter_esp_hi_ = hi;
		} else {
			s.sysenter_eip = static_cast<u32>(v);
			sysenter_eip_hi_ = hi;
		}
		return MsrResult::Done;
	}
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!canonical(v))
			return MsrResult::Fault;
		if (index == MSR_LSTAR)
			s.lstar = v;
		else if (index == MSR_CSTAR)
			s.cstar = v;
		else if (index == MSR_FS_BASE)
			s.fs.base = v;
		else if (index == MSR_GS_BASE)
			s.gs.base = v;
		else
			s.kernel_gs_base = v;
		return MsrResult::Done;
	case MSR_SFMASK:
		s.sfmask = v;
		return MsrResult::Done;
	case MSR_SYSENTER_CS:
		s.sysenter_cs = v & 0xffff;
		return MsrResult::Done;
	case MSR_PAT:
		if (!pat_valid(v))
			return MsrResult::Fault;
		s.g_pat = v;
		return MsrResult::Done;
	case MSR_DEBUGCTL:
		return v ? MsrResult::Fault : MsrResult::Done; // no branch tracing for guests yet
	case MSR_TSC:
		vmcb_->control.tsc_offset = v - rdtsc();
		return MsrResult::Done;
	default:
		return MsrResult::NotMine;
	}
}

} // namespace dbgkvm::svm
