// SPDX-License-Identifier: GPL-2.0
// KVM_GET_MSRS / KVM_SET_MSRS on a vCPU, and KVM_GET_MSRS on the system fd (KVM's msr_io):
// the entries in order until one fails; returns how many succeeded (KVM's __msr_io).
// Fewer than MAX_IO_MSRS entries, else -E2BIG. A read writes every entry back, the failed
// one's data 0 if the MSR is unknown (KVM's kvm_get_msr_ignored_check clears it).
#pragma once
#include "core/core_msrs.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm::msr
{

// access(index, &data): Done, Fault or NotMine (unknown).
template <class Access> Errno msr_io(unsigned long arg, bool write, Access &&access)
{
	MsrsHeader h;
	if (dk_copy_from_user(&h, arg, sizeof(h)))
		return -DK_EFAULT;
	if (h.nmsrs >= MAX_IO_MSRS)
		return -DK_E2BIG;
	const dk_size size = h.nmsrs * sizeof(kvm_msr_entry);
	kvm_msr_entry *e = nullptr;
	if (size) {
		e = static_cast<kvm_msr_entry *>(dk_zalloc(size));
		if (!e)
			return -DK_ENOMEM;
		if (dk_copy_from_user(e, arg + sizeof(h), size)) {
			dk_free(e);
			return -DK_EFAULT;
		}
	}
	u32 i = 0;
	for (; i < h.nmsrs; i++) {
		u64 v = e[i].data;
		const MsrResult r = access(e[i].index, &v);
		if (r == MsrResult::Done) {
			e[i].data = v;
			continue;
		}
		if (!write && r == MsrResult::NotMine)
			e[i].data = 0;
		break;
	}
	Errno ret = static_cast<Errno>(i);
	if (!write && size && dk_copy_to_user(arg + sizeof(h), e, size))
		ret = -DK_EFAULT;
	dk_free(e);
	return ret;
}

} // namespace dbgkvm::msr
