// SPDX-License-Identifier: GPL-2.0
// A VMX vCPU: its VMCS (where it is active, on which CPU), register state, and the
// entry path.
#include "dbgkvm_glue.h"
#include "rt/new.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

namespace
{
constexpr u64 CR0_PE = bit(0), CR0_NW = bit(29), CR0_CD = bit(30), CR0_PG = bit(31);
constexpr u64 EFER_LMA = bit(10);
constexpr u32 ENTRY_IA32E = bit(9);
constexpr u32 MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
	      MSR_PAT = 0x277, MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
	      MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_KERNEL_GS_BASE = 0xc0000102;
constexpr u32 EXCEPTION_BITMAP_BITS = bit(1) | bit(17); // #DB (CVE-2015-8104), #AC (CVE-2015-5307)

} // namespace

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

u64 cr4_mask()
{
	return caps().cr4_fixed0 | ~caps().cr4_fixed1;
}

u64 cr4_hw(u64 v)
{
	return (v | caps().cr4_fixed0) & caps().cr4_fixed1;
}

namespace
{
u64 read_cr2()
{
	u64 v;
	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void write_cr2(u64 v)
{
	asm volatile("mov %0, %%cr2" : : "r"(v));
}

u64 rdmsr(u32 msr)
{
	u64 v = 0;
	dk_rdmsr_safe(msr, &v);
	return v;
}

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

ArchVcpu *VmxVm::create_vcpu(unsigned int)
{
	return rt::make_initialized<VmxVcpu>(*this);
}

Errno VmxVm::map(u64 gpa, u64 hpa, bool writable)
{
	return ept.map(gpa, hpa, writable);
}

void VmxVm::unmap_all()
{
	ept.clear();
	tlb_gen++; // each vCPU does INVEPT before it next enters the guest
}

Errno VmxVcpu::init()
{
	vmcs_ = dk_alloc_pages(0, &vmcs_pa_);
	if (!vmcs_)
		return -DK_ENOMEM;
	*static_cast<u32 *>(vmcs_) = caps().revision; // 24.2: VMCS revision identifier
	vpid_ = vpid_alloc();
	return 0;
}

VmxVcpu::~VmxVcpu()
{
	// The VMCS may still be active on the CPU that last ran this vCPU: VMCLEAR it there
	// before the page goes back (24.11.1). If that CPU went offline, cpu_offline did it.
	int cpu = __atomic_load_n(&cpu_, __ATOMIC_ACQUIRE);
	if (cpu >= 0)
		dk_run_on_cpu(cpu, clear_on_this_cpu, this);
	vpid_free(vpid_);
	dk_free_pages(vmcs_, 0);
}

// Interrupts off, on the CPU where the VMCS is active (an IPI, or cpu_offline).
void VmxVcpu::clear_on_this_cpu(void *p) noexcept
{
	VmxVcpu *v = static_cast<VmxVcpu *>(p);
	int cpu = dk_cpu();
	if (__atomic_load_n(&v->cpu_, __ATOMIC_ACQUIRE) != cpu)
		return; // already cleared: the CPU went offline meanwhile
	PerCpu &pc = *percpu(unsigned(cpu));
	vmclear(v->vmcs_pa_);
	if (pc.current_vmcs == v->vmcs_pa_)
		pc.current_vmcs = 0;
	if (v->prev_)
		v->prev_->next_ = v->next_;
	else
		pc.loaded = v->next_;
	if (v->next_)
		v->next_->prev_ = v->prev_;
	v->next_ = v->prev_ = nullptr;
	v->launched_ = false; // VMCLEAR sets the launch state to "clear": VMLAUNCH next
	__atomic_store_n(&v->cpu_, -1, __ATOMIC_RELEASE);
}

void VmxVcpu::clear_all_on_this_cpu(PerCpu &pc)
{
	while (pc.loaded)
		clear_on_this_cpu(pc.loaded);
	pc.current_vmcs = 0;
}

// Called with preemption off: on vCPU ioctls and from the preempt notifier (sched_in).
// A VMCS is active on at most one CPU (24.11.1): moving to another CPU means VMCLEAR
// on the old one (an IPI), then VMPTRLD here, and this CPU's host state in the VMCS.
void VmxVcpu::load(int cpu)
{
	PerCpu &pc = *percpu(unsigned(cpu));
	loaded_ = true;
	int old = __atomic_load_n(&cpu_, __ATOMIC_ACQUIRE);
	if (old != cpu) {
		if (old >= 0)
			dk_run_on_cpu(old, clear_on_this_cpu, this);
		if (!pc.on)
			return; // VMX is off on this CPU (it is going offline): run() refuses
		dk_irq_disable();
		vmclear(vmcs_pa_); // the first time: initialises the VMCS (24.11.3)
		if (pc.current_vmcs == vmcs_pa_)
			pc.current_vmcs = 0;
		launched_ = false;
		prev_ = nullptr;
		next_ = pc.loaded;
		if (next_)
			next_->prev_ = this;
		pc.loaded = this;
		__atomic_store_n(&cpu_, cpu, __ATOMIC_RELEASE);
		dk_irq_enable();
	}
	dk_irq_disable();
	if (pc.current_vmcs != vmcs_pa_) {
		if (!vmptrld(vmcs_pa_))
			dk_log_warn("VMPTRLD failed on CPU %d\n", cpu);
		pc.current_vmcs = vmcs_pa_;
	}
	dk_irq_enable();
	if (host_cpu_ != cpu)
		write_host_state(cpu);
	if (!controls_set_)
		do_reset(); // created while VMX was off on that CPU (hotplug): never set up
}

void VmxVcpu::put()
{
	loaded_ = false;
}

// The host-state area (24.5, checked by 26.2.2-26.2.4) for this CPU: what does not
// change per entry. CR3, CR4, FS/GS and the selectors are written before each entry.
void VmxVcpu::write_host_state(int cpu)
{
	u16 cs, ss;
	asm volatile("mov %%cs, %0" : "=r"(cs));
	asm volatile("mov %%ss, %0" : "=r"(ss));
	u16 tr = str_sel();
	u64 gdt = sgdt_base();
	// The TSS descriptor is 16 bytes in long mode (SDM Vol. 3, 8.2.3).
	const u8 *d = reinterpret_cast<const u8 *>(gdt + (tr & ~7u));
	u64 tr_base = u64(d[2]) | u64(d[3]) << 8 | u64(d[4]) << 16 | u64(d[7]) << 24 |
		      u64(*reinterpret_cast<const u32 *>(d + 8)) << 32;

	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CS_SELECTOR, cs);
	vmwrite(HOST_SS_SELECTOR, ss);
	vmwrite(HOST_TR_SELECTOR, tr);
	vmwrite(HOST_TR_BASE, tr_base);
	vmwrite(HOST_GDTR_BASE, gdt);
	vmwrite(HOST_IDTR_BASE, sidt_base());
	vmwrite(HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER));
	if (caps().load_pat)
		vmwrite(HOST_IA32_PAT, rdmsr(MSR_PAT));
	host_cpu_ = cpu;
}

