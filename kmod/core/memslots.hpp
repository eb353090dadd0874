// SPDX-License-Identifier: GPL-2.0
// Guest memory slots (KVM_SET_USER_MEMORY_REGION): the table and its rules. Pure.
#pragma once
#include "rt/types.hpp"

namespace dbgkvm
{

inline constexpr unsigned MAX_MEMSLOTS = 32;
inline constexpr u64 PAGE_SIZE = 4096;
inline constexpr u64 MAX_SLOT_PAGES = u64{1} << 22; // 16 GiB a slot

struct MemSlot {
	bool used;
	u32 id;
	u32 flags;
	u64 gpa;
	u64 npages;
	u64 uaddr;
	void **pinned; // per page: the pinned struct page, or nullptr (owned by the Vm);
		       // each pin is charged to the owner mm's pinned_vm (vm.cpp fault_in)
};

// What a KVM_SET_USER_MEMORY_REGION request asks for, once validated.
enum class SlotChange : u8 {
	None,
	Create,
	Delete,
	Move
};

struct SlotRequest {
	u32 slot;
	u32 flags;
	u64 gpa;
	u64 size;
	u64 uaddr;
};

class MemSlots
{
public:
	// KVM's rules (virt/kvm/kvm_main.c __kvm_set_memory_region), or stricter:
	// -EINVAL for unknown flags, misalignment, id out of range, wraparound, a slot too
	// big, deleting a slot that does not exist, changing the size, address or flags of an
	// existing slot; -EEXIST when a new or moved slot overlaps another.
	// uaddr_ok: whether [uaddr, uaddr+size) is a valid user range (access_ok).
	// -EINVAL too when a new or moved slot ends above max_gpa (set_max_gpa).
	Errno classify(const SlotRequest &req, bool uaddr_ok, SlotChange *change) const;
	// The end of guest-physical memory a slot may reach: 2^MAXPHYADDR of the host, as
	// KVM's kvm_mmu_max_gfn() (nested paging cannot map beyond it). Default 2^52.
	void set_max_gpa(u64 max) { max_gpa_ = max; }

	MemSlot *find_id(u32 id);
	MemSlot *find_gpa(u64 gpa);
	const MemSlot *find_gpa(u64 gpa) const;
	MemSlot *free_entry();
	MemSlot *begin() { return slots_; }
	MemSlot *end() { return slots_ + MAX_MEMSLOTS; }

private:
	bool overlaps(u32 except_id, u64 gpa, u64 npages) const;
	MemSlot slots_[MAX_MEMSLOTS] = {};
	u64 max_gpa_ = u64{1} << 52;
};

} // namespace dbgkvm
