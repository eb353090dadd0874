// SPDX-License-Identifier: GPL-2.0
// The MSRs whose guest values the VMX backend keeps.
//
// In the VMCS: EFER (loaded and saved by the entry/exit controls), SYSENTER_CS/ESP/EIP,
// FS/GS base (the segment bases), PAT (when the controls load it), DEBUGCTL, and the
// TSC as TSC_OFFSET.
//
// Not in the VMCS: STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE. The guest cannot run
// with the host's values (its SYSCALL would enter the host kernel's entry point, and
// SWAPGS would hand it the host's user GS base), so they are kept here and written
// into the MSRs right before each VM entry, with interrupts off, and the host's
// values go back right after the exit (VmxVcpu::run). Nothing in the host uses them
// in between: SYSCALL only comes from user space, and the kernel's own SWAPGS happens
// only on the way to or from user space. KERNEL_GS_BASE is read back after each exit,
// since the guest's SWAPGS changes it without an exit. KVM defers the host values to
// the return to user space (user-return notifiers); per entry is simpler and cheap.
#include "dbgkvm_glue.h"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx {

namespace {
constexpr u32 MSR_TSC = 0x10, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
	      MSR_SYSENTER_EIP = 0x176, MSR_DEBUGCTL = 0x1d9, MSR_PAT = 0x277,
	      MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
	      MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
	      MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102;
constexpr u64 EFER_SCE = bit(0), EFER_LME = bit(8), EFER_LMA = bit(10), EFER_NXE = bit(11);

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

Errno VmxVcpu::get_msr(u32 index, u64 *val)
{
	switch (index) {
	case MSR_EFER: *val = vmread(GUEST_IA32_EFER); return 0;
	case MSR_STAR: *val = star_; return 0;
	case MSR_LSTAR: *val = lstar_; return 0;
	case MSR_CSTAR: *val = cstar_; return 0;
	case MSR_SFMASK: *val = sfmask_; return 0;
	case MSR_FS_BASE: *val = vmread(seg_base(SEG_FS)); return 0;
	case MSR_GS_BASE: *val = vmread(seg_base(SEG_GS)); return 0;
	case MSR_KERNEL_GS_BASE: *val = kernel_gs_base_; return 0;
	case MSR_SYSENTER_CS: *val = vmread(GUEST_SYSENTER_CS); return 0;
	case MSR_SYSENTER_ESP: *val = vmread(GUEST_SYSENTER_ESP); return 0;
	case MSR_SYSENTER_EIP: *val = vmread(GUEST_SYSENTER_EIP); return 0;
	case MSR_PAT: *val = caps().load_pat ? vmread(GUEST_IA32_PAT) : pat_; return 0;
	case MSR_DEBUGCTL: *val = vmread(GUEST_IA32_DEBUGCTL); return 0;
	case MSR_TSC: *val = rdtsc() + vmread(TSC_OFFSET); return 0;
	default: return -DK_ENOENT;
	}
}

Errno VmxVcpu::set_msr(u32 index, u64 v)
{
	switch (index) {
	case MSR_EFER: {
		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -DK_EINVAL;
		u64 efer = vmread(GUEST_IA32_EFER);
		// LME cannot change while paging is on; LMA is the processor's (SDM 9.8.5).
		if ((vmread(GUEST_CR0) & bit(31)) && ((v ^ efer) & EFER_LME))
			return -DK_EINVAL;
		set_efer((v & ~EFER_LMA) | (efer & EFER_LMA));
		return 0;
	}
	case MSR_STAR: star_ = v; return 0;
	case MSR_SFMASK: sfmask_ = v & 0xffffffff; return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return -DK_EINVAL;
		if (index == MSR_LSTAR) lstar_ = v;
		else if (index == MSR_CSTAR) cstar_ = v;
		else if (index == MSR_FS_BASE) vmwrite(seg_base(SEG_FS), v);
		else if (index == MSR_GS_BASE) vmwrite(seg_base(SEG_GS), v);
		else if (index == MSR_KERNEL_GS_BASE) kernel_gs_base_ = v;
		else if (index == MSR_SYSENTER_ESP) vmwrite(GUEST_SYSENTER_ESP, v);
		else vmwrite(GUEST_SYSENTER_EIP, v);
		return 0;
	case MSR_SYSENTER_CS: vmwrite(GUEST_SYSENTER_CS, v & 0xffff); return 0;
	case MSR_PAT:
		if (!pat_valid(v))
			return -DK_EINVAL;
		pat_ = v;
		if (caps().load_pat)
			vmwrite(GUEST_IA32_PAT, v);
		return 0;
	case MSR_DEBUGCTL:
		return v ? -DK_EINVAL : 0; // no branch tracing for guests yet
	case MSR_TSC: vmwrite(TSC_OFFSET, v - rdtsc()); return 0;
	default: return -DK_ENOENT;
	}
}

} // namespace dbgkvm::vmx
