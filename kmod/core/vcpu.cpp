// SPDX-License-Identifier: GPL-2.0
#include "core/vcpu.hpp"
#include "core/limits.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "rt/new.hpp"

namespace dbgkvm {

Errno Vcpu::create(Vm &vm, ArchVm &arch_vm, unsigned int id, Vcpu **out)
{
	Vcpu *v = new (rt::kalloc) Vcpu(vm, id);
	if (!v)
		return -DK_ENOMEM;
	u64 pa;
	v->run_area_ = dk_alloc_pages(RUN_AREA_ORDER, &pa);
	v->arch_ = v->run_area_ ? arch_vm.create_vcpu(id) : nullptr;
	if (!v->arch_) {
		delete v;
		return -DK_ENOMEM;
	}
	v->run_ = static_cast<kvm_run *>(v->run_area_);
	v->arch_->reset();
	*out = v;
	return 0;
}

Vcpu::~Vcpu()
{
	delete arch_;
	dk_free_pages(run_area_, RUN_AREA_ORDER);
}

void Vcpu::load(int cpu)
{
	loaded_cpu_ = cpu;
	arch_->load(cpu);
}

void Vcpu::put()
{
	arch_->put();
	loaded_cpu_ = -1;
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

extern "C" void *dbgkvm_vcpu_run_area(void *vcpu, unsigned int *order) noexcept
{
	*order = dbgkvm::RUN_AREA_ORDER;
	return static_cast<Vcpu *>(vcpu)->run_area();
}

extern "C" void dbgkvm_vcpu_load(void *vcpu, int cpu) noexcept
{
	static_cast<Vcpu *>(vcpu)->load(cpu);
}

extern "C" void dbgkvm_vcpu_put(void *vcpu) noexcept
{
	static_cast<Vcpu *>(vcpu)->put();
}
