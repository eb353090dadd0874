// SPDX-License-Identifier: GPL-2.0
// The register rules: guest MOV to/from DRn, and the update_* helpers that keep eff_db,
// switch_db_regs and the hardware-facing values consistent with the guest's view.
// (KVM: kvm_set_dr, kvm_get_dr, kvm_update_dr0123, kvm_update_dr7, kvm_dr6_fixed.)
#pragma once

#include <cstdint>

#include "dr_state.hpp"
#include "knobs.hpp"

namespace dbgkvm::debugreg
{

// What the caller of a MOV DR rule must do next.
enum class DrAction : uint8_t {
	Done,	   // completes: write `value` to the GPR for a read, advance RIP
	InjectUD,  // #UD (DR4/DR5 with CR4.DE = 1, DR8-15)
	InjectGP,  // #GP(0) (CPL > 0, bits 63:32 of DR6/DR7)
	QueueDB,   // DR7.GD: queue #DB with `db_payload` (DR6_BD), RIP not advanced
	ExitDebug, // DR7.GD under USE_HW_BP: KVM_EXIT_DEBUG with `exit`, RIP not advanced
	Reenter,   // intercept dropped (WONT_EXIT): re-enter on the same instruction
};

struct DrResult {
	DrAction action;
	uint64_t value;	     // read result (get_dr)
	uint64_t db_payload; // QueueDB
	DebugExit exit;	     // ExitDebug
	uint32_t push;	     // Push flags: hardware state to rewrite
};

// DR6 bits that read as 1 for this guest (KVM: kvm_dr6_fixed). RTM (bit 16) and BLD
// (bit 11) are active low: a guest without the feature must always see them as 1.
uint64_t dr6_fixed(const GuestCtx &g);

// eff_db := db unless userspace owns the breakpoints; sets RELOAD. Returns Push flags.
uint32_t update_dr0123(State &s);
// BP_ENABLED := effective DR7 arms any of L0-G3. Returns PUSH_DR7.
uint32_t update_dr7(State &s);
// The value the hardware DR6 should hold while the guest runs.
//  SVM (VMCB save.dr6): the guest's dr6 only while the guest owns the DRs (WONT_EXIT);
//    otherwise DR6_ACTIVE_LOW, so that the VMCB DR6 of a #DB intercept holds exactly the
//    causes of that #DB (seed 001). Knob svm_clobber_guest_dr6: always the guest's dr6.
//  VMX: the guest's dr6; it is loaded with MOV only with WONT_EXIT (see plan_entry).
uint64_t hw_dr6(const State &s, Vendor v, const Knobs &k);

// vCPU creation: everything zero, then reset().
void init(State &s);
// INIT/RESET (KVM: kvm_vcpu_reset): db = 0, dr6 = DR6_ACTIVE_LOW, dr7 = 0x400. Userspace's
// guest debugging (guest_debug, guest_debug_dr7 and eff_db under USE_HW_BP) survives, as
// after the 2012 fix "guest debug across vCPU INIT reset". Returns Push flags.
uint32_t reset(State &s);

// DR7.GD check for a MOV DR about to execute (SDM §18.2.4: the #DB is raised before the
// MOV, BD set in DR6; the VMX MOV-DR exit has priority over it, so it is emulated).
// Uses the DR7 the hardware runs with. Returns Done when GD is clear.
DrResult check_mov_dr_gd(const State &s, const GuestCtx &g);

// Guest MOV to DRn / from DRn, fully checked in this order: CPL > 0 -> #GP; DR4/DR5 with
// CR4.DE = 1 or DR8-15 -> #UD; DR7.GD -> #DB; DR6/DR7 bits 63:32 -> #GP. DR4/DR5 alias
// DR6/DR7 when CR4.DE = 0.
DrResult set_dr(State &s, int dr, uint64_t val, const GuestCtx &g);
DrResult get_dr(const State &s, int dr, const GuestCtx &g);

} // namespace dbgkvm::debugreg
