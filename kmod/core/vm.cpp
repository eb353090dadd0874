// SPDX-License-Identifier: GPL-2.0
#include "core/vm.hpp"
#include "core/vcpu.hpp"
#include "dbgkvm_glue.h"
#include "rt/new.hpp"
#include "uapi/linux/dbgkvm_compat.h"

namespace dbgkvm
{

static unsigned int next_vm_id;

Errno Vm::create(const Backend &backend, Vm **out)
{
	Errno r = vm_count_inc();
	if (r)
		return r;
	Vm *vm = new (rt::kalloc) Vm();
	if (!vm) {
		vm_count_dec();
		return -DK_ENOMEM;
	}
	vm->backend_ = &backend;
	vm->mm_ = dk_mm_grab_current();
	vm->id_ = __atomic_add_fetch(&next_vm_id, 1, __ATOMIC_RELAXED);
	// Slots end within the host's MAXPHYADDR, as KVM's (found by fuzz_test, seed 0x2:
	// a slot at GPA 2^63 was accepted where KVM says EINVAL).
	vm->slots_.set_max_gpa(u64{1} << dk_host_phys_bits());
	vm->lock_ = dk_mutex_new();
	vm->mmu_lock_ = dk_mutex_new();
	vm->slots_lock_ = dk_rwsem_new();
	if (vm->lock_ && vm->mmu_lock_ && vm->slots_lock_)
		vm->arch_ = backend.create_vm(*vm);
	if (!vm->arch_) {
		delete vm; // ~Vm drops the VM count
		return -DK_ENOMEM;
	}
	*out = vm;
	return 0;
}

Vm::~Vm()
{
	for (Vcpu *&v : vcpus_) {
		delete v;
		v = nullptr;
	}
	delete arch_; // the nested page tables; no vCPU can run any more
	for (MemSlot &s : slots_) {
		if (s.used)
			unpin_slot(s);
		dk_free(s.pinned);
		s = MemSlot{};
	}
	if (lock_)
		dk_mutex_delete(lock_);
	if (mmu_lock_)
		dk_mutex_delete(mmu_lock_);
	if (slots_lock_)
		dk_rwsem_delete(slots_lock_);
	if (mm_)
		dk_mm_drop(mm_);
	vm_count_dec();
}

void Vm::get()
{
	__atomic_add_fetch(&refs_, 1, __ATOMIC_RELAXED);
}

void Vm::put()
{
	if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0)
		delete this;
}

void Vm::slots_read_lock()
{
	dk_down_read(slots_lock_);
}

void Vm::slots_read_unlock()
{
	dk_up_read(slots_lock_);
}

void Vm::unpin_slot(MemSlot &s)
{
	if (!s.pinned)
		return;
	unsigned long n = 0;
	for (u64 i = 0; i < s.npages; i++) {
		if (s.pinned[i]) {
			dk_unpin_user_page(s.pinned[i], 1);
			s.pinned[i] = nullptr;
			n++;
		}
	}
	if (n)
		dk_pin_uncharge(mm_, n); // the owner's charge, whoever drops the last pin
}

// KVM_SET_USER_MEMORY_REGION, or its v2 (KVM_SET_USER_MEMORY_REGION2), which adds a
// guest_memfd: dbgkvm takes no flag, KVM_MEM_GUEST_MEMFD included (-EINVAL, as KVM
// on a VM type without private memory), so the guest_memfd fields go unread, as in
// KVM; the v1 fields are the same in both.
Errno Vm::set_memory_region(unsigned long arg, bool v2)
{
	kvm_userspace_memory_region2 m{};
	if (dk_copy_from_user(&m, arg, v2 ? sizeof(m) : sizeof(kvm_userspace_memory_region)))
		return -DK_EFAULT;
	SlotRequest req{m.slot, m.flags, m.guest_phys_addr, m.memory_size, m.userspace_addr};
	// access_ok() whatever the size: KVM checks a deletion's address too (found by
	// fuzz_test's compare, seed 0x2: a deletion with a kernel address succeeded).
	bool uaddr_ok = dk_access_ok(m.userspace_addr, m.memory_size);

	dk_down_write(slots_lock_);
	SlotChange change;
	Errno r = slots_.classify(req, uaddr_ok, &change);
	if (r || change == SlotChange::None) {
		dk_up_write(slots_lock_);
		return r;
	}
	if (change == SlotChange::Create) {
		MemSlot *s = slots_.free_entry(); // ids are < MAX_MEMSLOTS: never full
		void **pinned =
		    static_cast<void **>(dk_zalloc(req.size / PAGE_SIZE * sizeof(void *)));
		if (!s || !pinned) {
			dk_free(pinned);
			dk_up_write(slots_lock_);
			return -DK_ENOMEM;
		}
		*s = MemSlot{true,	req.slot, req.flags, req.gpa, req.size / PAGE_SIZE,
			     req.uaddr, pinned};
	} else {
		// Delete or move: no vCPU is in guest mode (they hold the read side while they
		// run), so drop every nested mapping, then the pins of this slot. Other slots'
		// pages stay pinned and are mapped again on their next fault.
		MemSlot *s = slots_.find_id(req.slot);
		dk_mutex_lock(mmu_lock_);
		arch_->unmap_all();
		unpin_slot(*s);
		dk_mutex_unlock(mmu_lock_);
		if (change == SlotChange::Delete) {
			dk_free(s->pinned);
			*s = MemSlot{};
		} else {
			s->gpa = req.gpa;
		}
	}
	dk_up_write(slots_lock_);
	return 0;
}

