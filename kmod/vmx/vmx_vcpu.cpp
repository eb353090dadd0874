// SPDX-License-Identifier: GPL-2.0
// A VMX vCPU's life: create and destroy, load and put, the per-CPU list of active VMCSs
// and the host-state area (vmx_state.cpp: guest state; vmx_entry.cpp: the entry path).
#include "dbgkvm_glue.h"
#include "rt/new.hpp"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

namespace
{
u64 rdmsr(u32 msr)
{
	u64 v = 0;
	dk_rdmsr_safe(msr, &v);
	return v;
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

} // namespace dbgkvm::vmx
