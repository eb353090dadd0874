// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: the memslot table (kmod/core/memslots.cpp). The input is a sequence of
// operations (create, move, delete, flags change, resize, raw request, lookups), each run on
// the real MemSlots, applied the way Vm::set_memory_region (core/vm.cpp) applies a classified
// request, and on the std::map model of memslots_model.hpp. Checked after every operation:
//   - classify(): the same errno and the same SlotChange as the model (None on -EINVAL;
//     Create/Move with -EEXIST), and a Create always finds a free entry;
//   - the table: exactly the model's slots (id, gpa, pages, user address, flags), ids unique,
//     no two slots overlapping, free_entry() null exactly when all 32 are used;
//   - find_gpa() (both overloads) and find_id(): the model's answer, at slot edges too.

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/memslots.hpp"
#include "dbgkvm_glue.h"
#include "fuzz_util.hpp"
#include "memslots_model.hpp"

using namespace dbgkvm;
using dbgkvm::fuzz::Input;
using dbgkvm::fuzz::ModelSlot;
using dbgkvm::fuzz::SlotModel;

namespace
{

constexpr unsigned kMaxOps = 256;
constexpr uint64_t kUserBase = 0x7f0000000000ull;
constexpr uint64_t kTaskSize = (1ull << 47) - PAGE_SIZE; // x86-64 user space, 4-level

// access_ok() of x86-64: the range lies below TASK_SIZE_MAX and does not wrap.
bool access_ok(uint64_t uaddr, uint64_t size)
{
	return size <= kTaskSize && uaddr <= kTaskSize - size;
}

struct Harness {
	MemSlots real;
	SlotModel model;

	void check_table()
	{
		unsigned used = 0;
		for (const MemSlot *s = real.begin(); s != real.end(); s++) {
			if (!s->used)
				continue;
			used++;
			const auto it = model.slots().find(s->id);
			FUZZ_CHECK(it != model.slots().end());
			FUZZ_CHECK(s->gpa == it->second.gpa);
			FUZZ_CHECK(s->npages == it->second.npages);
			FUZZ_CHECK(s->uaddr == it->second.uaddr);
			FUZZ_CHECK(s->flags == it->second.flags);
			FUZZ_CHECK(s->npages >= 1 && s->npages <= MAX_SLOT_PAGES);
			FUZZ_CHECK(real.find_id(s->id) == s);
			for (const MemSlot *t = s + 1; t != real.end(); t++) {
				if (!t->used)
					continue;
				FUZZ_CHECK(t->id != s->id);
				const bool disjoint = s->gpa + s->npages * PAGE_SIZE <= t->gpa ||
						      t->gpa + t->npages * PAGE_SIZE <= s->gpa;
				FUZZ_CHECK(disjoint);
			}
		}
		FUZZ_CHECK(used == model.slots().size());
		FUZZ_CHECK(used <= MAX_MEMSLOTS);
		FUZZ_CHECK((real.free_entry() == nullptr) == (used == MAX_MEMSLOTS));
	}

	void lookup(uint64_t gpa)
	{
		uint32_t id = 0;
		const ModelSlot *want = model.lookup(gpa, &id);
		MemSlot *got = real.find_gpa(gpa);
		const MemSlot *got_const = static_cast<const MemSlots &>(real).find_gpa(gpa);
		FUZZ_CHECK(got == got_const);
		if (!want) {
			FUZZ_CHECK(got == nullptr);
			return;
		}
		FUZZ_CHECK(got != nullptr && got->used && got->id == id);
		FUZZ_CHECK(gpa >= got->gpa && gpa - got->gpa < got->npages * PAGE_SIZE);
	}

	void lookup_id(uint32_t id)
	{
		MemSlot *got = real.find_id(id);
		const auto it = model.slots().find(id);
		if (it == model.slots().end()) {
			FUZZ_CHECK(got == nullptr);
			return;
		}
		FUZZ_CHECK(got != nullptr && got->used && got->id == id);
		FUZZ_CHECK(got->gpa == it->second.gpa);
	}

	// KVM_SET_USER_MEMORY_REGION, as core/vm.cpp does it.
	void request(const SlotRequest &req, bool force_bad_uaddr)
	{
		// As core/vm.cpp: access_ok() whatever the size (a deletion's address too).
		const bool uaddr_ok = !force_bad_uaddr && access_ok(req.uaddr, req.size);
		SlotChange change = SlotChange::Move, want_change = SlotChange::Move;
		const long r = real.classify(req, uaddr_ok, &change);
		const long want = model.classify(req, uaddr_ok, &want_change);
		if (dbgkvm::fuzz::tracing())
			std::fprintf(stderr,
				     "slot %#x flags %#x gpa %#" PRIx64 " size %#" PRIx64
				     " uaddr %#" PRIx64 " ok %d: %ld/%d, "
				     "model %ld/%d\n",
				     req.slot, req.flags, req.gpa, req.size, req.uaddr, uaddr_ok, r,
				     static_cast<int>(change), want, static_cast<int>(want_change));
		FUZZ_CHECK(r == want);
		FUZZ_CHECK(change == want_change);
		FUZZ_CHECK(r == 0 || r == -DK_EINVAL || r == -DK_EEXIST);
		if (r == -DK_EINVAL)
			FUZZ_CHECK(change == SlotChange::None);
		if (r == -DK_EEXIST)
			FUZZ_CHECK(change == SlotChange::Create || change == SlotChange::Move);
		if (r != 0 || change == SlotChange::None) {
			check_table();
			return;
		}
		switch (change) {
		case SlotChange::Create: {
			MemSlot *s = real.free_entry(); // "ids are < MAX_MEMSLOTS: never full"
			FUZZ_CHECK(s != nullptr);
			FUZZ_CHECK(real.find_id(req.slot) == nullptr);
			*s = MemSlot{true,	req.slot, req.flags, req.gpa, req.size / PAGE_SIZE,
				     req.uaddr, nullptr};
			break;
		}
		case SlotChange::Delete: {
			MemSlot *s = real.find_id(req.slot);
			FUZZ_CHECK(s != nullptr);
			*s = MemSlot{};
			break;
		}
		case SlotChange::Move: {
			MemSlot *s = real.find_id(req.slot);
			FUZZ_CHECK(s != nullptr);
			FUZZ_CHECK(s->gpa != req.gpa);
			s->gpa = req.gpa;
			break;
		}
		default:
			FUZZ_CHECK(!"unknown SlotChange");
		}
		model.apply(req, change);
		check_table();
		// The slot's first and last byte are found, the bytes around it as the model says.
		if (change != SlotChange::Delete) {
			lookup(req.gpa);
			lookup(req.gpa + req.size - 1);
			lookup(req.gpa - 1);
			lookup(req.gpa + req.size);
		} else {
			lookup_id(req.slot);
		}
	}

