// SPDX-License-Identifier: GPL-2.0
// #DB payloads and their delivery into the guest's DR6 (KVM: kvm_deliver_exception_payload
// for VEC_DB, plus the DR7.GD clear done when the #DB is injected).
//
// A payload uses the active-high "pending debug exceptions" form of the VMX exit
// qualification: B0-B3, BD, BS, BT set when they happened, and RTM/BLD set when the #DB
// happened inside an RTM region / was a bus lock, although those two read as 0 in DR6 in
// that case (active low).
#pragma once

#include <cstdint>

#include "dr_bits.hpp"
#include "dr_state.hpp"

namespace dbgkvm::debugreg
{

// The guest DR6 after a #DB with `payload` is delivered:
//  - B0-B3 are cleared: "certain debug exceptions may clear bits 0-3; the remaining
//    contents of DR6 are never cleared by the processor" (SDM §18.2.3), so BD/BS/BT of an
//    earlier #DB stay until software clears them;
//  - fixed-1 and active-low bits are set, then the payload is ORed in and its active-low
//    bits (RTM, BLD) are flipped back to 0;
//  - bit 12 (enabled breakpoint, VMX only) is reserved in DR6 and cleared.
constexpr uint64_t merge_db_payload(uint64_t dr6, uint64_t payload)
{
	dr6 &= ~DR_TRAP_BITS;
	dr6 |= DR6_ACTIVE_LOW;
	dr6 |= payload;
	dr6 ^= payload & DR6_ACTIVE_LOW;
	dr6 &= ~DR6_PENDING_DBG_BP;
	return dr6;
}

// Inverse view: the payload that turns DR6_ACTIVE_LOW into `dr6` (e.g. an SVM VMCB DR6
// after a #DB intercept, when the guest ran with DR6_ACTIVE_LOW).
constexpr uint64_t dr6_to_payload(uint64_t dr6)
{
	return dr6 ^ DR6_ACTIVE_LOW;
}

// Deliver a queued #DB to the guest: merge the payload into dr6 and clear DR7.GD ("the
// processor clears the GD flag upon entering the debug exception handler", SDM §18.2.4).
// Returns Push flags (PUSH_DR6, and PUSH_DR7 when GD was cleared).
uint32_t deliver_db(State &s, uint64_t payload);

} // namespace dbgkvm::debugreg
