// SPDX-License-Identifier: GPL-2.0
// A VMX vCPU's guest state: registers, segments, control registers (get/set_sregs, the
// CR0/CR4 guest/host masks), the instruction context, the VM-execution controls and reset.
#include "core/cr_rules.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

// CR0 and CR4 bits the guest cannot own: those VMX operation fixes (A.7, A.8) except
// PE and PG, which unrestricted guest frees (26.3.1.1). The guest reads them from the
// read shadow; writing a value that differs from the shadow in one of them exits.
// CD and NW are the host's too, and always 0 in the real CR0, as in KVM
// (KVM_VM_CR0_ALWAYS_OFF): guest memory is write-back whatever the guest asks (the EPT
// entries ignore PAT), and Bochs clears them in a guest's CR0 anyway.
u64 cr0_mask()
{
	return (caps().cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~caps().cr0_fixed1 | CR0_CD | CR0_NW;
}

u64 cr0_hw(u64 v)
{
	return (v | (caps().cr0_fixed0 & ~(CR0_PE | CR0_PG))) &
	       (caps().cr0_fixed1 | CR0_PE | CR0_PG) & ~(CR0_CD | CR0_NW);
}

// The host owns the bits VMX fixes and every bit the guest may never set
// (cr::CR4_GUEST_ALLOWED); each vCPU adds those its CPUID reserves (VmxVcpu::cr4_mask).
// A MOV to CR4 that would change one exits, so CR4.PKE, OSXSAVE, PCIDE... never reach
// the hardware from the guest.
u64 cr4_fixed_mask()
{
	return caps().cr4_fixed0 | ~caps().cr4_fixed1 | ~cr::CR4_GUEST_ALLOWED;
}

u64 cr4_hw(u64 v)
{
	return (v | caps().cr4_fixed0) & caps().cr4_fixed1;
}

namespace
{
// #DB (CVE-2015-8104) and #AC (CVE-2015-5307) always exit.
// #MC always exits too, so the host's handler sees a machine check (KVM does the same).
constexpr u32 EXCEPTION_BITMAP_BITS = bit(VEC_DB) | bit(VEC_AC) | bit(VEC_MC);

// VMCS access rights <-> struct kvm_segment (24.4.1). As in KVM, an unusable segment is
// reported not present, and a non-present one is written unusable.
u32 to_ar(const kvm_segment &s)
{
	if (s.unusable || !s.present)
		return AR_UNUSABLE;
	return (s.type & 15) | (s.s & 1) << 4 | (s.dpl & 3) << 5 | 1 << 7 | (s.avl & 1) << 12 |
	       (s.l & 1) << 13 | (s.db & 1) << 14 | (s.g & 1) << 15;
}

void write_seg(Seg seg, const kvm_segment &s)
{
	kvm_segment k = s;
	if (!k.unusable && k.present) {
		// What the processor itself sets when it loads these (26.3.1.2 checks them):
		// code and data segments accessed, the task register busy.
		if (seg == SEG_TR)
			k.type |= 2;
		else if (seg != SEG_LDTR && k.s)
			k.type |= 1;
	}
	vmwrite(seg_selector(seg), k.selector);
	vmwrite(seg_base(seg), k.base);
	vmwrite(seg_limit(seg), k.limit);
	vmwrite(seg_ar(seg), to_ar(k));
}

void read_seg(Seg seg, kvm_segment &s)
{
	u32 ar = u32(vmread(seg_ar(seg)));
	s = kvm_segment{};
	s.base = vmread(seg_base(seg));
	s.limit = u32(vmread(seg_limit(seg)));
	s.selector = u16(vmread(seg_selector(seg)));
	s.type = ar & 15;
	s.s = (ar >> 4) & 1;
	s.dpl = (ar >> 5) & 3;
	s.unusable = (ar >> 16) & 1;
	s.present = !s.unusable;
	s.avl = (ar >> 12) & 1;
	s.l = (ar >> 13) & 1;
	s.db = (ar >> 14) & 1;
	s.g = (ar >> 15) & 1;
}

void init_seg(Seg seg, u16 selector, u64 base, u32 ar)
{
	vmwrite(seg_selector(seg), selector);
	vmwrite(seg_base(seg), base);
	vmwrite(seg_limit(seg), 0xffff);
	vmwrite(seg_ar(seg), ar);
}

} // namespace

void VmxVcpu::setup_controls()
{
	const Caps &c = caps();
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, c.pin);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, c.proc);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, vpid_ ? c.proc2 : c.proc2 & ~PROC2_VPID);
	vmwrite(VM_EXIT_CONTROLS, c.exit);
	vmwrite(VM_ENTRY_CONTROLS, c.entry);
	vmwrite(EXCEPTION_BITMAP, EXCEPTION_BITMAP_BITS);
	vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_LINK_POINTER, ~u64{0}); // no shadow VMCS (26.3.1.5)
	vmwrite(EPT_POINTER, vm_.ept.eptp());
	if (vpid_)
		vmwrite(VIRTUAL_PROCESSOR_ID, vpid_);
	vmwrite(CR0_GUEST_HOST_MASK, cr0_mask());
	vmwrite(CR4_GUEST_HOST_MASK, cr4_mask());
	vmwrite(TSC_OFFSET, 0);
	if (c.preempt_timer) // reloaded at every entry: no "save timer value" exit control
		vmwrite(VMX_PREEMPTION_TIMER_VALUE, c.preempt_timer);
	vmwrite(HOST_DS_SELECTOR, 0);
	vmwrite(HOST_ES_SELECTOR, 0);
}

