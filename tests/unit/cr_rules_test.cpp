// SPDX-License-Identifier: GPL-2.0
// core/cr_rules.hpp: which CR4 values a guest may write.
#include "core/cr_rules.hpp"

#include <gtest/gtest.h>

namespace dbgkvm::cr
{
namespace
{

using namespace x86;

TEST(Cr4Rules, OfferedBitsPass)
{
	EXPECT_TRUE(cr4_write_valid(0, 0));
	EXPECT_TRUE(cr4_write_valid(CR4_GUEST_ALLOWED, EFER_LMA));
	EXPECT_TRUE(cr4_write_valid(CR4_PAE | CR4_PGE | CR4_DE | CR4_SMEP | CR4_SMAP, EFER_LMA));
}

TEST(Cr4Rules, BitsNotOfferedFault)
{
	// PKE (WRPKRU would reach the VMM's PKRU), PCIDE, OSXSAVE, VMXE, SMXE, UMIP, LA57, CET,
	// PKS, and the reserved bits.
	for (unsigned b :
	     {22u, 17u, 18u, 13u, 14u, 11u, 12u, 23u, 24u, 15u, 19u, 25u, 31u, 32u, 63u})
		EXPECT_FALSE(cr4_write_valid(CR4_PAE | (u64{1} << b), 0)) << "bit " << b;
}

TEST(Cr4Rules, PaeCannotBeClearedInLongMode)
{
	EXPECT_FALSE(cr4_write_valid(CR4_PGE, EFER_LMA | EFER_LME));
	EXPECT_TRUE(cr4_write_valid(CR4_PGE, EFER_LME)); // LME without LMA: not yet in long mode
}

TEST(Cr4Rules, TlbBitsAreOffered)
{
	EXPECT_EQ(CR4_TLB_BITS & ~CR4_GUEST_ALLOWED, 0u);
}

} // namespace
} // namespace dbgkvm::cr
