// SPDX-License-Identifier: GPL-2.0
// The MSRs whose guest values live in the VMCB.
#include "dbgkvm_glue.h"
#include "svm/svm.hpp"

namespace dbgkvm::svm {

namespace {
constexpr u32 MSR_TSC = 0x10, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
	      MSR_SYSENTER_EIP = 0x176, MSR_DEBUGCTL = 0x1d9, MSR_PAT = 0x277,
	      MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
	      MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
	      MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102;
constexpr u64 EFER_SCE = bit(0), EFER_LME = bit(8), EFER_LMA = bit(10), EFER_NXE = bit(11),
	      EFER_SVME = bit(12);

bool canonical(u64 v)
{
	return static_cast<u64>(static_cast<s64>(v << 16) >> 16) == v;
}

// Each PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7 (SDM Vol. 3, 12.12.2).
bool pat_valid(u64 v)
{
	for (unsigned i = 0; i < 8; i++) {
		u8 t = (v >> (i * 8)) & 0xff;
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

u64 rdtsc()
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64{hi} << 32) | lo;
}
} // namespace

Errno SvmVcpu::get_msr(u32 index, u64 *val)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER: *val = s.efer & ~EFER_SVME; return 0;
	case MSR_STAR: *val = s.star; return 0;
	case MSR_LSTAR: *val = s.lstar; return 0;
	case MSR_CSTAR: *val = s.cstar; return 0;
	case MSR_SFMASK: *val = s.sfmask; return 0;
	case MSR_FS_BASE: *val = s.fs.base; return 0;
	case MSR_GS_BASE: *val = s.gs.base; return 0;
	case MSR_KERNEL_GS_BASE: *val = s.kernel_gs_base; return 0;
	case MSR_SYSENTER_CS: *val = s.sysenter_cs; return 0;
	case MSR_SYSENTER_ESP: *val = s.sysenter_esp; return 0;
	case MSR_SYSENTER_EIP: *val = s.sysenter_eip; return 0;
	case MSR_PAT: *val = s.g_pat; return 0;
	case MSR_DEBUGCTL: *val = 0; return 0;
	case MSR_TSC: *val = rdtsc() + vmcb_->control.tsc_offset; return 0;
	default: return -DK_ENOENT;
	}
}

Errno SvmVcpu::set_msr(u32 index, u64 v)
{
	VmcbSave &s = vmcb_->save;
	switch (index) {
	case MSR_EFER: {
		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -DK_EINVAL;
		// LME cannot change while paging is on; LMA is the processor's (SDM 9.8.5).
		if ((s.cr0 & bit(31)) && ((v ^ s.efer) & EFER_LME))
			return -DK_EINVAL;
		s.efer = (v & ~EFER_LMA) | (s.efer & EFER_LMA) | EFER_SVME;
		return 0;
	}
	case MSR_STAR: s.star = v; return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return -DK_EINVAL;
		if (index == MSR_LSTAR) s.lstar = v;
		else if (index == MSR_CSTAR) s.cstar = v;
		else if (index == MSR_FS_BASE) s.fs.base = v;
		else if (index == MSR_GS_BASE) s.gs.base = v;
		else if (index == MSR_KERNEL_GS_BASE) s.kernel_gs_base = v;
		else if (index == MSR_SYSENTER_ESP) s.sysenter_esp = v;
		else s.sysenter_eip = v;
		return 0;
	case MSR_SFMASK: s.sfmask = v; return 0;
	case MSR_SYSENTER_CS: s.sysenter_cs = v & 0xffff; return 0;
	case MSR_PAT:
		if (!pat_valid(v))
			return -DK_EINVAL;
		s.g_pat = v;
		return 0;
	case MSR_DEBUGCTL:
		return v ? -DK_EINVAL : 0; // no branch tracing for guests yet
	case MSR_TSC: vmcb_->control.tsc_offset = v - rdtsc(); return 0;
	default: return -DK_ENOENT;
	}
}

} // namespace dbgkvm::svm
