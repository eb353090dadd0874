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
// values go back right after the exit (VmxVcpu::world_switch). Nothing in the host uses them
// in between: SYSCALL only comes from user space, and the kernel's own SWAPGS happens
// only on the way to or from user space. KERNEL_GS_BASE is read back after each exit,
// since the guest's SWAPGS changes it without an exit. KVM defers the host values to
// the return to user space (user-return notifiers); per entry is simpler and cheap.
#include "core/msr_rules.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace msr;
using namespace x86;

MsrResult VmxVcpu::get_msr(u32 index, const cpuidt::Features &, u64 *val)
{
	switch (index) {
	case MSR_EFER:
		*val = vmread(GUEST_IA32_EFER);
		return MsrResult::Done;
	case MSR_STAR:
		*val = star_;
		return MsrResult::Done;
	case MSR_LSTAR:
		*val = lstar_;
		return MsrResult::Done;
	case MSR_CSTAR:
		*val = cstar_;
		return MsrResult::Done;
	case MSR_SFMASK:
		*val = sfmask_;
		return MsrResult::Done;
	case MSR_FS_BASE:
		*val = vmread(seg_base(SEG_FS));
		return MsrResult::Done;
	case MSR_GS_BASE:
		*val = vmread(seg_base(SEG_GS));
		return MsrResult::Done;
	case MSR_KERNEL_GS_BASE:
		*val = kernel_gs_base_;
		return MsrResult::Done;
	case MSR_SYSENTER_CS:
		*val = vmread(GUEST_SYSENTER_CS);
		return MsrResult::Done;
	case MSR_SYSENTER_ESP:
		*val = vmread(GUEST_SYSENTER_ESP);
		return MsrResult::Done;
	case MSR_SYSENTER_EIP:
		*val = vmread(GUEST_SYSENTER_EIP);
		return MsrResult::Done;
	case MSR_PAT:
		*val = caps().load_pat ? vmread(GUEST_IA32_PAT) : pat_;
		return MsrResult::Done;
	case MSR_DEBUGCTL:
		*val = vmread(GUEST_IA32_DEBUGCTL);
		return MsrResult::Done;
	case MSR_TSC:
		*val = rdtsc() + vmread(TSC_OFFSET);
		return MsrResult::Done;
	default:
		return MsrResult::NotMine;
	}
}

MsrResult VmxVcpu::set_msr(u32 index, u64 v, const cpuidt::Features &)
{
	switch (index) {
	case MSR_EFER: // checked by the core (msr::efer_write_valid); LMA is the CPU's
		set_efer((v & ~EFER_LMA) | (vmread(GUEST_IA32_EFER) & EFER_LMA));
		return MsrResult::Done;
	case MSR_STAR:
		star_ = v;
		return MsrResult::Done;
	case MSR_SFMASK:
		sfmask_ = v & 0xffffffff;
		return MsrResult::Done;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return MsrResult::Fault;
		if (index == MSR_LSTAR)
			lstar_ = v;
		else if (index == MSR_CSTAR)
			cstar_ = v;
		else if (index == MSR_FS_BASE)
			vmwrite(seg_base(SEG_FS), v);
		else if (index == MSR_GS_BASE)
			vmwrite(seg_base(SEG_GS), v);
		else if (index == MSR_KERNEL_GS_BASE)
			kernel_gs_base_ = v;
		else if (index == MSR_SYSENTER_ESP)
			vmwrite(GUEST_SYSENTER_ESP, v);
		else
			vmwrite(GUEST_SYSENTER_EIP, v);
		return MsrResult::Done;
	case MSR_SYSENTER_CS:
		vmwrite(GUEST_SYSENTER_CS, v & 0xffff);
		return MsrResult::Done;
	case MSR_PAT:
		if (!pat_valid(v))
			return MsrResult::Fault;
		pat_ = v;
		if (caps().load_pat)
			vmwrite(GUEST_IA32_PAT, v);
		return MsrResult::Done;
	case MSR_DEBUGCTL:
		return v ? MsrResult::Fault : MsrResult::Done; // no branch tracing for guests yet
	case MSR_TSC:
		vmwrite(TSC_OFFSET, v - rdtsc());
		return MsrResult::Done;
	default:
		return MsrResult::NotMine;
	}
}

} // namespace dbgkvm::vmx
