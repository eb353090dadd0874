// SPDX-License-Identifier: GPL-2.0
// core/msr_rules.hpp: which EFER values a guest's WRMSR and user space's KVM_SET_MSRS may
// write (KVM's kvm_set_efer and __kvm_valid_efer).
#include "core/msr_rules.hpp"

#include <gtest/gtest.h>

namespace dbgkvm::msr
{
namespace
{

using namespace x86;

TEST(EferRules, OfferedBitsPassWithTheirCpuid)
{
	EXPECT_TRUE(efer_write_valid(EFER_SCE | EFER_NXE | EFER_LME, 0, false, true, true, false));
	EXPECT_TRUE(efer_write_valid(0, 0, false, false, false, false));
}

TEST(EferRules, BitsDbgkvmNeverOffersFaultForEveryone)
{
	for (bool host : {false, true}) {
		EXPECT_FALSE(efer_write_valid(EFER_SVME, 0, false, true, true, host));
		EXPECT_FALSE(efer_write_valid(u64{1} << 14, 0, false, true, true, host)); // FFXSR
		EXPECT_FALSE(efer_write_valid(u64{1} << 63, 0, false, true, true, host));
	}
}

TEST(EferRules, GuestNeedsNxAndLmInItsCpuid)
{
	EXPECT_FALSE(efer_write_valid(EFER_NXE, 0, false, false, true, false));
	EXPECT_FALSE(efer_write_valid(EFER_LME, 0, false, true, false, false));
	EXPECT_FALSE(efer_write_valid(EFER_LMA, EFER_LMA, false, true, false, false));
	// User space restores state in any order with KVM_SET_CPUID2 (KVM: host_initiated).
	EXPECT_TRUE(efer_write_valid(EFER_NXE | EFER_LME, 0, false, false, false, true));
}

TEST(EferRules, CpuidAllows)
{
	EXPECT_TRUE(efer_cpuid_allows(EFER_SCE, false, false));
	EXPECT_FALSE(efer_cpuid_allows(EFER_NXE, false, true));
	EXPECT_FALSE(efer_cpuid_allows(EFER_LMA, true, false));
	EXPECT_TRUE(efer_cpuid_allows(EFER_NXE | EFER_LME | EFER_LMA, true, true));
}

TEST(EferRules, LmeCannotChangeUnderPaging)
{
	EXPECT_FALSE(efer_write_valid(EFER_LME, 0, true, true, true, false));
	EXPECT_FALSE(efer_write_valid(0, EFER_LME | EFER_LMA, true, true, true, false));
	EXPECT_FALSE(efer_write_valid(0, EFER_LME | EFER_LMA, true, true, true, true));
	// The other bits may change; LME may while paging is off.
	EXPECT_TRUE(efer_write_valid(EFER_LME | EFER_NXE, EFER_LME | EFER_LMA, true, true, true,
				     false));
	EXPECT_TRUE(efer_write_valid(EFER_LME, 0, false, true, true, false));
}

} // namespace
} // namespace dbgkvm::msr
