// SPDX-License-Identifier: GPL-2.0
// core/vcpu_events.hpp: KVM_GET/SET_VCPU_EVENTS' rules.
#include "core/vcpu_events.hpp"

#include <gtest/gtest.h>

namespace dbgkvm::events
{
namespace
{

ArchEvent hw(u8 vector, bool err, u32 code, bool reinjected)
{
	return {INFO_VALID | (TYPE_HW_EXCEPTION << TYPE_SHIFT) | vector |
		    (err ? INFO_ERROR_VALID : 0),
		code, reinjected};
}

TEST(VcpuEvents, HasErrorCodeIsKvmsSet)
{
	for (unsigned v = 0; v < 32; v++)
		EXPECT_EQ(v == 8 || (v >= 10 && v <= 14) || v == 17, has_error_code(u8(v))) << v;
	EXPECT_FALSE(has_error_code(40));
}

TEST(VcpuEvents, FromArchReportsExceptionsOnly)
{
	Exception ex = from_arch(hw(13, true, 0x18, false), false, 0);
	EXPECT_TRUE(ex.pending && !ex.injected && ex.has_error);
	EXPECT_EQ(13, ex.vector);
	EXPECT_EQ(0x18u, ex.error);
	ex = from_arch(hw(1, false, 0, true), true, 0x4000);
	EXPECT_TRUE(ex.injected && !ex.pending && !ex.has_payload); // injected: no payload
	ex = from_arch(hw(1, false, 0, false), true, 0x4000);
	EXPECT_TRUE(ex.pending && ex.has_payload);
	EXPECT_EQ(0x4000u, ex.payload);
	// #BP/#OF from INT3/INTO, software interrupts, NMIs: not reported
	EXPECT_FALSE(from_arch(hw(3, false, 0, true), false, 0).injected);
	EXPECT_FALSE(
	    from_arch({INFO_VALID | (4u << TYPE_SHIFT) | 0x80, 0, true}, false, 0).injected);
	EXPECT_FALSE(from_arch({INFO_VALID | (2u << TYPE_SHIFT) | 2, 0, true}, false, 0).injected);
	// VMX's ICEBP (privileged software exception): a #DB
	ex = from_arch({INFO_VALID | (TYPE_PRIV_SW_EXCEPTION << TYPE_SHIFT) | 1, 0, false}, false,
		       0);
	EXPECT_TRUE(ex.pending);
	EXPECT_EQ(1, ex.vector);
	EXPECT_FALSE(from_arch({0, 0, false}, false, 0).pending);
}

TEST(VcpuEvents, GetWithoutPayloadCapConflates)
{
	const Exception ex = from_arch(hw(1, false, 0, false), true, 0x4002);
	kvm_vcpu_events e;
	get(ex, KVM_X86_SHADOW_INT_STI, true, false, &e);
	EXPECT_EQ(1, e.exception.injected);
	EXPECT_EQ(1, e.exception.pending);
	EXPECT_EQ(0, e.exception_has_payload);
	EXPECT_EQ(0u, e.exception_payload);
	EXPECT_EQ(KVM_X86_SHADOW_INT_STI, e.interrupt.shadow);
	EXPECT_EQ(1, e.nmi.masked);
	EXPECT_EQ(u32(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		      KVM_VCPUEVENT_VALID_SMM),
		  e.flags);
	get(ex, 0, false, true, &e);
	EXPECT_EQ(0, e.exception.injected);
	EXPECT_EQ(1, e.exception.pending);
	EXPECT_EQ(1, e.exception_has_payload);
	EXPECT_EQ(0x4002u, e.exception_payload);
	EXPECT_TRUE(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD);
}

TEST(VcpuEvents, AcceptFollowsKvmThenStricter)
{
	kvm_vcpu_events in{};
	Exception ex;
	ASSERT_TRUE(accept(in, false, &ex));
	EXPECT_FALSE(ex.injected || ex.pending);
	in.flags = 0x40;
	EXPECT_FALSE(accept(in, true, &ex));
	in.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	EXPECT_FALSE(accept(in, false, &ex)); // without the cap
	// with the cap: pending wins over injected; no pending, no payload
	in.exception = {1, 1, 0, 1, 0};
	in.exception_has_payload = 1;
	in.exception_payload = 0x4000;
	ASSERT_TRUE(accept(in, true, &ex));
	EXPECT_TRUE(ex.pending && !ex.injected && ex.has_payload);
	in.exception.pending = 0;
	ASSERT_TRUE(accept(in, true, &ex));
	EXPECT_TRUE(ex.injected && !ex.has_payload);
	// without the flag: pending and payload ignored
	in.flags = 0;
	in.exception.pending = 1;
	ASSERT_TRUE(accept(in, true, &ex));
	EXPECT_TRUE(ex.injected && !ex.pending && !ex.has_payload);
	// vectors
	in.exception.nr = 2;
	EXPECT_FALSE(accept(in, false, &ex));
	in.exception.nr = 32;
	EXPECT_FALSE(accept(in, false, &ex));
	in.exception.injected = 0;
	in.exception.pending = 0;
	EXPECT_TRUE(accept(in, false, &ex)); // nothing to deliver: any vector
	// error codes must fit the vector (stricter than KVM)
	in.exception = {1, 13, 0, 0, 0};
	EXPECT_FALSE(accept(in, false, &ex));
	in.exception.has_error_code = 1;
	EXPECT_TRUE(accept(in, false, &ex));
	in.exception = {1, 6, 1, 0, 0};
	EXPECT_FALSE(accept(in, false, &ex));
	// no interrupts, NMIs, SMM or triple-fault events
	kvm_vcpu_events none{};
	in = none;
	in.interrupt.injected = 1;
	EXPECT_FALSE(accept(in, false, &ex));
	in = none;
	in.nmi.injected = 1;
	EXPECT_FALSE(accept(in, false, &ex));
	in = none;
	in.nmi.pending = 1;
	EXPECT_TRUE(accept(in, false, &ex)); // without VALID_NMI_PENDING: not read
	in.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	EXPECT_FALSE(accept(in, false, &ex));
	in = none;
	in.smi.smm = 1;
	EXPECT_TRUE(accept(in, false, &ex)); // without VALID_SMM: not read
	in.flags = KVM_VCPUEVENT_VALID_SMM;
	EXPECT_FALSE(accept(in, false, &ex));
	in.smi.smm = 0;
	in.smi.latched_init = 1; // no local APIC: ignored, as KVM
	EXPECT_TRUE(accept(in, false, &ex));
	in = none;
	in.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	EXPECT_FALSE(accept(in, false, &ex));
}

TEST(VcpuEvents, GetThenSetAsksForTheSame)
{
	for (bool cap : {false, true}) {
		for (bool reinjected : {false, true}) {
			const Exception ex = from_arch(hw(14, true, 2, reinjected), true, 0x1000);
			kvm_vcpu_events e;
			get(ex, 0, false, cap, &e);
			Exception a, b;
			ASSERT_TRUE(accept(e, cap, &a));
			ASSERT_TRUE(accept(e, cap, &b));
			EXPECT_TRUE(same(a, b));
			Exception other = a;
			other.error = 3;
			EXPECT_FALSE(same(a, other));
		}
	}
}

} // namespace
} // namespace dbgkvm::events
