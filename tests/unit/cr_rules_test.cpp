// SPDX-License-Identifier: GPL-2.0
// core/cr_rules.hpp: which CR4 values a guest may write.
#include "core/cr_rules.hpp"

#include <gtest/gtest.h>

namespace dbgkvm::cr
{
namespace
{

using namespace x86;

cpuidt::Features all_offered()
{
	cpuidt::Features f;
	f.fsgsbase = f.smep = f.smap = true;
	return f;
}

// With every feature dbgkvm offers in the vCPU's CPUID.
const u64 RSVD = cr4_reserved(all_offered());

TEST(Cr4Rules, OfferedBitsPass)
{
	EXPECT_TRUE(cr4_write_valid(0, 0, RSVD));
	EXPECT_TRUE(cr4_write_valid(CR4_GUEST_ALLOWED, EFER_LMA, RSVD));
	EXPECT_TRUE(
	    cr4_write_valid(CR4_PAE | CR4_PGE | CR4_DE | CR4_SMEP | CR4_SMAP, EFER_LMA, RSVD));
}

TEST(Cr4Rules, AllOfferedReservesOnlyWhatDbgkvmNeverOffers)
{
	EXPECT_EQ(~CR4_GUEST_ALLOWED, RSVD);
}

TEST(Cr4Rules, CpuidWithoutTheFeatureReservesItsBit)
{
	// KVM's __cr4_reserved_bits: FSGSBASE, SMEP, SMAP follow 7.0 EBX bits 0, 7, 20.
	const cpuidt::Features none;
	EXPECT_EQ(~CR4_GUEST_ALLOWED | CR4_FSGSBASE | CR4_SMEP | CR4_SMAP, cr4_reserved(none));
	for (u64 b : {CR4_FSGSBASE, CR4_SMEP, CR4_SMAP})
		EXPECT_FALSE(cr4_write_valid(CR4_PAE | b, 0, cr4_reserved(none))) << b;
	cpuidt::Features f;
	f.smep = true;
	EXPECT_TRUE(cr4_write_valid(CR4_PAE | CR4_SMEP, 0, cr4_reserved(f)));
	EXPECT_FALSE(cr4_write_valid(CR4_PAE | CR4_SMAP, 0, cr4_reserved(f)));
	// The bits KVM does not tie to CPUID stay free without it.
	EXPECT_TRUE(cr4_write_valid(0x7ff, 0, cr4_reserved(none)));
}

TEST(Cr4Rules, BitsNotOfferedFault)
{
	// PKE (WRPKRU would reach the VMM's PKRU), PCIDE, OSXSAVE, VMXE, SMXE, UMIP, LA57, CET,
	// PKS, and the reserved bits.
	for (unsigned b :
	     {22u, 17u, 18u, 13u, 14u, 11u, 12u, 23u, 24u, 15u, 19u, 25u, 31u, 32u, 63u})
		EXPECT_FALSE(cr4_write_valid(CR4_PAE | (u64{1} << b), 0, RSVD)) << "bit " << b;
}

TEST(Cr4Rules, PaeCannotBeClearedInLongMode)
{
	EXPECT_FALSE(cr4_write_valid(CR4_PGE, EFER_LMA | EFER_LME, RSVD));
	EXPECT_TRUE(cr4_write_valid(CR4_PGE, EFER_LME, RSVD)); // LME without LMA: not long mode
}

TEST(Cr4Rules, TlbBitsAreOffered)
{
	EXPECT_EQ(CR4_TLB_BITS & ~CR4_GUEST_ALLOWED, 0u);
}

} // namespace
} // namespace dbgkvm::cr