Errno Vm::fault_in(u64 gpa, FaultResult *res)
{
	MemSlot *s = slots_.find_gpa(gpa);
	if (!s) {
		*res = FaultResult::Mmio;
		return 0;
	}
	*res = FaultResult::Mapped;
	u64 idx = (gpa - s->gpa) / PAGE_SIZE;
	Errno r = 0;
	dk_mutex_lock(mmu_lock_);
	if (!s->pinned[idx]) {
		// Charge, then pin: a page is pinned only while charged to the owner
		// (mm->pinned_vm, RLIMIT_MEMLOCK). Over the limit KVM_RUN fails with ENOMEM,
		// the errno of RDMA, io_uring and VFIO for the same limit (KVM itself pins
		// nothing: its failed gfn->pfn is EFAULT, which stays the errno for memory
		// that cannot be pinned). Nothing is left pinned or charged for the page,
		// the guest has not moved: after raising the limit, KVM_RUN faults again.
		void *page;
		u64 pa;
		r = dk_pin_charge(mm_, 1);
		if (!r) {
			r = dk_pin_user_page(s->uaddr + idx * PAGE_SIZE, 1, &page, &pa);
			if (r)
				dk_pin_uncharge(mm_, 1);
			else
				s->pinned[idx] = page;
		}
	}
	if (!r)
		r = arch_->map(gpa & ~(PAGE_SIZE - 1), dk_page_pa(s->pinned[idx]), true);
	dk_mutex_unlock(mmu_lock_);
	return r;
}

Errno Vm::read_gpa_u64(u64 gpa, u64 *val)
{
	const MemSlot *s = slots_.find_gpa(gpa);
	if (!s)
		return -DK_EFAULT;
	return dk_get_user_u64(s->uaddr + (gpa - s->gpa), val);
}

Errno Vm::read_gpa(u64 gpa, void *dst, unsigned len)
{
	const MemSlot *s = slots_.find_gpa(gpa);
	if (!s)
		return -DK_ENOENT;
	return dk_copy_from_user(dst, s->uaddr + (gpa - s->gpa), len) ? -DK_EFAULT : 0;
}

Errno Vm::write_gpa(u64 gpa, const void *src, unsigned len)
{
	const MemSlot *s = slots_.find_gpa(gpa);
	if (!s)
		return -DK_ENOENT;
	return dk_copy_to_user(s->uaddr + (gpa - s->gpa), src, len) ? -DK_EFAULT : 0;
}

int Vm::cmpxchg_gpa(u64 gpa, u64 old, u64 val, unsigned size)
{
	const MemSlot *s = slots_.find_gpa(gpa);
	if (!s)
		return -DK_ENOENT;
	return dk_cmpxchg_user(s->uaddr + (gpa - s->gpa), old, val, size);
}

Errno Vm::create_vcpu(unsigned long id)
{
	if (id >= MAX_VCPU_ID)
		return -DK_EINVAL;
	dk_mutex_lock(lock_);
	Errno r = -DK_EINVAL;
	if (nr_vcpus_ >= MAX_VCPUS)
		goto out;
	// KVM's kvm_arch_vcpu_precreate: the first vCPU fixes the id limit if user space
	// has not.
	if (!max_vcpu_ids_)
		max_vcpu_ids_ = MAX_VCPU_ID;
	if (id >= max_vcpu_ids_)
		goto out;
	r = -DK_EEXIST;
	for (Vcpu *v : vcpus_)
		if (v && v->id() == id)
			goto out;
	{
		Vcpu *v = nullptr;
		r = Vcpu::create(*this, *arch_, static_cast<unsigned>(id), &v);
		if (r)
			goto out;
		get(); // the vCPU fd's reference
		r = dk_vcpu_fd_create(v);
		if (r < 0) {
			delete v;
			__atomic_sub_fetch(&refs_, 1, __ATOMIC_RELAXED); // VM fd still holds one
			goto out;
		}
		vcpus_[nr_vcpus_++] = v;
	}
out:
	dk_mutex_unlock(lock_);
	return r;
}

