// SPDX-License-Identifier: GPL-2.0
// Userspace's view: KVM_SET_GUEST_DEBUG, KVM_GET/SET_DEBUGREGS, and how guest debugging
// changes RFLAGS.TF and interrupt injection (KVM: kvm_arch_vcpu_ioctl_set_guest_debug,
// kvm_get_rflags/__kvm_set_rflags, kvm_vcpu_ioctl_x86_{get,set}_debugregs).
#pragma once

#include <cstdint>

#include "dr_state.hpp"

namespace dbgkvm::debugreg
{

// struct kvm_guest_debug (control, pad, arch.debugreg[8]).
struct GuestDebugReq {
	uint32_t control;
	uint32_t pad;
	uint64_t debugreg[8];
};

struct GuestDebugResult {
	int err; // 0, -EINVAL (unknown control bits), -EBUSY (INJECT_* with exception pending)
	bool queue_db;	   // INJECT_DB: queue #DB (no payload)
	bool queue_bp;	   // INJECT_BP: queue #BP
	bool intercept_bp; // exception bitmap: #BP intercepted iff USE_SW_BP (#DB always is)
	uint64_t rflags;   // new hardware RFLAGS (TF forced or dropped)
	uint32_t push;	   // Push flags: DR7 and, on SVM, DR6 (reset to DR6_ACTIVE_LOW, seed 001)
};

// Validate and apply KVM_SET_GUEST_DEBUG. `hw_rflags` is the RFLAGS the hardware holds now,
// `linear_rip` CS.base + RIP. On error nothing changes. Steps, in KVM's order: validate;
// queue INJECT_*; read RFLAGS as the guest sees it under the OLD flags; store the flags (all
// zero unless ENABLE); eff_db/guest_debug_dr7 from debugreg[] under USE_HW_BP, else db;
// update_dr7; record singlestep_rip; write RFLAGS back under the NEW flags. With any flag
// set, registers handed over to the guest (WONT_EXIT, not yet entered) are taken back:
// PUSH_DR_INTERCEPT.
// Deviation from KVM: RELOAD is set whenever eff_db is rewritten, to keep "hardware may
// not hold eff_db" true to its name.
GuestDebugResult set_guest_debug(State &s, const GuestDebugReq &req, bool exception_pending,
				 uint64_t hw_rflags, uint64_t linear_rip);

// RFLAGS as the guest sees it: TF is hidden while userspace single-steps (KVM hides it
// even if the guest set TF itself; same here).
uint64_t guest_rflags(const State &s, uint64_t hw_rflags);
// RFLAGS to put in hardware for a guest-visible value: TF forced while userspace
// single-steps and RIP is still at the recorded linear RIP.
uint64_t hw_rflags_for(const State &s, uint64_t rflags, uint64_t linear_rip);
// GUESTDBG_BLOCKIRQ: no interrupt is injected while set.
inline bool irq_injection_blocked(const State &s)
{
	return (s.guest_debug & GUESTDBG_BLOCKIRQ) != 0;
}
// #BP intercepted? (#DB is intercepted unconditionally: CVE-2015-8104.)
inline bool intercept_bp(const State &s)
{
	return (s.guest_debug & GUESTDBG_USE_SW_BP) != 0;
}

// struct kvm_debugregs.
struct Debugregs {
	uint64_t db[NR_DB_REGS];
	uint64_t dr6;
	uint64_t dr7;
	uint64_t flags;
	uint64_t reserved[9];
};

// KVM_GET_DEBUGREGS: db, dr6, dr7 as the guest sees them; flags and reserved zero.
void get_debugregs(const State &s, Debugregs &out);
// KVM_SET_DEBUGREGS: -EINVAL for non-zero flags or bits 63:32 in DR6/DR7. DR6 and DR7 are
// stored as given (like KVM: no fixed bits are forced, so GET returns what SET stored),
// then update_dr0123/update_dr7. `*push` receives the Push flags.
[[nodiscard]] int set_debugregs(State &s, const Debugregs &in, uint32_t *push);

} // namespace dbgkvm::debugreg
