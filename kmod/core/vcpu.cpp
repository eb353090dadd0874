// SPDX-License-Identifier: GPL-2.0
#include "core/vcpu.hpp"
#include "core/cpuid.hpp"
#include "core/limits.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "debugreg/debugreg.hpp"
#include "rt/new.hpp"

namespace dbgkvm
{

Errno Vcpu::create(Vm &vm, ArchVm &arch_vm, unsigned int id, Vcpu **out)
{
	Vcpu *v = new (rt::kalloc) Vcpu(vm, id);
	if (!v)
		return -DK_ENOMEM;
	v->ibpb_token_ = dk_new_vcpu_token();
	u64 pa;
	v->run_ = static_cast<kvm_run *>(dk_alloc_pages(0, &pa));
	v->pio_page_ = dk_alloc_pages(0, &pa);
	v->fpu_ = dk_guest_fpu_new();
	v->arch_ = v->run_ && v->pio_page_ && v->fpu_ ? arch_vm.create_vcpu(id) : nullptr;
	if (!v->arch_) {
		delete v;
		return -DK_ENOMEM;
	}
	v->arch_->reset();
	v->msrs_.reset(id, dk_host_has_tsc_aux,
		       v->arch_->vendor() == debugreg::Vendor::Svm ? msr::UCODE_REV_RESET_SVM
								   : msr::UCODE_REV_RESET_VMX);
	v->arch_->attach(&v->dr_, vm.id(), id);
	v->set_features(model_features());
	debugreg::init(v->dr_);
	v->arch_->push_debug(debugreg::PUSH_DR7 | debugreg::PUSH_DR6 | debugreg::PUSH_DR_INTERCEPT);
	*out = v;
	return 0;
}

Vcpu::~Vcpu()
{
	delete arch_;
	dk_guest_fpu_delete(fpu_);
	dk_free_pages(run_, 0);
	dk_free_pages(pio_page_, 0);
	dk_free(cpuid_);
}

void *Vcpu::mmap_page(unsigned long index)
{
	return index == 0 ? static_cast<void *>(run_) : index == 1 ? pio_page_ : nullptr;
}

// The vCPU thread got a CPU (an ioctl began, or the thread was scheduled back in): the
// hardware debug registers may hold anything now, so the next entry reloads them (RELOAD,
// the 2016 fix for CRIU's missed breakpoints).
void Vcpu::load(int cpu)
{
	loaded_cpu_ = cpu;
	// Another vCPU's (or VM's) guest ran here last: no branch predictions it trained
	// may steer this one (KVM's IBPB when the loaded VMCS/VMCB changes).
	dk_ibpb_on_vcpu_switch(ibpb_token_);
	arch_->load(cpu);
	regs_changed(); // VMX may have reset a vCPU created while VMX was off
	debugreg::vcpu_load(dr_, knobs());
	dk_trace_vcpu_load(vm_.id(), id_, cpu, dr_.switch_db_regs);
}

void Vcpu::put()
{
	dk_trace_vcpu_put(vm_.id(), id_, loaded_cpu_, dr_.switch_db_regs);
	arch_->put();
	loaded_cpu_ = -1;
}

// After a triple fault the vCPU starts over from RESET (the backend reset its state);
// userspace's guest debugging survives, as in KVM.
void Vcpu::reset_after_shutdown()
{
	regs_changed();
	payload_valid_ = false;
	nmi_masked_ = false;
	arch_->push_debug(debugreg::reset(dr_) | debugreg::PUSH_DR7 | debugreg::PUSH_DR6 |
			  debugreg::PUSH_DR_INTERCEPT);
	arch_->set_bp_intercept(debugreg::intercept_bp(dr_));
}

} // namespace dbgkvm

using dbgkvm::Vcpu;

extern "C" long dbgkvm_vcpu_ioctl(void *vcpu, unsigned int cmd, unsigned long arg) noexcept
{
	return static_cast<Vcpu *>(vcpu)->ioctl(cmd, arg);
}

extern "C" void dbgkvm_vcpu_release(void *vcpu) noexcept
{
	// The vCPU lives as long as its VM; the fd only held a VM reference.
	static_cast<Vcpu *>(vcpu)->vm().put();
}

extern "C" void *dbgkvm_vcpu_mmap_page(void *vcpu, unsigned long index) noexcept
{
	return static_cast<Vcpu *>(vcpu)->mmap_page(index);
}

extern "C" void dbgkvm_vcpu_load(void *vcpu, int cpu) noexcept
{
	static_cast<Vcpu *>(vcpu)->load(cpu);
}

extern "C" void dbgkvm_vcpu_put(void *vcpu) noexcept
{
	static_cast<Vcpu *>(vcpu)->put();
}
