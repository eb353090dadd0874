// SPDX-License-Identifier: GPL-2.0
// KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS: the exception the next entry delivers, the
// interrupt shadow and NMI masking, as KVM reports and takes them
// (kvm_vcpu_ioctl_x86_get/set_vcpu_events). Pure: the host unit tests run it.
//
// dbgkvm has no interrupts and no NMIs yet (no local APIC): it reports none, and refuses
// to be given one (-EINVAL), as it refuses SMM and KVM_VCPUEVENT_VALID_TRIPLE_FAULT, whose
// capabilities it does not offer.
#pragma once
#include "rt/types.hpp"

#include <linux/kvm.h>

namespace dbgkvm::events
{

// The event a backend injects at the next entry, in the layout VMX's interruption
// information (SDM Vol. 3, 25.8.3) and SVM's EVENTINJ (APM Vol. 2, 15.20) share: vector
// in bits 7:0, type in 10:8, error code valid in 11, valid in 31. reinjected: an event
// whose delivery the last exit interrupted (IDT-vectoring information, EXITINTINFO),
// KVM's "injected"; otherwise dbgkvm queued it while handling the exit, KVM's "pending".
struct ArchEvent {
	u32 info;
	u32 error;
	bool reinjected;
};

inline constexpr u32 INFO_VALID = 1u << 31, INFO_ERROR_VALID = 1u << 11;
inline constexpr u32 TYPE_SHIFT = 8, TYPE_MASK = 7u << 8;
inline constexpr u32 TYPE_HW_EXCEPTION = 3;	 // VMX and SVM
inline constexpr u32 TYPE_PRIV_SW_EXCEPTION = 5; // VMX: ICEBP's #DB

// The exception the next entry delivers, as KVM's struct kvm_queued_exception holds it.
struct Exception {
	bool pending;  // not yet delivered: its payload, if any, is not yet in DR6/CR2 on KVM
	bool injected; // being delivered (an exit interrupted it)
	u8 vector;
	bool has_error;
	u32 error;
	bool has_payload; // pending only: DR6 bits of a #DB, CR2 of a #PF
	u64 payload;
};

// The exceptions that push an error code (KVM's x86_exception_has_error_code; SDM Vol. 3,
// Table 6-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC.
// The event word (SVM's EVENTINJ, VMX's VM-entry interruption information) of a hardware
// exception.
constexpr u32 hw_exception_info(u8 vector, bool has_error)
{
	return INFO_VALID | (TYPE_HW_EXCEPTION << TYPE_SHIFT) | vector |
	       (has_error ? INFO_ERROR_VALID : 0);
}

constexpr bool has_error_code(u8 vector)
{
	return vector < 32 && ((1u << vector) & 0x27d00u);
}

// The exception in a backend's event, if it is one KVM reports: a hardware exception, or
// ICEBP's #DB. #BP and #OF from INT3/INTO, and software interrupts, are not reported (the
// ABI has no instruction length for them; the guest re-executes the instruction), nor is
// anything that is not an exception. payload: that of a pending exception, if it has one.
Exception from_arch(const ArchEvent &a, bool has_payload, u64 payload);

// The exception as KVM_GET_VCPU_EVENTS shows it: without KVM_CAP_EXCEPTION_PAYLOAD, a
// pending exception is reported as injected too, with its payload already delivered.
Exception reported(const Exception &ex, bool payload_cap);

// KVM_GET_VCPU_EVENTS. shadow: KVM_X86_SHADOW_INT_* of the guest's interrupt shadow.
void get(const Exception &ex, u8 shadow, bool nmi_masked, bool payload_cap, kvm_vcpu_events *out);

// KVM_SET_VCPU_EVENTS' checks, in KVM's order, and what it asks for: false means -EINVAL.
// Refused: unknown flags; KVM_VCPUEVENT_VALID_PAYLOAD without KVM_CAP_EXCEPTION_PAYLOAD;
// an exception with a vector above 31 or 2 (NMI); KVM_VCPUEVENT_VALID_TRIPLE_FAULT (no
// KVM_CAP_X86_TRIPLE_FAULT_EVENT); and, where dbgkvm is stricter than KVM, an error code
// on an exception that pushes none or none on one that pushes one (the CPU would refuse
// the entry, SDM Vol. 3 27.2.1.3), an interrupt or NMI to inject (no interrupts yet), SMM
// or a latched INIT (no SMM).
bool accept(const kvm_vcpu_events &in, bool payload_cap, Exception *ex);

// Whether two exceptions that accept() produced ask for the same delivery.
bool same(const Exception &a, const Exception &b);

} // namespace dbgkvm::events