// KVM_SET_IDENTITY_MAP_ADDR: where VMX without unrestricted guest would keep its identity
// page table. dbgkvm needs none (unrestricted guest or NPT), so like KVM on such hosts it
// only checks: -EINVAL once a vCPU exists, -EFAULT for a bad pointer (KVM's order).
Errno Vm::set_identity_map_addr(unsigned long arg)
{
	dk_mutex_lock(lock_);
	Errno r = -DK_EINVAL;
	u64 addr;
	if (!nr_vcpus_)
		r = dk_copy_from_user(&addr, arg, sizeof(addr)) ? -DK_EFAULT : 0;
	dk_mutex_unlock(lock_);
	return r;
}

// KVM_ENABLE_CAP on the VM fd (KVM's kvm_vm_ioctl_enable_cap): flags must be 0. The caps
// dbgkvm takes:
//  - KVM_CAP_MAX_VCPU_ID, up to KVM_CAP_MAX_VCPU_ID's value and once: the same value again
//    succeeds, another (also after the first vCPU fixed the default) is -EINVAL;
//  - KVM_CAP_EXCEPTION_PAYLOAD: args[0] turns it on or off, at any time.
// Any other cap: -EINVAL.
Errno Vm::enable_cap(unsigned long arg)
{
	kvm_enable_cap cap;
	if (dk_copy_from_user(&cap, arg, sizeof(cap)))
		return -DK_EFAULT;
	if (cap.flags)
		return -DK_EINVAL;
	if (cap.cap == KVM_CAP_EXCEPTION_PAYLOAD) {
		__atomic_store_n(&exception_payload_, cap.args[0] != 0, __ATOMIC_RELAXED);
		return 0;
	}
	if (cap.cap != KVM_CAP_MAX_VCPU_ID || cap.args[0] > MAX_VCPU_ID)
		return -DK_EINVAL;
	dk_mutex_lock(lock_);
	Errno r = -DK_EINVAL;
	if (max_vcpu_ids_ == cap.args[0]) {
		r = 0;
	} else if (!max_vcpu_ids_) {
		max_vcpu_ids_ = cap.args[0];
		r = 0;
	}
	dk_mutex_unlock(lock_);
	return r;
}

Errno Vm::ioctl(unsigned int cmd, unsigned long arg)
{
	if (!owner_is_current())
		return -DK_EIO;
	switch (cmd) {
	case KVM_SET_USER_MEMORY_REGION:
		return set_memory_region(arg, false);
	case KVM_SET_USER_MEMORY_REGION2:
		return set_memory_region(arg, true);
	case KVM_CREATE_VCPU:
		return create_vcpu(arg);
	case KVM_CHECK_EXTENSION:
		return check_extension(static_cast<long>(arg));
	case KVM_GET_TSC_KHZ: // the VM's default TSC frequency: the host's (no scaling)
		return static_cast<Errno>(dk_tsc_khz());
	case KVM_SET_TSS_ADDR:
		// The real-mode TSS of VMX without unrestricted guest: not needed (see above).
		// KVM's one check, in kvm_vm_ioctl_set_tss_addr(): three pages below 4 GiB.
		return arg > u32(-3 * PAGE_SIZE) ? -DK_EINVAL : 0;
	case KVM_SET_IDENTITY_MAP_ADDR:
		return set_identity_map_addr(arg);
	case KVM_ENABLE_CAP:
		return enable_cap(arg);
	default:
		return -DK_ENOTTY;
	}
}

} // namespace dbgkvm

using dbgkvm::Vm;

extern "C" long dbgkvm_vm_ioctl(void *vm, unsigned int cmd, unsigned long arg) noexcept
{
	return static_cast<Vm *>(vm)->ioctl(cmd, arg);
}

extern "C" void dbgkvm_vm_release(void *vm) noexcept
{
	static_cast<Vm *>(vm)->put();
}
