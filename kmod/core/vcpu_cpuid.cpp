// SPDX-License-Identifier: GPL-2.0
// A vCPU's CPUID table: KVM_SET_CPUID2 and KVM_GET_CPUID2 (KVM's kvm_vcpu_ioctl_set_cpuid2
// and _get_cpuid2), and the guest's CPUID instruction, which answers from the table once
// user space has set one (core/cpuid_table.hpp). Before that the guest sees dbgkvm's own
// model (core/cpuid.cpp), where KVM's empty table would read all zeros.
#include "core/cpuid.hpp"
#include "core/cpuid_table.hpp"
#include "core/cr_rules.hpp"
#include "core/vcpu.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm
{

using cpuidt::Cpuid2Header;

Errno Vcpu::set_cpuid2(unsigned long arg)
{
	Cpuid2Header h;
	if (dk_copy_from_user(&h, arg, sizeof(h)))
		return -DK_EFAULT;
	if (h.nent > cpuidt::MAX_ENTRIES)
		return -DK_E2BIG;
	kvm_cpuid_entry2 *e = nullptr;
	if (h.nent) {
		e = static_cast<kvm_cpuid_entry2 *>(dk_zalloc(h.nent * sizeof(*e)));
		if (!e)
			return -DK_ENOMEM;
		if (dk_copy_from_user(e, arg + sizeof(h), h.nent * sizeof(*e))) {
			dk_free(e);
			return -DK_EFAULT;
		}
	}
	// KVM's kvm_set_cpuid: the runtime bits first, so that a VMM that repeats its table
	// after KVM_RUN (QEMU's vCPU hotplug) matches; after KVM_RUN only the same table.
	cpuidt::update_runtime(e, h.nent, arch_->cr4(), msrs_.apic_base());
	Errno r = 0;
	if (has_run_) {
		update_cpuid_runtime();
		if (!cpuidt::tables_equal(e, h.nent, cpuid_, cpuid_nent_))
			r = -DK_EINVAL;
	} else if (!cpuidt::table_valid(e, h.nent)) {
		r = -DK_EINVAL;
	} else {
		dk_free(cpuid_);
		cpuid_ = e;
		cpuid_nent_ = h.nent;
		cpuid_set_ = true;
		set_features(cpuidt::features(e, h.nent));
		return 0;
	}
	dk_free(e);
	return r;
}

Errno Vcpu::get_cpuid2(unsigned long arg)
{
	Cpuid2Header h;
	if (dk_copy_from_user(&h, arg, sizeof(h)))
		return -DK_EFAULT;
	if (h.nent < cpuid_nent_)
		return -DK_E2BIG;
	update_cpuid_runtime();
	if (dk_copy_to_user(arg + sizeof(h), cpuid_, cpuid_nent_ * sizeof(*cpuid_)))
		return -DK_EFAULT;
	h.nent = cpuid_nent_;
	return dk_copy_to_user(arg, &h, sizeof(h)) ? -DK_EFAULT : 0;
}

void Vcpu::set_features(const cpuidt::Features &f)
{
	features_ = f;
	arch_->set_cr4_reserved(cr4_reserved());
}

// A table may offer what this host cannot give (KVM's cr4_reserved_bits, from the host's
// features, beside the guest's): both reserve.
u64 Vcpu::cr4_reserved() const
{
	return cr::cr4_reserved(features_) | cr::cr4_reserved(model_features());
}

void Vcpu::update_cpuid_runtime()
{
	cpuidt::update_runtime(cpuid_, cpuid_nent_, arch_->cr4(), msrs_.apic_base());
}

void Vcpu::guest_cpuid_insn(u32 leaf, u32 subleaf, u32 regs[4])
{
	if (!cpuid_set_) {
		guest_cpuid(leaf, subleaf, id_, arch_->cr4(), regs);
		return;
	}
	// The runtime bits live in leaves 1 and 7 only: bring them up to date when one of
	// those answered (the table stays as KVM keeps it; GET/SET_CPUID2 update it too).
	const kvm_cpuid_entry2 *used;
	cpuidt::lookup(cpuid_, cpuid_nent_, leaf, subleaf, regs, &used);
	if (used && (used->function == 1 || used->function == 7)) {
		update_cpuid_runtime();
		regs[0] = used->eax;
		regs[1] = used->ebx;
		regs[2] = used->ecx;
		regs[3] = used->edx;
	}
}

} // namespace dbgkvm
