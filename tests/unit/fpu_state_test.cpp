// SPDX-License-Identifier: GPL-2.0
// core/fpu_state.hpp: KVM_GET/SET_FPU's conversion and KVM_SET_XCRS' checks.
#include "core/fpu_state.hpp"

#include <cstring>
#include <gtest/gtest.h>

namespace dbgkvm::fpu
{
namespace
{

TEST(FpuState, KvmFpuRoundTripLeavesMxcsrAlone)
{
	FxImage fx;
	std::memset(&fx, 0x5a, sizeof(fx));
	fx.mxcsr = 0x1f80;
	fx.fcw = 0x37f;
	fx.ftw = 0x80;
	kvm_fpu f;
	to_kvm_fpu(fx, &f);
	EXPECT_EQ(0x37f, f.fcw);
	EXPECT_EQ(0x80, f.ftwx);
	EXPECT_EQ(0u, f.mxcsr); // KVM never reports it
	EXPECT_EQ(0, std::memcmp(f.xmm, fx.xmm, sizeof(f.xmm)));
	EXPECT_EQ(0, std::memcmp(f.fpr, fx.st, sizeof(f.fpr)));
	f.mxcsr = 0xffffffff;
	f.xmm[15][15] = 0x11;
	f.last_ip = 0x1234;
	FxImage back = fx;
	from_kvm_fpu(f, &back);
	EXPECT_EQ(0x1f80u, back.mxcsr); // not taken
	EXPECT_EQ(0x11, back.xmm[15][15]);
	EXPECT_EQ(0x1234u, back.fip);
	EXPECT_EQ(0, back.reserved1);
	EXPECT_EQ(0, std::memcmp(back.reserved2, fx.reserved2, sizeof(fx.reserved2)));
}

TEST(FpuState, SetXcrsChecks)
{
	kvm_xcrs x{};
	EXPECT_TRUE(set_xcrs_valid(x)); // none: nothing to set
	x.nr_xcrs = 1;
	x.xcrs[0] = {0, 0, 1};
	EXPECT_TRUE(set_xcrs_valid(x));
	x.xcrs[0].value = 3; // SSE: the guest has no XSAVE
	EXPECT_FALSE(set_xcrs_valid(x));
	x.xcrs[0].value = 0; // x87 is required
	EXPECT_FALSE(set_xcrs_valid(x));
	x.xcrs[0] = {1, 0, 99}; // another XCR: ignored
	EXPECT_TRUE(set_xcrs_valid(x));
	x.flags = 1;
	EXPECT_FALSE(set_xcrs_valid(x));
	x.flags = 0;
	x.nr_xcrs = 17;
	EXPECT_FALSE(set_xcrs_valid(x));
	// the first XCR0 entry decides
	x.nr_xcrs = 3;
	x.xcrs[0] = {1, 0, 5};
	x.xcrs[1] = {0, 0, 1};
	x.xcrs[2] = {0, 0, 7};
	EXPECT_TRUE(set_xcrs_valid(x));
}

} // namespace
} // namespace dbgkvm::fpu