void VmxVcpu::setup_controls()
{
	const Caps &c = caps();
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, c.pin);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, c.proc);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, vpid_ ? c.proc2 : c.proc2 & ~u32(bit(5)));
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

void VmxVcpu::set_efer(u64 efer)
{
	vmwrite(GUEST_IA32_EFER, efer);
	u32 entry = u32(vmread(VM_ENTRY_CONTROLS));
	u32 want = (efer & EFER_LMA) ? entry | ENTRY_IA32E : entry & ~ENTRY_IA32E;
	if (want != entry)
		vmwrite(VM_ENTRY_CONTROLS, want);
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
	u32 a, b, cx, d;
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(cx), "=d"(d) : "a"(1), "c"(0));
	gprs_[RDX] = a; // family/model/stepping, as after RESET
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
	u64 m0 = cr0_mask(), m4 = cr4_mask();
	k.cr0 = (vmread(GUEST_CR0) & ~m0) | (vmread(CR0_READ_SHADOW) & m0);
	k.cr4 = (vmread(GUEST_CR4) & ~m4) | (vmread(CR4_READ_SHADOW) & m4);
	k.cr2 = cr2_;
	k.cr3 = vmread(GUEST_CR3);
	k.cr8 = cr8_;
	k.efer = vmread(GUEST_IA32_EFER);
}

// PAE paging outside long mode would also need the PDPTEs in GUEST_PDPTE0-3 (26.3.2.4),
// read from guest memory; dbgkvm's guests use it only through their own MOV to CR0,
// CR3 or CR4, which the processor handles itself (no exit).
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
	cr8_ = k.cr8 & 0xf;
	set_efer(k.efer);
	flushed_cpu_ = -1; // new paging state: no stale guest translations (VPID-tagged)
}

void VmxVcpu::queue_exception(u8 vector, bool has_error, u32 error)
{
	if (event_ & INTR_INFO_VALID)
		return; // an event interrupted by this exit goes first; the guest re-faults
	// No error code in real mode, even for #GP (26.2.1.3 with unrestricted guest).
	if (!(vmread(GUEST_CR0) & CR0_PE))
		has_error = false;
	event_ = INTR_INFO_VALID | (INTR_TYPE_HARD_EXCEPTION << INTR_INFO_TYPE_SHIFT) | vector |
		 (has_error ? INTR_INFO_ERROR_VALID : 0);
	event_err_ = error;
	event_len_ = 0;
}

// An event whose delivery the exit interrupted (IDT-vectoring information, 27.2.4) is
// injected again at the next entry, software interrupts and exceptions with the
// instruction length the exit reported (as KVM's __vmx_complete_interrupts).
void VmxVcpu::save_idt_vectoring(const ExitInfo &x)
{
	if (!(x.idt_info & INTR_INFO_VALID))
		return;
	event_ = x.idt_info & ~INTR_INFO_NMI_UNBLOCK;
	event_err_ = x.idt_error;
	event_len_ = x.insn_len;
}

