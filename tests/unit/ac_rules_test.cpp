// SPDX-License-Identifier: GPL-2.0
// core/ac_rules.hpp: whose #AC an intercepted alignment-check exception is.
#include "core/ac_rules.hpp"

#include <gtest/gtest.h>

namespace dbgkvm::exc
{
namespace
{

using namespace x86;

TEST(AcRules, WithoutSplitLockDetectionEveryAcIsTheGuests)
{
	for (unsigned cpl = 0; cpl < 4; cpl++)
		for (u64 cr0 : {u64{0}, CR0_AM})
			for (u64 fl : {u64{2}, u64{2} | RFLAGS_AC})
				EXPECT_TRUE(ac_is_guests(false, cpl, cr0, fl));
}

TEST(AcRules, AlignmentCheckNeedsCpl3AmAndAc)
{
	EXPECT_TRUE(ac_is_guests(true, 3, CR0_PE | CR0_AM, 2 | RFLAGS_AC));
	EXPECT_FALSE(ac_is_guests(true, 0, CR0_PE | CR0_AM, 2 | RFLAGS_AC)); // CPL 0
	EXPECT_FALSE(ac_is_guests(true, 2, CR0_PE | CR0_AM, 2 | RFLAGS_AC)); // CPL 2
	EXPECT_FALSE(ac_is_guests(true, 3, CR0_PE, 2 | RFLAGS_AC));	     // no CR0.AM
	EXPECT_FALSE(ac_is_guests(true, 3, CR0_PE | CR0_AM, 2));	     // no RFLAGS.AC
}

} // namespace
} // namespace dbgkvm::exc
