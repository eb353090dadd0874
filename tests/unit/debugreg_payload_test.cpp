// SPDX-License-Identifier: GPL-2.0
//
// #DB payload delivery into the guest's DR6 (KVM's kvm_deliver_exception_payload for #DB).

#include <gtest/gtest.h>

#include "debugreg/db_payload.hpp"
#include "debugreg/dr_rules.hpp"

namespace dbgkvm::debugreg
{
namespace
{

struct MergeRow {
	const char *name;
	uint64_t dr6, payload, expect;
};

TEST(DebugregPayload, MergeTable)
{
	const MergeRow rows[] = {
	    {"b0", 0xffff0ff0, 0x1, 0xffff0ff1},
	    {"b3", 0xffff0ff0, 0x8, 0xffff0ff8},
	    {"stale b0 b1 cleared", 0xffff0ff3, 0x4, 0xffff0ff4},
	    {"bs sticky across a bp", 0xffff4ff0, 0x2, 0xffff4ff2},
	    {"bs", 0xffff0ff0, DR6_BS, 0xffff4ff0},
	    {"bd", 0xffff0ff0, DR6_BD, 0xffff2ff0},
	    {"bt", 0xffff0ff0, DR6_BT, 0xffff8ff0},
	    {"bs and b2 together", 0xffff0ff0, DR6_BS | 0x4, 0xffff4ff4},
	    {"rtm active low", 0xffff0ff0, DR6_RTM | 0x1, 0xfffe0ff1},
	    {"bus lock active low", 0xffff0ff0, DR6_BUS_LOCK, 0xffff07f0},
	    {"rtm restored by next #db", 0xfffe0ff1, 0x2, 0xffff0ff2},
	    {"bit 12 never reaches dr6", 0xffff0ff0, DR6_PENDING_DBG_BP | 0x1, 0xffff0ff1},
	    {"raw zero dr6 gets fixed bits", 0, DR6_BS, 0xffff4ff0},
	    {"empty payload", 0xffff4ff3, 0, 0xffff4ff0},
	};
	for (const auto &r : rows)
		EXPECT_EQ(merge_db_payload(r.dr6, r.payload), r.expect) << r.name;
	static_assert(merge_db_payload(DR6_ACTIVE_LOW, DR6_BS) == 0xffff4ff0);
}

TEST(DebugregPayload, Dr6ToPayloadInvertsActiveLow)
{
	EXPECT_EQ(dr6_to_payload(0xffff4ff0), DR6_BS);
	EXPECT_EQ(dr6_to_payload(0xffff0ff2), 0x2u);
	EXPECT_EQ(dr6_to_payload(0xfffe0ff1), DR6_RTM | 0x1);
	for (uint64_t p : {uint64_t{0x1}, uint64_t{0x8}, DR6_BS | 0x4, DR6_BD, DR6_RTM | 0x2})
		EXPECT_EQ(merge_db_payload(DR6_ACTIVE_LOW, p), p ^ DR6_ACTIVE_LOW) << p;
}

TEST(DebugregPayload, DeliverMergesAndClearsGd)
{
	State s;
	init(s);
	s.dr7 = 0x400 | DR7_GD | 0x3;
	(void)update_dr7(s);
	uint32_t push = deliver_db(s, 0x1);
	EXPECT_EQ(s.dr6, 0xffff0ff1u);
	EXPECT_EQ(s.dr7, 0x403u);
	EXPECT_TRUE(push & PUSH_DR6);
	EXPECT_TRUE(push & PUSH_DR7);
	EXPECT_TRUE(s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED);

	push = deliver_db(s, DR6_BS);
	EXPECT_EQ(s.dr6, 0xffff4ff0u);
	EXPECT_EQ(push, PUSH_DR6); // GD already clear: DR7 untouched
}

} // namespace
} // namespace dbgkvm::debugreg
