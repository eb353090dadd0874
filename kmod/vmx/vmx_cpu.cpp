// SPDX-License-Identifier: GPL-2.0
// VMX on each CPU: VMXON/VMXOFF, the per-CPU list of active VMCSs, VPIDs and INVEPT.
#include "dbgkvm_glue.h"
#include "rt/new.hpp"
#include "rt/x86_defs.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

namespace
{
constexpr u64 FEATURE_CONTROL_LOCKED = bit(0), FEATURE_CONTROL_VMXON_OUTSIDE_SMX = bit(2);

// VPIDs 1..VPID_MAX (0 is the host's). A bounded table; a vCPU that finds none runs
// without VPID (VPID 0 is then invalid for a guest, so VPID is switched off for it).
constexpr unsigned VPID_MAX = 4095;

struct Globals {
	PerCpu *cpus;
	unsigned nr_cpus;
	u64 vpid_bits[(VPID_MAX + 1) / 64];
};
Globals g;

Errno probe()
{
	Caps c;
	Errno r = read_caps(&c);
	if (r)
		return r;
	g.nr_cpus = dk_nr_cpu_ids();
	g.cpus = static_cast<PerCpu *>(dk_zalloc(sizeof(PerCpu) * g.nr_cpus));
	if (!g.cpus)
		return -DK_ENOMEM;
	g.vpid_bits[0] = 1; // VPID 0: the host
	return 0;
}

void backend_exit()
{
	for (unsigned i = 0; i < g.nr_cpus; i++)
		dk_free_pages(g.cpus[i].vmxon, 0);
	dk_free(g.cpus);
	g = Globals{};
}

// Runs on `cpu` (a CPU hotplug callback), SDM Vol. 3, 24.7 "Enabling and entering VMX
// operation": IA32_FEATURE_CONTROL must be locked with VMXON outside SMX allowed,
// CR4.VMXE set, then VMXON with a VMXON region carrying the VMCS revision.
Errno cpu_online(unsigned cpu)
{
	PerCpu &pc = g.cpus[cpu];
	u64 fc = 0;
	if (dk_rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc) || !(fc & FEATURE_CONTROL_LOCKED) ||
	    !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		dk_log_warn(
		    "VMX is disabled by the firmware on CPU %u (IA32_FEATURE_CONTROL 0x%llx)\n",
		    cpu, static_cast<unsigned long long>(fc));
		return -DK_EIO;
	}
	if (!pc.vmxon) {
		pc.vmxon = dk_alloc_pages(0, &pc.vmxon_pa);
		if (!pc.vmxon)
			return -DK_ENOMEM;
	}
	*static_cast<u32 *>(pc.vmxon) = caps().revision;
	if (dk_vmx_cr4_enable()) {
		// Someone else (kvm_intel, VirtualBox...) is in VMX operation: do not share it.
		dk_log_warn(
		    "VMX is already enabled on CPU %u (CR4.VMXE): another hypervisor is using it\n",
		    cpu);
		return -DK_EBUSY;
	}
	if (!vmxon(pc.vmxon_pa)) {
		dk_vmx_cr4_disable();
		dk_log_warn("VMXON failed on CPU %u\n", cpu);
		return -DK_EIO;
	}
	// Nothing cached from an earlier user of VMX on this CPU may survive (28.3.3.1).
	invept(2, 0);
	pc.current_vmcs = 0;
	pc.loaded = nullptr;
	dk_rdmsr_safe(MSR_STAR, &pc.host_star);
	dk_rdmsr_safe(MSR_LSTAR, &pc.host_lstar);
	dk_rdmsr_safe(MSR_CSTAR, &pc.host_cstar);
	dk_rdmsr_safe(MSR_SFMASK, &pc.host_sfmask);
	pc.on = true;
	return 0;
}

// Runs on `cpu`: every VMCS still active here is VMCLEARed first, so its data is in
// memory and it can be loaded on another CPU (24.11.3), then VMXOFF.
Errno cpu_offline(unsigned cpu)
{
	PerCpu &pc = g.cpus[cpu];
	if (!pc.on)
		return 0;
	dk_irq_disable();
	VmxVcpu::clear_all_on_this_cpu(pc);
	vmxoff();
	pc.on = false;
	dk_irq_enable();
	dk_vmx_cr4_disable();
	return 0;
}

ArchVm *create_vm(Vm &)
{
	return rt::make_initialized<VmxVm>();
}
} // namespace

PerCpu *percpu(unsigned cpu)
{
	return &g.cpus[cpu];
}

u16 vpid_alloc()
{
	if (!caps().vpid)
		return 0;
	for (unsigned w = 0; w < sizeof(g.vpid_bits) / 8; w++) {
		u64 cur = __atomic_load_n(&g.vpid_bits[w], __ATOMIC_RELAXED);
		while (~cur) {
			unsigned b = __builtin_ctzll(~cur);
			if (__atomic_compare_exchange_n(&g.vpid_bits[w], &cur, cur | bit(b), false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				return u16(w * 64 + b);
		}
	}
	return 0;
}

void vpid_free(u16 vpid)
{
	if (vpid)
		__atomic_fetch_and(&g.vpid_bits[vpid / 64], ~bit(vpid % 64), __ATOMIC_ACQ_REL);
}

// INVEPT drops the guest-physical and combined mappings of this EPTP for every VPID
// (28.3.3.1), so it covers both a changed EPT and a guest TLB that may be stale.
void flush_ept(u64 eptp)
{
	if (caps().invept_single)
		invept(1, eptp);
	else
		invept(2, 0);
}

} // namespace dbgkvm::vmx

namespace dbgkvm
{
extern const Backend vmx_backend;
const Backend vmx_backend = {
    "Intel VMX", vmx::probe, vmx::cpu_online, vmx::cpu_offline, vmx::create_vm, vmx::backend_exit,
};
} // namespace dbgkvm
