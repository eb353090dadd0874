// SPDX-License-Identifier: GPL-2.0
// The reference model of the memslot table for fuzz_memslots.cpp: a std::map from slot id to
// slot, with KVM_SET_USER_MEMORY_REGION's rules written from KVM's __kvm_set_memory_region
// (virt/kvm/kvm_main.c) and the stricter choices memslots.hpp documents: no flags at all
// (dirty logging and read-only slots are not offered), one address space, 32 slots, at most
// MAX_SLOT_PAGES pages; a slot's size, user address and flags never change (a flags-only
// change is refused, not applied); the table itself is never full since ids are < 32.

#ifndef DBGKVM_TESTS_FUZZ_MEMSLOTS_MODEL_HPP
#define DBGKVM_TESTS_FUZZ_MEMSLOTS_MODEL_HPP

#include <cstdint>
#include <map>

#include "core/memslots.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm::fuzz
{

struct ModelSlot {
	uint64_t gpa;
	uint64_t npages;
	uint64_t uaddr;
	uint32_t flags;

	uint64_t end() const { return gpa + npages * PAGE_SIZE; } // exclusive, never wraps
};

class SlotModel
{
public:
	static constexpr uint64_t MAX_GPA = uint64_t{1} << 52;
	// The errno and the change a request makes; the change is applied by apply().
	long classify(const SlotRequest &req, bool uaddr_ok, SlotChange *change) const
	{
		*change = SlotChange::None;
		const uint64_t page_mask = PAGE_SIZE - 1;
		if (req.flags != 0)
			return -DK_EINVAL;
		if ((req.gpa | req.size | req.uaddr) & page_mask)
			return -DK_EINVAL;
		const uint32_t as_id = req.slot >> 16, id = req.slot & 0xffff;
		if (as_id != 0 || id >= MAX_MEMSLOTS)
			return -DK_EINVAL;
		if (req.size > ~req.gpa) // gpa + size would pass 2^64
			return -DK_EINVAL;
		if ((req.size >> 12) > MAX_SLOT_PAGES)
			return -DK_EINVAL;
		// KVM checks access_ok() of userspace_addr for every request, a deletion too.
		if (!uaddr_ok)
			return -DK_EINVAL;

		const auto old = slots_.find(id);
		if (req.size == 0) {
			if (old == slots_.end())
				return -DK_EINVAL; // deleting what does not exist
			*change = SlotChange::Delete;
			return 0;
		}
		const uint64_t npages = req.size / PAGE_SIZE;
		if (old == slots_.end()) {
			*change = SlotChange::Create;
		} else {
			const ModelSlot &o = old->second;
			if (o.npages != npages || o.uaddr != req.uaddr || o.flags != req.flags)
				return -DK_EINVAL;
			if (o.gpa == req.gpa)
				return 0;
			*change = SlotChange::Move;
		}
		for (const auto &[other, s] : slots_) {
			if (other == id)
				continue;
			// [gpa, gpa + size) and [s.gpa, s.end()) intersect
			if (req.gpa < s.end() && s.gpa < req.gpa + req.size)
				return -DK_EEXIST;
		}
		// After the overlap check, as KVM's kvm_arch_prepare_memory_region(): a created or
		// moved slot ends within the host's MAXPHYADDR (MemSlots' default: 2^52).
		if (req.gpa + req.size > MAX_GPA) {
			*change = SlotChange::None;
			return -DK_EINVAL;
		}
		return 0;
	}

	void apply(const SlotRequest &req, SlotChange change)
	{
		const uint32_t id = req.slot;
		switch (change) {
		case SlotChange::Create:
			slots_[id] = ModelSlot{req.gpa, req.size / PAGE_SIZE, req.uaddr, req.flags};
			break;
		case SlotChange::Delete:
			slots_.erase(id);
			break;
		case SlotChange::Move:
			slots_.at(id).gpa = req.gpa;
			break;
		default:
			break;
		}
	}

	// The slot holding gpa, or nullptr.
	const ModelSlot *lookup(uint64_t gpa, uint32_t *id) const
	{
		for (const auto &[i, s] : slots_) {
			if (gpa >= s.gpa && gpa < s.end()) {
				*id = i;
				return &s;
			}
		}
		return nullptr;
	}

	const std::map<uint32_t, ModelSlot> &slots() const { return slots_; }

private:
	std::map<uint32_t, ModelSlot> slots_;
};

} // namespace dbgkvm::fuzz

#endif // DBGKVM_TESTS_FUZZ_MEMSLOTS_MODEL_HPP
