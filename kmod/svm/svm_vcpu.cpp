// SPDX-License-Identifier: GPL-2.0
// An SVM vCPU: its VMCB, register state and its part of the entry (core/entry.cpp).
#include "core/cr_rules.hpp"
#include "dbgkvm_glue.h"
#include "debugreg/debugreg.hpp"
#include "rt/new.hpp"
#include "rt/x86.hpp"
#include "svm/svm.hpp"
#include <initializer_list>

namespace dbgkvm::svm
{

using namespace x86;

namespace
{
// VMCB segment attributes <-> struct kvm_segment (APM 15.5.1: the hidden part of the
// segment register, descriptor bits 47:40 and 55:52).
u16 to_attrib(const kvm_segment &s)
{
	if (s.unusable || !s.present)
		return 0;
	return u16((s.type & 0xf) | (s.s & 1) << 4 | (s.dpl & 3) << 5 | 1 << 7 | (s.avl & 1) << 8 |
		   (s.l & 1) << 9 | (s.db & 1) << 10 | (s.g & 1) << 11);
}

void to_vmcb(VmcbSeg &v, const kvm_segment &s)
{
	v.selector = s.selector;
	v.base = s.base;
	v.limit = s.limit;
	v.attrib = to_attrib(s);
}

void from_vmcb(kvm_segment &s, const VmcbSeg &v)
{
	s = kvm_segment{};
	s.base = v.base;
	s.limit = v.limit;
	s.selector = v.selector;
	s.type = v.attrib & 0xf;
	s.s = (v.attrib >> 4) & 1;
	s.dpl = (v.attrib >> 5) & 3;
	s.present = (v.attrib >> 7) & 1;
	s.avl = (v.attrib >> 8) & 1;
	s.l = (v.attrib >> 9) & 1;
	s.db = (v.attrib >> 10) & 1;
	s.g = (v.attrib >> 11) & 1;
	s.unusable = !s.present;
}

void init_seg(VmcbSeg &v, u16 selector, u64 base, u16 attrib)
{
	v.selector = selector;
	v.base = base;
	v.limit = 0xffff;
	v.attrib = attrib;
}
} // namespace

ArchVcpu *SvmVm::create_vcpu(unsigned int)
{
	return rt::make_initialized<SvmVcpu>(*this);
}

Errno SvmVm::map(u64 gpa, u64 hpa, bool writable)
{
	return npt.map(gpa, hpa, writable);
}

void SvmVm::unmap_all()
{
	npt.clear();
	tlb_gen++;
}

Errno SvmVcpu::init()
{
	vmcb_ = static_cast<Vmcb *>(dk_alloc_pages(0, &vmcb_pa_));
	return vmcb_ ? 0 : -DK_ENOMEM;
}

SvmVcpu::~SvmVcpu()
{
	dk_free_pages(vmcb_, 0);
}

void SvmVcpu::load(int) {}
void SvmVcpu::put() {}

// Power-on state (APM 14.1.3, SDM Vol. 3 Table 10-1), as KVM sets it.
void SvmVcpu::reset()
{
	__builtin_memset(vmcb_, 0, sizeof(*vmcb_));
	sysenter_esp_hi_ = sysenter_eip_hi_ = 0;
	VmcbControl &c = vmcb_->control;
	VmcbSave &s = vmcb_->save;

	// #DB (CVE-2015-8104), #AC (CVE-2015-5307), and #MC for the host's handler.
	c.intercept_exceptions = bit(VEC_DB) | bit(VEC_AC) | bit(VEC_MC);
	c.intercept_dr = DR_INTERCEPT_ALL;    // until the guest owns them (WONT_EXIT)
	c.intercept_cr = CR4_WRITE_INTERCEPT; // CR4 bits the guest may not set: #GP
	c.intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_RDPMC |
			    INTERCEPT_CPUID | INTERCEPT_RSM | INTERCEPT_INVD | INTERCEPT_HLT |
			    INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT | INTERCEPT_MSR_PROT |
			    INTERCEPT_TASK_SWITCH | INTERCEPT_SHUTDOWN;
	c.intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
			    INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
			    INTERCEPT_WBINVD | INTERCEPT_MONITOR | INTERCEPT_MWAIT |
			    INTERCEPT_XSETBV;
	c.iopm_base_pa = iopm_pa();
	c.msrpm_base_pa = msrpm_pa();
	c.int_ctl = V_INTR_MASKING;
	c.nested_ctl = NP_ENABLE;
	c.nested_cr3 = vm_.npt.root_pa();

	init_seg(s.cs, 0xf000, 0xffff0000, 0x9b);
	init_seg(s.ds, 0, 0, 0x93);
	init_seg(s.es, 0, 0, 0x93);
	init_seg(s.ss, 0, 0, 0x93);
	init_seg(s.fs, 0, 0, 0x93);
	init_seg(s.gs, 0, 0, 0x93);
	init_seg(s.ldtr, 0, 0, 0x82);
	init_seg(s.tr, 0, 0, 0x8b);
	s.gdtr.limit = 0xffff;
	s.idtr.limit = 0xffff;
	s.efer = EFER_SVME;
	s.cr0 = 0x60000010; // CD | NW | ET
	s.dr6 = 0xffff0ff0;
	s.dr7 = 0x400;
	s.rflags = 2;
	s.rip = 0xfff0;
	s.g_pat = 0x0007040600070406ULL;

	__builtin_memset(gprs_, 0, sizeof(gprs_));
	u32 r[4];
	cpuid(1, 0, r);
	gprs_[RDX] = r[0]; // family/model/stepping, as after RESET
	event_ = event_err_ = 0;
	last_cpu_ = -1; // flush before the first entry
}

u64 SvmVcpu::reg(Reg r)
{
	switch (r) {
	case RAX:
		return vmcb_->save.rax;
	case RSP:
		return vmcb_->save.rsp;
	case RIP:
		return vmcb_->save.rip;
	case RFLAGS:
		return vmcb_->save.rflags;
	default:
		return gprs_[r & 15];
	}
}

void SvmVcpu::set_reg(Reg r, u64 v)
{
	switch (r) {
	case RAX:
		vmcb_->save.rax = v;
		break;
	case RSP:
		vmcb_->save.rsp = v;
		break;
	case RIP:
		vmcb_->save.rip = v;
		// Stepping over an instruction ends its interrupt shadow (STI/MOV SS).
		vmcb_->control.int_state &= ~1u;
		break;
	case RFLAGS:
		vmcb_->save.rflags = v;
		break;
	default:
		gprs_[r & 15] = v;
		break;
	}
}

void SvmVcpu::get_sregs(kvm_sregs &k)
{
	const VmcbSave &s = vmcb_->save;
	from_vmcb(k.cs, s.cs);
	from_vmcb(k.ds, s.ds);
	from_vmcb(k.es, s.es);
	from_vmcb(k.fs, s.fs);
	from_vmcb(k.gs, s.gs);
	from_vmcb(k.ss, s.ss);
	from_vmcb(k.tr, s.tr);
	from_vmcb(k.ldt, s.ldtr);
	// As KVM reports them: TR busy, data segments accessed, SS.DPL = CPL.
	k.tr.type |= 2;
	for (kvm_segment *d : {&k.ds, &k.es, &k.fs, &k.gs})
		if (!d->unusable)
			d->type |= 1;
	k.ss.dpl = s.cpl;
	if (k.ss.unusable)
		k.ss.db = 0;
	k.gdt = kvm_dtable{s.gdtr.base, u16(s.gdtr.limit), {}};
	k.idt = kvm_dtable{s.idtr.base, u16(s.idtr.limit), {}};
	k.cr0 = s.cr0;
	k.cr2 = s.cr2;
	k.cr3 = s.cr3;
	k.cr4 = s.cr4;
	// The guest's MOV to CR8 goes to V_TPR (V_INTR_MASKING, not intercepted). It read 0
	// whatever the guest or KVM_SET_SREGS had set (found by fuzz_test's compare).
	k.cr8 = vmcb_->control.int_ctl & V_TPR_MASK;
	k.efer = s.efer & ~EFER_SVME;
}

void SvmVcpu::set_sregs(const kvm_sregs &k)
{
	VmcbSave &s = vmcb_->save;
	to_vmcb(s.cs, k.cs);
	to_vmcb(s.ds, k.ds);
	to_vmcb(s.es, k.es);
	to_vmcb(s.fs, k.fs);
	to_vmcb(s.gs, k.gs);
	to_vmcb(s.ss, k.ss);
	to_vmcb(s.tr, k.tr);
	to_vmcb(s.ldtr, k.ldt);
	s.cpl = k.ss.dpl & 3; // the CPL follows SS.DPL (KVM's svm_set_segment)
	if (!(k.cr0 & CR0_PE))
		s.cpl = 0; // real mode runs at CPL 0
	s.gdtr.base = k.gdt.base;
	s.gdtr.limit = k.gdt.limit;
	s.idtr.base = k.idt.base;
	s.idtr.limit = k.idt.limit;
	s.cr0 = k.cr0;
	s.cr2 = k.cr2;
	s.cr3 = k.cr3;
	s.cr4 = k.cr4;
	s.efer = k.efer | EFER_SVME; // SVME must be set in the guest's EFER (APM 15.5.1)
	// KVM's kvm_set_cr8(): a value with bits above 3 is ignored, the TPR stays.
	if (!(k.cr8 & ~u64{V_TPR_MASK}))
		vmcb_->control.int_ctl = (vmcb_->control.int_ctl & ~V_TPR_MASK) | u32(k.cr8);
}

void SvmVcpu::insn_context(InsnContext &c)
{
	const VmcbSave &s = vmcb_->save;
	c.cr0 = s.cr0;
	c.cr3 = s.cr3;
	c.cr4 = s.cr4;
	c.efer = s.efer & ~EFER_SVME;
	c.cs_base = s.cs.base;
	c.cs_l = (s.cs.attrib >> 9) & 1; // VMCB attribute bits: APM 15.5.1 (see to_attrib)
	c.cs_db = (s.cs.attrib >> 10) & 1;
	c.cpl = s.cpl;
}

// A guest MOV to CR4 the core checked (core/cr_rules.hpp). A change of PGE, PAE, PSE or
// SMEP flushes the guest's TLB, as the instruction would (SDM Vol. 3, 4.10.4.1).
bool SvmVcpu::set_cr4(u64 v)
{
	if ((vmcb_->save.cr4 ^ v) & cr::CR4_TLB_BITS)
		flush_pending_ = true;
	vmcb_->save.cr4 = v;
	return false;
}

bool SvmVcpu::protected_mode()
{
	return vmcb_->save.cr0 & x86::CR0_PE;
}

// Every MOV to CR4 is intercepted: the core's check sees them all.
void SvmVcpu::set_cr4_reserved(u64) {}

events::ArchEvent SvmVcpu::event()
{
	return {event_, event_err_, event_reinjected_};
}

void SvmVcpu::load_event(const events::ArchEvent &e)
{
	event_ = e.info;
	event_err_ = e.error;
	event_reinjected_ = e.reinjected;
}

// SVM has one interrupt-shadow bit for STI and MOV SS alike (APM Vol. 2, 15.21.5): KVM
// reports it as both, and sets it for either.
u8 SvmVcpu::interrupt_shadow()
{
	return (vmcb_->control.int_state & 1) ? KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI
					      : 0;
}

void SvmVcpu::set_interrupt_shadow(u8 mask)
{
	vmcb_->control.int_state = (vmcb_->control.int_state & ~1u) | (mask ? 1 : 0);
}

void SvmVcpu::set_cr2(u64 v)
{
	vmcb_->save.cr2 = v;
}

// Never asked for: the SVM exit decode reports ICEBP as an ordinary #DB intercept (the
// #DB is a trap there, RIP already past the INT1). A #DB trap is what it would be.
void SvmVcpu::queue_icebp(u32)
{
	queue_exception(x86::VEC_DB, false, 0);
}

// An event whose delivery the exit interrupted (EXITINTINFO, APM 15.7.2) is injected
// again. Software interrupts and the soft exceptions #BP/#OF are not: without NRIP
// save there is no next RIP to give, and re-executing INTn/INT3/INTO raises them anew.
void SvmVcpu::save_exit_int_info()
{
	u32 info = vmcb_->control.exit_int_info;
	event_ = 0;
	if (!(info & EVT_VALID))
		return;
	u32 type = (info & EVT_TYPE_MASK) >> EVT_TYPE_SHIFT;
	u8 vector = info & 0xff;
	if (type == EVT_SOFT_INT ||
	    (type == EVT_EXCEPTION && (vector == VEC_BP || vector == VEC_OF)))
		return;
	event_ = info;
	event_err_ = vmcb_->control.exit_int_info_err;
	event_reinjected_ = true;
}

// Apply the debug-register model to the VMCB (the hardware state a rule changed).
void SvmVcpu::push_debug(u32 push)
{
	namespace dr = debugreg;
	if (push & dr::PUSH_DR7)
		vmcb_->save.dr7 = dr::effective_dr7(*dr_);
	if (push & dr::PUSH_DR6)
		vmcb_->save.dr6 = dr::hw_dr6(*dr_, dr::Vendor::Svm, knobs());
	if (push & dr::PUSH_DR_INTERCEPT)
		vmcb_->control.intercept_dr =
		    dr::should_intercept_dr_access(*dr_) ? DR_INTERCEPT_ALL : 0;
}

void SvmVcpu::set_bp_intercept(bool on)
{
	if (on)
		vmcb_->control.intercept_exceptions |= u32(bit(VEC_BP));
	else
		vmcb_->control.intercept_exceptions &= ~u32(bit(VEC_BP));
}

// The guest's DR6 and DR7 live in the VMCB (APM Vol. 2 15.5.1: VMRUN loads them, #VMEXIT
// saves them).
void SvmVcpu::set_guest_dr6(u64 v)
{
	vmcb_->save.dr6 = v;
}

void SvmVcpu::set_guest_dr7(u64 v)
{
	vmcb_->save.dr7 = v;
}

u64 SvmVcpu::guest_dr6()
{
	return vmcb_->save.dr6;
}

u64 SvmVcpu::guest_dr7()
{
	return vmcb_->save.dr7;
}

bool SvmVcpu::prepare_entry(int cpu)
{
	VmcbControl &c = vmcb_->control;
	c.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	if (cpu != last_cpu_ || !asid_current(asid_gen_)) {
		// New CPU, or this CPU's ASIDs were recycled: a fresh ASID, and a flush (the
		// ASID may have been used before on this CPU, by another vCPU or hypervisor).
		asid_assign(&asid_, &asid_gen_);
		c.asid = asid_;
		c.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
		last_cpu_ = cpu;
	}
	if (tlb_gen_ != vm_.tlb_gen || flush_pending_) { // mappings dropped; a CR4 write
		c.tlb_ctl = TLB_CONTROL_FLUSH_ALL;
		tlb_gen_ = vm_.tlb_gen;
		flush_pending_ = false;
	}
	c.event_inj = event_;
	c.event_inj_err = event_err_;
	return true;
}

void SvmVcpu::world_switch()
{
	const u64 host_vmsave_pa = percpu(unsigned(last_cpu_))->host_vmsave_pa;
	dk_guest_state_enter();
	dbgkvm_svm_vmrun(vmcb_pa_, gprs_, host_vmsave_pa);
	dk_guest_state_exit();
	// An intercepted #MC does not reach the host's handler by itself (APM 15.12): call
	// it, before interrupts come back (KVM's svm_handle_mce).
	if (u32(vmcb_->control.exit_code) == EXIT_EXCP_BASE + x86::VEC_MC)
		dk_machine_check();
	// A #DB intercept's causes are in the VMCB DR6 now; the core's exit sync may
	// rewrite it.
	exit_dr6_ = vmcb_->save.dr6;
}

ArchExit SvmVcpu::complete_exit()
{
	vmcb_->control.event_inj = 0;
	save_exit_int_info();
	return decode_exit();
}

} // namespace dbgkvm::svm