void VmxVcpu::reset()
{
	if (loaded_) {
		do_reset();
		return;
	}
	// From KVM_CREATE_VCPU: not loaded yet.
	dk_preempt_disable();
	load(dk_cpu());
	do_reset();
	put();
	dk_preempt_enable();
}

// Power-on state (SDM Vol. 3, Table 10-1), as KVM's vmx_vcpu_reset sets it.
void VmxVcpu::do_reset()
{
	if (cpu_ < 0)
		return; // VMX was off on this CPU: nothing to write into
	setup_controls();
	controls_set_ = true;
	init_seg(SEG_CS, 0xf000, 0xffff0000, 0x9b);
	init_seg(SEG_DS, 0, 0, 0x93);
	init_seg(SEG_ES, 0, 0, 0x93);
	init_seg(SEG_SS, 0, 0, 0x93);
	init_seg(SEG_FS, 0, 0, 0x93);
	init_seg(SEG_GS, 0, 0, 0x93);
	init_seg(SEG_LDTR, 0, 0, 0x82);
	init_seg(SEG_TR, 0, 0, 0x8b);
	vmwrite(GUEST_GDTR_BASE, 0);
	vmwrite(GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0xffff);
	const u64 cr0 = 0x60000010; // CD | NW | ET
	vmwrite(GUEST_CR0, cr0_hw(cr0));
	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(GUEST_CR4, cr4_hw(0));
	vmwrite(CR4_READ_SHADOW, 0);
	vmwrite(GUEST_CR3, 0);
	set_efer(0);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RIP, 0xfff0);
	vmwrite(GUEST_RFLAGS, 2);
	vmwrite(GUEST_IA32_DEBUGCTL, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	pat_ = 0x0007040600070406ULL;
	if (caps().load_pat)
		vmwrite(GUEST_IA32_PAT, pat_);
	vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);

	__builtin_memset(gprs_, 0, sizeof(gprs_));
	u32 r[4];
	cpuid(1, 0, r);
	gprs_[RDX] = r[0]; // family/model/stepping, as after RESET
	cr2_ = cr8_ = 0;
	star_ = lstar_ = cstar_ = sfmask_ = kernel_gs_base_ = 0;
	event_ = event_err_ = event_len_ = 0;
	flushed_cpu_ = -1; // flush before the first entry
}

u64 VmxVcpu::reg(Reg r)
{
	switch (r) {
	case RSP:
		return vmread(GUEST_RSP);
	case RIP:
		return vmread(GUEST_RIP);
	case RFLAGS:
		return vmread(GUEST_RFLAGS);
	default:
		return gprs_[r & 15];
	}
}

