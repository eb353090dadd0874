// SPDX-License-Identifier: GPL-2.0
// KVM_SET_USER_MEMORY_REGION's rules (core/memslots), table-driven: each request against
// a table holding slot 0 at GPA 0x100000, 16 pages, user address 0x7f0000000000.
#include "core/memslots.hpp"
#include "dbgkvm_glue.h"

#include <gtest/gtest.h>

using namespace dbgkvm;

namespace
{

constexpr u64 kUaddr = 0x7f0000000000ULL;

MemSlots with_slot0()
{
	MemSlots t;
	MemSlot *s = t.free_entry();
	*s = MemSlot{true, 0, 0, 0x100000, 16, kUaddr, nullptr};
	return t;
}

struct Case {
	const char *name;
	SlotRequest req;
	bool uaddr_ok;
	Errno want;
	SlotChange change;
};

const Case kCases[] = {
    {"create_disjoint", {1, 0, 0x200000, 0x1000, kUaddr + 0x100000}, true, 0, SlotChange::Create},
    {"create_adjacent_below",
     {1, 0, 0xff000, 0x1000, kUaddr + 0x100000},
     true,
     0,
     SlotChange::Create},
    {"create_adjacent_above",
     {1, 0, 0x110000, 0x1000, kUaddr + 0x100000},
     true,
     0,
     SlotChange::Create},
    {"overlap_start", {1, 0, 0xff000, 0x2000, kUaddr}, true, -DK_EEXIST, SlotChange::Create},
    {"overlap_inside", {1, 0, 0x108000, 0x1000, kUaddr}, true, -DK_EEXIST, SlotChange::Create},
    {"overlap_covering", {1, 0, 0, 0x1000000, kUaddr}, true, -DK_EEXIST, SlotChange::Create},
    {"unknown_flag", {1, 0x4, 0x200000, 0x1000, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"readonly_not_offered",
     {1, 0x2, 0x200000, 0x1000, kUaddr},
     true,
     -DK_EINVAL,
     SlotChange::None},
    {"gpa_misaligned", {1, 0, 0x200800, 0x1000, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"size_misaligned", {1, 0, 0x200000, 0x1800, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"uaddr_misaligned", {1, 0, 0x200000, 0x1000, kUaddr + 8}, true, -DK_EINVAL, SlotChange::None},
    {"uaddr_not_user", {1, 0, 0x200000, 0x1000, kUaddr}, false, -DK_EINVAL, SlotChange::None},
    {"slot_out_of_range",
     {MAX_MEMSLOTS, 0, 0x200000, 0x1000, kUaddr},
     true,
     -DK_EINVAL,
     SlotChange::None},
    {"address_space_1", {0x10001, 0, 0x200000, 0x1000, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"gpa_wraps", {1, 0, ~0ULL & ~0xfffULL, 0x2000, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"too_big",
     {1, 0, 0, (MAX_SLOT_PAGES + 1) * PAGE_SIZE, kUaddr},
     true,
     -DK_EINVAL,
     SlotChange::None},
    {"delete_existing", {0, 0, 0, 0, 0}, true, 0, SlotChange::Delete},
    // KVM checks access_ok() of a deletion's address too
    {"delete_kernel_uaddr",
     {0, 0, 0, 0, 0xffff888000000000ULL},
     false,
     -DK_EINVAL,
     SlotChange::None},
    {"delete_missing", {5, 0, 0, 0, 0}, true, -DK_EINVAL, SlotChange::None},
    {"same_again_is_noop", {0, 0, 0x100000, 0x10000, kUaddr}, true, 0, SlotChange::None},
    {"move", {0, 0, 0x400000, 0x10000, kUaddr}, true, 0, SlotChange::Move},
    {"move_onto_itself_partly", {0, 0, 0x108000, 0x10000, kUaddr}, true, 0, SlotChange::Move},
    {"resize_refused", {0, 0, 0x100000, 0x20000, kUaddr}, true, -DK_EINVAL, SlotChange::None},
    {"new_uaddr_refused",
     {0, 0, 0x100000, 0x10000, kUaddr + 0x10000},
     true,
     -DK_EINVAL,
     SlotChange::None},
};

class MemSlotRules : public ::testing::TestWithParam<Case>
{
};

TEST_P(MemSlotRules, Classify)
{
	const Case &c = GetParam();
	MemSlots t = with_slot0();
	SlotChange change = SlotChange::Move;
	EXPECT_EQ(t.classify(c.req, c.uaddr_ok, &change), c.want);
	EXPECT_EQ(change, c.change);
}

INSTANTIATE_TEST_SUITE_P(Table, MemSlotRules, ::testing::ValuesIn(kCases),
			 [](const ::testing::TestParamInfo<Case> &i) {
				 return std::string(i.param.name);
			 });

TEST(MemSlots, MoveOverlappingAnotherSlotIsEexist)
{
	MemSlots t = with_slot0();
	*t.free_entry() = MemSlot{true, 1, 0, 0x200000, 1, kUaddr + 0x100000, nullptr};
	SlotChange change;
	EXPECT_EQ(t.classify({1, 0, 0x10f000, 0x1000, kUaddr + 0x100000}, true, &change),
		  -DK_EEXIST);
}

// KVM's kvm_mmu_max_gfn(): a created or moved slot ends within the host's MAXPHYADDR;
// an overlap is still -EEXIST (checked first, as in KVM).
TEST(MemSlots, SlotEndsWithinMaxGpa)
{
	MemSlots t = with_slot0();
	t.set_max_gpa(u64{1} << 40);
	SlotChange change;
	EXPECT_EQ(
	    t.classify({1, 0, (u64{1} << 40) - 0x2000, 0x2000, kUaddr + 0x100000}, true, &change),
	    0);
	EXPECT_EQ(change, SlotChange::Create);
	EXPECT_EQ(
	    t.classify({1, 0, (u64{1} << 40) - 0x1000, 0x2000, kUaddr + 0x100000}, true, &change),
	    -DK_EINVAL);
	EXPECT_EQ(t.classify({1, 0, u64{1} << 63, 0x1000, kUaddr + 0x100000}, true, &change),
		  -DK_EINVAL);
	EXPECT_EQ(t.classify({0, 0, u64{1} << 40, 0x10000, kUaddr}, true, &change), -DK_EINVAL);
	EXPECT_EQ(t.classify({1, 0, 0x10f000, 0x1000, kUaddr + 0x100000}, true, &change),
		  -DK_EEXIST);
	MemSlots d; // default: 2^52, the architectural limit
	EXPECT_EQ(d.classify({1, 0, u64{1} << 52, 0x1000, kUaddr}, true, &change), -DK_EINVAL);
}

TEST(MemSlots, FindByGpaCoversExactlyTheSlot)
{
	MemSlots t = with_slot0();
	EXPECT_EQ(t.find_gpa(0xfffff), nullptr);
	ASSERT_NE(t.find_gpa(0x100000), nullptr);
	ASSERT_NE(t.find_gpa(0x10ffff), nullptr);
	EXPECT_EQ(t.find_gpa(0x110000), nullptr);
	EXPECT_EQ(t.find_id(0), t.find_gpa(0x100000));
	EXPECT_EQ(t.find_id(1), nullptr);
}

TEST(MemSlots, AllIdsFit)
{
	MemSlots t;
	for (u32 id = 0; id < MAX_MEMSLOTS; id++) {
		MemSlot *s = t.free_entry();
		ASSERT_NE(s, nullptr) << id;
		*s = MemSlot{true, id, 0, u64(id) << 20, 1, kUaddr, nullptr};
	}
	EXPECT_EQ(t.free_entry(), nullptr);
}

} // namespace