// The CR0/CR4 the guest sees (the read shadows for the host-owned bits), as get_sregs.
// Access rights: L is bit 13, D/B bit 14, DPL bits 6:5 (24.4.1, Table 24-2).
void VmxVcpu::insn_context(InsnContext &c)
{
	u64 m0 = cr0_mask(), m4 = cr4_mask();
	c.cr0 = (vmread(GUEST_CR0) & ~m0) | (vmread(CR0_READ_SHADOW) & m0);
	c.cr3 = vmread(GUEST_CR3);
	c.cr4 = (vmread(GUEST_CR4) & ~m4) | (vmread(CR4_READ_SHADOW) & m4);
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

bool VmxVcpu::event_pending()
{
	return event_ & INTR_INFO_VALID;
}

bool VmxVcpu::prepare_entry(int cpu)
{
	PerCpu &pc = *percpu(unsigned(cpu));
	if (!pc.on || cpu_ != cpu || pc.current_vmcs != vmcs_pa_)
		return false;
	if (flushed_cpu_ != cpu || tlb_gen_ != vm_.tlb_gen) {
		// A new CPU may hold stale translations of this EPTP from an earlier visit,
		// and dropped EPT mappings must go from the TLBs (28.3.3.4).
		flush_ept(vm_.ept.eptp());
		flushed_cpu_ = cpu;
		tlb_gen_ = vm_.tlb_gen;
	}
	vmwrite(VM_ENTRY_INTR_INFO, event_);
	if (event_ & INTR_INFO_ERROR_VALID)
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, event_err_);
	u32 type = (event_ & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if ((event_ & INTR_INFO_VALID) && type >= INTR_TYPE_SOFT_INTR)
		vmwrite(VM_ENTRY_INSTRUCTION_LEN, event_len_);
	return true;
}

void VmxVcpu::world_switch()
{
	PerCpu &pc = *percpu(unsigned(cpu_));

	// Host state that changes per task or per entry.
	dk_vmx_host h;
	dk_vmx_host_save(&h);
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_FS_SELECTOR, (h.fs & 7) ? 0 : h.fs);
	vmwrite(HOST_GS_SELECTOR, (h.gs & 7) ? 0 : h.gs);
	vmwrite(HOST_FS_BASE, h.fs_base);
	vmwrite(HOST_GS_BASE, h.gs_base);

	// The SYSCALL MSRs and KERNEL_GS_BASE are not in the VMCS: the guest's values are
	// in the registers from here to the exit, with interrupts off (vmx_msr.cpp).
	dk_wrmsr_safe(MSR_STAR, star_);
	dk_wrmsr_safe(MSR_LSTAR, lstar_);
	dk_wrmsr_safe(MSR_CSTAR, cstar_);
	dk_wrmsr_safe(MSR_SFMASK, sfmask_);
	dk_wrmsr_safe(MSR_KERNEL_GS_BASE, kernel_gs_base_);
	if (read_cr2() != cr2_)
		write_cr2(cr2_);

	int fail = dbgkvm_vmx_vmenter(gprs_, launched_);

	cr2_ = read_cr2();
	dk_rdmsr_safe(MSR_KERNEL_GS_BASE, &kernel_gs_base_); // SWAPGS changes it
	dk_wrmsr_safe(MSR_STAR, pc.host_star);
	dk_wrmsr_safe(MSR_LSTAR, pc.host_lstar);
	dk_wrmsr_safe(MSR_CSTAR, pc.host_cstar);
	dk_wrmsr_safe(MSR_SFMASK, pc.host_sfmask);
	dk_wrmsr_safe(MSR_KERNEL_GS_BASE, h.kernel_gs_base);
	dk_vmx_host_restore(&h);

	ExitInfo &x = exit_;
	x = ExitInfo{};
	x.vmfail = fail;
	if (fail) {
		x.reason = u32(vmread(VM_INSTRUCTION_ERROR));
	} else {
		x.reason = u32(vmread(VM_EXIT_REASON));
		x.qual = vmread(EXIT_QUALIFICATION);
		x.intr_info = u32(vmread(VM_EXIT_INTR_INFO));
		x.intr_error = u32(vmread(VM_EXIT_INTR_ERROR_CODE));
		x.idt_info = u32(vmread(IDT_VECTORING_INFO));
		x.idt_error = u32(vmread(IDT_VECTORING_ERROR_CODE));
		x.insn_len = u32(vmread(VM_EXIT_INSTRUCTION_LEN));
		x.gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	}
	entered_ = !fail && !(x.reason & EXIT_REASON_FAILED_ENTRY);
	if (entered_) {
		launched_ = true;
		// An NMI that arrived in the guest exited to here: give it to the host.
		if ((x.reason & 0xffff) == EXIT_EXCEPTION_NMI && (x.intr_info & INTR_INFO_VALID) &&
		    ((x.intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI)
			dk_vmx_self_nmi();
		// The guest's MOV to CR0 may have switched EFER.LMA (long mode on or off);
		// the next entry's "IA-32e mode guest" must agree (26.3.1.1).
		set_efer(vmread(GUEST_IA32_EFER));
	}
}

ArchExit VmxVcpu::complete_exit()
{
	event_ = 0;
	if (entered_)
		save_idt_vectoring(exit_);
	return decode_exit(exit_);
}

} // namespace dbgkvm::vmx