void VmxVcpu::set_reg(Reg r, u64 v)
{
	switch (r) {
	case RSP:
		vmwrite(GUEST_RSP, v);
		break;
	case RIP: {
		vmwrite(GUEST_RIP, v);
		// Stepping over an instruction ends its interrupt shadow (STI/MOV SS).
		u64 is = vmread(GUEST_INTERRUPTIBILITY_INFO);
		if (is & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
			vmwrite(GUEST_INTERRUPTIBILITY_INFO,
				is & ~u64(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
		break;
	}
	case RFLAGS:
		vmwrite(GUEST_RFLAGS, v);
		break;
	default:
		gprs_[r & 15] = v;
		break;
	}
}

bool VmxVcpu::guest_64bit()
{
	return (vmread(GUEST_IA32_EFER) & EFER_LMA) && (vmread(seg_ar(SEG_CS)) & bit(13));
}

void VmxVcpu::get_sregs(kvm_sregs &k)
{
	read_seg(SEG_CS, k.cs);
	read_seg(SEG_DS, k.ds);
	read_seg(SEG_ES, k.es);
	read_seg(SEG_FS, k.fs);
	read_seg(SEG_GS, k.gs);
	read_seg(SEG_SS, k.ss);
	read_seg(SEG_TR, k.tr);
	read_seg(SEG_LDTR, k.ldt);
	k.gdt = kvm_dtable{vmread(GUEST_GDTR_BASE), u16(vmread(GUEST_GDTR_LIMIT)), {}};
	k.idt = kvm_dtable{vmread(GUEST_IDTR_BASE), u16(vmread(GUEST_IDTR_LIMIT)), {}};
	const u64 m0 = cr0_mask();
	k.cr0 = (vmread(GUEST_CR0) & ~m0) | (vmread(CR0_READ_SHADOW) & m0);
	k.cr4 = cr4();
	k.cr2 = cr2_;
	k.cr3 = vmread(GUEST_CR3);
	k.cr8 = cr8_;
	k.efer = vmread(GUEST_IA32_EFER);
}

// A MOV to CR4 that exited and that the core checked: make the read shadow the new value
// and let the guest run the instruction again. It then does not exit, and the processor
// does the rest itself (the TLB, and the PDPTEs of PAE paging outside long mode, which
// would otherwise have to be read from guest memory into GUEST_PDPTE0-3, 26.3.2.4).
bool VmxVcpu::set_cr4(u64 v)
{
	vmwrite(CR4_READ_SHADOW, v);
	return true;
}

// The guest-visible CR4 stays what it was: the bits that join the mask take their value
// from the read shadow from now on.
void VmxVcpu::set_cr4_reserved(u64 bits)
{
	const u64 visible = cr4();
	cr4_reserved_ = bits;
	vmwrite(CR4_GUEST_HOST_MASK, cr4_mask());
	vmwrite(CR4_READ_SHADOW, visible);
}

void VmxVcpu::set_sregs(const kvm_sregs &k)
{
	write_seg(SEG_CS, k.cs);
	write_seg(SEG_DS, k.ds);
	write_seg(SEG_ES, k.es);
	write_seg(SEG_FS, k.fs);
	write_seg(SEG_GS, k.gs);
	write_seg(SEG_SS, k.ss);
	write_seg(SEG_TR, k.tr);
	write_seg(SEG_LDTR, k.ldt);
	vmwrite(GUEST_GDTR_BASE, k.gdt.base);
	vmwrite(GUEST_GDTR_LIMIT, k.gdt.limit);
	vmwrite(GUEST_IDTR_BASE, k.idt.base);
	vmwrite(GUEST_IDTR_LIMIT, k.idt.limit);
	vmwrite(GUEST_CR0, cr0_hw(k.cr0));
	vmwrite(CR0_READ_SHADOW, k.cr0);
	vmwrite(GUEST_CR4, cr4_hw(k.cr4));
	vmwrite(CR4_READ_SHADOW, k.cr4);
	vmwrite(GUEST_CR3, k.cr3);
	cr2_ = k.cr2;
	if (!(k.cr8 & ~u64{0xf})) // KVM's kvm_set_cr8(): bits above 3: ignored, the TPR stays
		cr8_ = k.cr8;
	set_efer(k.efer);
	flushed_cpu_ = -1; // new paging state: no stale guest translations (VPID-tagged)
}

// The CR0/CR4 the guest sees (the read shadows for the host-owned bits), as get_sregs.
// Access rights: L is bit 13, D/B bit 14, DPL bits 6:5 (24.4.1, Table 24-2).
void VmxVcpu::insn_context(InsnContext &c)
{
	const u64 m0 = cr0_mask();
	c.cr0 = (vmread(GUEST_CR0) & ~m0) | (vmread(CR0_READ_SHADOW) & m0);
	c.cr3 = vmread(GUEST_CR3);
	c.cr4 = cr4();
	c.efer = vmread(GUEST_IA32_EFER);
	c.cs_base = vmread(seg_base(SEG_CS));
	u32 cs_ar = u32(vmread(seg_ar(SEG_CS)));
	c.cs_l = (cs_ar >> 13) & 1;
	c.cs_db = (cs_ar >> 14) & 1;
	c.cpl = u8(cpl());
}

u64 VmxVcpu::cs_base()
{
	return vmread(seg_base(SEG_CS));
}

// The CPL is SS.DPL (24.4.1: the SS access rights hold it on VM entry and exit).
int VmxVcpu::cpl()
{
	return int((vmread(seg_ar(SEG_SS)) >> 5) & 3);
}

u64 VmxVcpu::cr4()
{
	return (vmread(GUEST_CR4) & ~cr4_mask()) | (vmread(CR4_READ_SHADOW) & cr4_mask());
}

bool VmxVcpu::movss_shadow()
{
	return vmread(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS;
}

u8 VmxVcpu::interrupt_shadow()
{
	const u64 is = vmread(GUEST_INTERRUPTIBILITY_INFO);
	return ((is & INTERRUPTIBILITY_STI) ? KVM_X86_SHADOW_INT_STI : 0) |
	       ((is & INTERRUPTIBILITY_MOV_SS) ? KVM_X86_SHADOW_INT_MOV_SS : 0);
}

// One of the two, MOV SS first (KVM's vmx_set_interrupt_shadow): the VMCS may not hold
// both (SDM Vol. 3, 27.3.1.5).
void VmxVcpu::set_interrupt_shadow(u8 mask)
{
	u64 is = vmread(GUEST_INTERRUPTIBILITY_INFO) &
		 ~u64(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	if (mask & KVM_X86_SHADOW_INT_MOV_SS)
		is |= INTERRUPTIBILITY_MOV_SS;
	else if (mask & KVM_X86_SHADOW_INT_STI)
		is |= INTERRUPTIBILITY_STI;
	vmwrite(GUEST_INTERRUPTIBILITY_INFO, is);
}

void VmxVcpu::set_cr2(u64 v)
{
	cr2_ = v;
}

} // namespace dbgkvm::vmx
