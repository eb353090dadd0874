// SPDX-License-Identifier: GPL-2.0
// SVM on each CPU: detection, EFER.SVME and VM_HSAVE_PA, the shared I/O and MSR
// permission maps, and ASIDs.
#include "dbgkvm_glue.h"
#include "rt/new.hpp"
#include "rt/x86.hpp"
#include "svm/svm.hpp"

namespace dbgkvm::svm
{

using namespace x86;

namespace
{
constexpr u64 VM_CR_SVMDIS = bit(4); // SVM disabled by firmware (APM 15.30.1)

// Every port and every MSR is intercepted: both maps all ones (APM 15.10.1, 15.11).
constexpr unsigned IOPM_ORDER = 2;  // 12 KiB used
constexpr unsigned MSRPM_ORDER = 1; // 8 KiB

struct Globals {
	PerCpu *cpus;
	unsigned nr_cpus;
	void *iopm;
	u64 iopm_pa;
	void *msrpm;
	u64 msrpm_pa;
	u32 max_asid;
};
Globals g;

struct AsidState {
	u32 next;
	u64 generation;
};
AsidState *asids; // per CPU, touched only on that CPU with preemption off

Errno probe()
{
	u32 r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x8000000a)
		return -DK_ENODEV;
	cpuid(0x80000001, 0, r);
	if (!(r[2] & bit(2))) {
		dk_log_info("no AMD SVM on this CPU\n");
		return -DK_ENODEV;
	}
	cpuid(0x8000000a, 0, r);
	if (!(r[3] & bit(0))) {
		dk_log_warn("SVM without nested paging is not supported\n");
		return -DK_ENODEV;
	}
	has_nrips = r[3] & bit(3); // NRIP save (APM 15.7.1); QEMU's TCG has none
	u64 vm_cr = 0;
	if (!dk_rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
		dk_log_warn("SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -DK_ENODEV;
	}
	// ASID 0 is the host's. Keep the count small enough for a bounded table.
	g.max_asid = r[1] > 1 ? r[1] - 1 : 0;
	if (!g.max_asid)
		return -DK_ENODEV;

	g.nr_cpus = dk_nr_cpu_ids();
	g.cpus = static_cast<PerCpu *>(dk_zalloc(sizeof(PerCpu) * g.nr_cpus));
	asids = static_cast<AsidState *>(dk_zalloc(sizeof(AsidState) * g.nr_cpus));
	g.iopm = dk_alloc_pages(IOPM_ORDER, &g.iopm_pa);
	g.msrpm = dk_alloc_pages(MSRPM_ORDER, &g.msrpm_pa);
	if (!g.cpus || !asids || !g.iopm || !g.msrpm) {
		dk_free(g.cpus);
		dk_free(asids);
		dk_free_pages(g.iopm, IOPM_ORDER);
		dk_free_pages(g.msrpm, MSRPM_ORDER);
		g = Globals{};
		return -DK_ENOMEM;
	}
	__builtin_memset(g.iopm, 0xff, DK_PAGE_SIZE << IOPM_ORDER);
	__builtin_memset(g.msrpm, 0xff, DK_PAGE_SIZE << MSRPM_ORDER);
	for (unsigned i = 0; i < g.nr_cpus; i++)
		asids[i] = AsidState{1, 1};
	return 0;
}

void backend_exit()
{
	for (unsigned i = 0; i < g.nr_cpus; i++) {
		dk_free_pages(g.cpus[i].hsave, 0);
		dk_free_pages(g.cpus[i].host_vmsave, 0);
	}
	dk_free(g.cpus);
	dk_free(asids);
	dk_free_pages(g.iopm, IOPM_ORDER);
	dk_free_pages(g.msrpm, MSRPM_ORDER);
	g = Globals{};
}

// Runs on `cpu` (a CPU hotplug callback).
Errno cpu_online(unsigned cpu)
{
	PerCpu &pc = g.cpus[cpu];
	u64 efer;
	if (dk_rdmsr_safe(MSR_EFER, &efer))
		return -DK_EIO;
	if (efer & EFER_SVME) {
		// Someone else (kvm_amd, VirtualBox...) has SVM on: do not share it.
		dk_log_warn("SVM is already enabled on CPU %u: another hypervisor is using it\n",
			    cpu);
		return -DK_EBUSY;
	}
	if (!pc.hsave)
		pc.hsave = dk_alloc_pages(0, &pc.hsave_pa);
	if (!pc.host_vmsave)
		pc.host_vmsave = dk_alloc_pages(0, &pc.host_vmsave_pa);
	if (!pc.hsave || !pc.host_vmsave)
		return -DK_ENOMEM;
	if (dk_wrmsr_safe(MSR_EFER, efer | EFER_SVME) ||
	    dk_wrmsr_safe(MSR_VM_HSAVE_PA, pc.hsave_pa))
		return -DK_EIO;
	pc.enabled = true;
	dk_srso_bp_spec_reduce(true);
	return 0;
}

Errno cpu_offline(unsigned cpu)
{
	PerCpu &pc = g.cpus[cpu];
	u64 efer;
	if (!pc.enabled)
		return 0;
	dk_srso_bp_spec_reduce(false);
	dk_wrmsr_safe(MSR_VM_HSAVE_PA, 0);
	if (!dk_rdmsr_safe(MSR_EFER, &efer))
		dk_wrmsr_safe(MSR_EFER, efer & ~EFER_SVME);
	pc.enabled = false;
	return 0;
}

ArchVm *create_vm(Vm &)
{
	return rt::make_initialized<SvmVm>();
}
} // namespace

bool has_nrips;

unsigned npt_levels()
{
	return (read_cr4() & CR4_LA57) ? 5 : 4;
}

PerCpu *percpu(unsigned cpu)
{
	return &g.cpus[cpu];
}

u64 iopm_pa()
{
	return g.iopm_pa;
}

u64 msrpm_pa()
{
	return g.msrpm_pa;
}

// A fresh ASID on the current CPU for the vCPU about to run there. When the CPU runs
// out, a new generation starts and the whole TLB is flushed, so no vCPU keeps an ASID
// another one now uses (KVM's new_asid()).
bool asid_assign(u32 *asid, u64 *generation)
{
	AsidState &a = asids[dk_cpu()];
	bool wrapped = false;
	if (a.next > g.max_asid) {
		a.generation++;
		a.next = 1;
		wrapped = true;
	}
	*asid = a.next++;
	*generation = a.generation;
	return wrapped;
}

bool asid_current(u64 generation)
{
	return asids[dk_cpu()].generation == generation;
}

} // namespace dbgkvm::svm

namespace dbgkvm
{
extern const Backend svm_backend;
const Backend svm_backend = {
    "AMD SVM", svm::probe, svm::cpu_online, svm::cpu_offline, svm::create_vm, svm::backend_exit,
};
} // namespace dbgkvm
