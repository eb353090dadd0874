// SPDX-License-Identifier: GPL-2.0
#include "core/memslots.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm
{

static constexpr u32 KNOWN_FLAGS = 0; // no dirty logging, no read-only slots (not advertised)

Errno MemSlots::classify(const SlotRequest &req, bool uaddr_ok, SlotChange *change) const
{
	*change = SlotChange::None;
	if (req.flags & ~KNOWN_FLAGS)
		return -DK_EINVAL;
	if ((req.size & (PAGE_SIZE - 1)) || (req.gpa & (PAGE_SIZE - 1)) ||
	    (req.uaddr & (PAGE_SIZE - 1)))
		return -DK_EINVAL;
	// Bits 31:16 of the slot number select an address space: only 0 exists here.
	if (req.slot >= MAX_MEMSLOTS)
		return -DK_EINVAL;
	if (req.gpa + req.size < req.gpa || req.size / PAGE_SIZE > MAX_SLOT_PAGES)
		return -DK_EINVAL;
	if (!uaddr_ok)
		return -DK_EINVAL;

	const MemSlot *old = nullptr;
	for (const MemSlot &s : slots_)
		if (s.used && s.id == req.slot)
			old = &s;

	u64 npages = req.size / PAGE_SIZE;
	if (!npages) {
		if (!old)
			return -DK_EINVAL;
		*change = SlotChange::Delete;
		return 0;
	}
	if (!old) {
		*change = SlotChange::Create;
	} else {
		if (req.uaddr != old->uaddr || npages != old->npages || req.flags != old->flags)
			return -DK_EINVAL;
		if (req.gpa == old->gpa)
			return 0; // nothing changes
		*change = SlotChange::Move;
	}
	if (overlaps(req.slot, req.gpa, npages))
		return -DK_EEXIST;
	// KVM's kvm_arch_prepare_memory_region(), after the overlap check: a created or moved
	// slot must end within the host's MAXPHYADDR (kvm_mmu_max_gfn()), else -EINVAL.
	if (req.gpa + req.size > max_gpa_) {
		*change = SlotChange::None; // -EINVAL changes nothing, as every other -EINVAL
		return -DK_EINVAL;
	}
	return 0;
}

bool MemSlots::overlaps(u32 except_id, u64 gpa, u64 npages) const
{
	u64 end = gpa + npages * PAGE_SIZE;
	for (const MemSlot &s : slots_) {
		if (!s.used || s.id == except_id)
			continue;
		u64 s_end = s.gpa + s.npages * PAGE_SIZE;
		if (gpa < s_end && s.gpa < end)
			return true;
	}
	return false;
}

MemSlot *MemSlots::find_id(u32 id)
{
	for (MemSlot &s : slots_)
		if (s.used && s.id == id)
			return &s;
	return nullptr;
}

const MemSlot *MemSlots::find_gpa(u64 gpa) const
{
	for (const MemSlot &s : slots_)
		if (s.used && gpa >= s.gpa && gpa - s.gpa < s.npages * PAGE_SIZE)
			return &s;
	return nullptr;
}

MemSlot *MemSlots::find_gpa(u64 gpa)
{
	return const_cast<MemSlot *>(static_cast<const MemSlots *>(this)->find_gpa(gpa));
}

MemSlot *MemSlots::free_entry()
{
	for (MemSlot &s : slots_)
		if (!s.used)
			return &s;
	return nullptr;
}

} // namespace dbgkvm