	// An existing slot picked by the input (or slot 0 when the table is empty).
	SlotRequest existing(uint8_t pick) const
	{
		const auto &slots = model.slots();
		if (slots.empty())
			return SlotRequest{0, 0, 0x100000, 16 * PAGE_SIZE, kUserBase};
		auto it = slots.begin();
		for (unsigned i = pick % slots.size(); i; i--)
			++it;
		const ModelSlot &s = it->second;
		return SlotRequest{it->first, s.flags, s.gpa, s.npages * PAGE_SIZE, s.uaddr};
	}
};

// A slot id: mostly 0..35 (32..35 out of range), sometimes any u32 (address-space bits).
uint32_t pick_id(Input &in)
{
	const uint8_t b = in.u8();
	return b < 0xf0 ? b % 36u : in.u32();
}

// Operations; the low 3 bits of the op byte select, bit 7 makes access_ok() fail:
//   0 create     id, gpa page (u16), pages (u8), user page (u16)
//   1 move       existing slot, new gpa page (u16)
//   2 delete     id, gpa (u64), user address (u64): size 0
//   3 flags      existing slot with flags := u32
//   4 raw        slot u32, flags u32, gpa u64, size u64, user address u64
//   5 lookup     existing slot's gpa + signed delta (s16 pages, + u16 bytes), or raw u64
//   6 lookup id  id
//   7 reshape    existing slot with pages := u8 and/or user page := u16
void run(Harness &h, Input &in)
{
	for (unsigned n = 0; n < kMaxOps && !in.empty(); n++) {
		const uint8_t op = in.u8();
		const bool bad_uaddr = op & 0x80;
		switch (op & 7) {
		case 0: {
			SlotRequest req{};
			req.slot = pick_id(in);
			req.gpa = static_cast<uint64_t>(in.u16()) * PAGE_SIZE;
			req.size = static_cast<uint64_t>(in.u8()) * PAGE_SIZE;
			req.uaddr = kUserBase + static_cast<uint64_t>(in.u16()) * PAGE_SIZE;
			if (op & 0x40)
				req.gpa |= op & 0x38; // misaligned
			h.request(req, bad_uaddr);
			break;
		}
		case 1: {
			SlotRequest req = h.existing(in.u8());
			req.gpa = static_cast<uint64_t>(in.u16()) * PAGE_SIZE;
			h.request(req, bad_uaddr);
			break;
		}
		case 2: {
			SlotRequest req{};
			req.slot = pick_id(in);
			req.gpa = in.u64();
			req.uaddr = in.u64();
			if (!(op & 0x40)) {
				req.gpa &= ~(PAGE_SIZE - 1);
				req.uaddr &= ~(PAGE_SIZE - 1);
			}
			h.request(req, bad_uaddr);
			break;
		}
		case 3: {
			SlotRequest req = h.existing(in.u8());
			req.flags = in.u32();
			h.request(req, bad_uaddr);
			break;
		}
		case 4: {
			SlotRequest req{};
			req.slot = in.u32();
			req.flags = in.u32();
			req.gpa = in.u64();
			req.size = in.u64();
			req.uaddr = in.u64();
			h.request(req, bad_uaddr);
			break;
		}
		case 5: {
			if (op & 0x40) {
				h.lookup(in.u64());
				break;
			}
			const SlotRequest s = h.existing(in.u8());
			const int64_t pages = static_cast<int16_t>(in.u16());
			const uint64_t delta = static_cast<uint64_t>(pages) * PAGE_SIZE + in.u16();
			h.lookup(s.gpa + delta);
			break;
		}
		case 6:
			h.lookup_id(pick_id(in));
			break;
		default: {
			SlotRequest req = h.existing(in.u8());
			const uint8_t pages = in.u8();
			const uint16_t upage = in.u16();
			if (op & 0x10)
				req.size = static_cast<uint64_t>(pages) * PAGE_SIZE;
			if (op & 0x20)
				req.uaddr = kUserBase + static_cast<uint64_t>(upage) * PAGE_SIZE;
			h.request(req, bad_uaddr);
			break;
		}
		}
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in(data, size);
	Harness h;
	run(h, in);
	h.check_table();
	return 0;
}
