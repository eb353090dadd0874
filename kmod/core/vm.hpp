// SPDX-License-Identifier: GPL-2.0
// A VM: its memory slots, its vCPUs and its backend half. Reference-counted: the VM fd
// holds one reference and every vCPU fd one more, so a vCPU keeps running after the VM
// fd is closed (as in KVM), and the VM is destroyed when the last fd goes.
#pragma once
#include "core/arch.hpp"
#include "core/limits.hpp"
#include "core/memslots.hpp"
#include "dbgkvm_glue.h"

struct dk_mutex;
struct dk_rwsem;

namespace dbgkvm
{
class Vcpu;

enum class FaultResult : u8 {
	Mapped,
	Mmio
};

class Vm
{
public:
	static Errno create(const Backend &backend, Vm **out);
	void get();
	void put();

	Errno ioctl(unsigned int cmd, unsigned long arg);

	// For the run loop: slots cannot change while a vCPU holds this (read side).
	void slots_read_lock();
	void slots_read_unlock();
	// Resolve a nested-paging fault: pin and map the page, or report MMIO.
	Errno fault_in(u64 gpa, FaultResult *res);
	// Copy guest-physical memory through the VMM's mapping (vCPU thread only).
	// The 8 bytes at an 8-byte aligned guest-physical address (the VMM's memory, read with
	// get_user: no hardened-usercopy walk for a page-table entry). Slots lock held.
	Errno read_gpa_u64(u64 gpa, u64 *val);
	// len bytes at gpa, inside one page, from or to the VMM's memory (string I/O). Slots
	// lock held. -DK_ENOENT: no slot backs gpa (MMIO); -DK_EFAULT: the copy failed.
	Errno read_gpa(u64 gpa, void *dst, unsigned len);
	Errno write_gpa(u64 gpa, const void *src, unsigned len);
	// The 4- or 8-byte value at gpa := val if it still holds old (a guest's page-table
	// entry, its accessed/dirty flags): 0 done, 1 it changed, < 0 an error.
	int cmpxchg_gpa(u64 gpa, u64 old, u64 val, unsigned size);

	unsigned int id() const { return id_; }
	// KVM's rule: only the process that created the VM may use it (-EIO otherwise);
	// guest memory and pins are in that process's address space.
	bool owner_is_current() const { return dk_mm_is_current(mm_); }
	bool exception_payload() const
	{
		return __atomic_load_n(&exception_payload_, __ATOMIC_RELAXED);
	}

private:
	Vm() = default;
	~Vm();
	Errno set_memory_region(unsigned long arg, bool v2);
	Errno create_vcpu(unsigned long id);
	Errno set_identity_map_addr(unsigned long arg);
	Errno enable_cap(unsigned long arg);
	void unpin_slot(MemSlot &s);

	const Backend *backend_ = nullptr;
	ArchVm *arch_ = nullptr;
	dk_mutex *lock_ = nullptr;     // vCPU creation
	dk_mutex *mmu_lock_ = nullptr; // pinning and nested page tables
	dk_rwsem *slots_lock_ = nullptr;
	void *mm_ = nullptr; // the creator's mm: owns the VM and is charged for its pins
	long refs_ = 1;
	unsigned int id_ = 0;
	unsigned int nr_vcpus_ = 0;
	// The vCPU ids the VM takes: KVM_ENABLE_CAP(KVM_CAP_MAX_VCPU_ID), else fixed at
	// MAX_VCPU_ID by the first KVM_CREATE_VCPU; 0 until either (KVM's max_vcpu_ids).
	u64 max_vcpu_ids_ = 0;
	bool exception_payload_ = false; // KVM_CAP_EXCEPTION_PAYLOAD enabled
	Vcpu *vcpus_[MAX_VCPUS] = {};
	MemSlots slots_;
};

Errno check_extension(long cap);

// Virtualization is on while at least one VM exists (device.cpp).
Errno vm_count_inc();
void vm_count_dec();

} // namespace dbgkvm
