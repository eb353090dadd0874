// SPDX-License-Identifier: GPL-2.0
// The backend interface: the only place where the vendors (SVM, VMX) differ.
//
// Dispatch is virtual at this boundary: one indirect call per VM exit or per ioctl,
// small beside the cost of an exit itself (thousands of cycles); everything inside a
// backend is direct. See the README's design section.
#pragma once
#include "core/cpuid_table.hpp"
#include "core/msr_rules.hpp"
#include "core/vcpu_events.hpp"
#include "debugreg/dr_state.hpp"
#include "debugreg/knobs.hpp"
#include "rt/types.hpp"
#include "rt/x86_defs.hpp"
#include <linux/kvm.h>

namespace dbgkvm
{
class Vm;

// Register numbers: rt/x86_defs.hpp.
using Reg = x86::Reg;
using enum x86::Reg;

// What a VM exit means, vendor-neutral. The backend handles what only it understands
// (interrupt exits, VMLOAD/VMSAVE #UD, ...) and reports Continue.
enum class ExitKind : u8 {
	Continue, // handled in the backend; re-enter (after signal/resched checks)
	Io,	  // IN/OUT, INS/OUTS (string)
	NptFault, // nested/EPT fault: gpa, error
	Hlt,
	Shutdown,  // triple fault
	FailEntry, // VMRUN/VMLAUNCH consistency check failed
	Cpuid,
	Rdmsr,
	Wrmsr,
	Skip,	     // an instruction that does nothing here (INVD, WBINVD): step over it
	MovDr,	     // intercepted MOV to/from DRn (dr, dr_write, gpr or NO_GPR: decode it)
	Debug,	     // a #BP that goes to user space: KVM_EXIT_DEBUG with `debug`
	DbIntercept, // an intercepted #DB: db_cause, db_icebp_len; the core's model decides
	CrWrite,     // an intercepted MOV to CRn (cr, gpr or NO_GPR): the core checks it
	AlignCheck,  // an intercepted #AC (error): the guest's, or the host's split-lock detection
	Unhandled,   // anything else: KVM_EXIT_INTERNAL_ERROR
};

struct ArchExit {
	ExitKind kind;
	u64 code;	     // the hardware's exit code / reason
	u64 gpa;	     // NptFault
	u64 error;	     // NptFault: error code bits (vendor-neutral: see NptError)
	u64 next_rip;	     // Io, Hlt, Cpuid, Rdmsr, Wrmsr, Skip: when next_rip_valid
	bool next_rip_valid; // else the core decodes the instruction for its length
	u16 port;	     // Io
	u8 size;	     // Io: 1, 2 or 4
	bool in;	     // Io
	bool string;	     // Io: INS/OUTS (the core decodes it for its operands)
	bool rep;	     // Io: with a REP prefix
	u32 suberror;	     // Unhandled: KVM_INTERNAL_ERROR_*
	u8 dr;		     // MovDr: the debug register number
	bool dr_write;	     // MovDr: MOV to DRn
	u8 gpr;		     // MovDr, CrWrite: the general-purpose register, or NO_GPR
	u8 cr;		     // CrWrite: the control register (4)
	// NptFault, Io (string): the CPU checked the code breakpoints it held before this
	// exit, and the saved RFLAGS.RF may be the exit's, not the guest's (VMX saves RF = 1
	// after a fault-like exit such as an EPT violation, SDM Vol. 3 27.3.3; Bochs 2.7
	// clears RF as a REP string instruction starts, before its first I/O exit).
	bool cpu_checked_bps;
	debugreg::DebugExit debug; // Debug
	// DbIntercept: what the hardware said about the #DB's causes. SVM: the VMCB DR6 after
	// the exit (the guest ran with DR6 = 0xffff0ff0 unless it owned the registers);
	// VMX: the exit qualification (active-high causes, SDM Vol. 3 27.2.1, Table 27-1).
	u64 db_cause;
	u32 db_icebp_len; // VMX: the #DB is ICEBP (INT1), this long; 0 otherwise
};

inline constexpr u8 NO_GPR = 0xff;

enum NptError : u64 {
	NPT_ERR_PRESENT = 1 << 0,
	NPT_ERR_WRITE = 1 << 1,
	NPT_ERR_FETCH = 1 << 4,
};

// What fetching and decoding the instruction at CS:RIP needs: far less than get_sregs,
// which converts every segment (the profile of a CPUID exit on QEMU's SVM put that at
// a third of the exit).
struct InsnContext {
	u64 cr0, cr3, cr4, efer; // as the guest sees them
	u64 cs_base;
	bool cs_l, cs_db;
	u8 cpl;
	bool long64() const { return (efer & x86::EFER_LMA) && cs_l; }
};

class ArchVcpu
{
public:
	virtual ~ArchVcpu() = default;
	// The debug-register model, owned and written only by the core's Vcpu (the entry
	// plan and exit sync around world_switch, MOV DR and #DB intercepts). The backend
	// reads it in push_debug, to rewrite its hardware state.
	void attach(const debugreg::State *s, unsigned vm_id, unsigned vcpu_id)
	{
		dr_ = s;
		vm_id_ = vm_id;
		vcpu_id_ = vcpu_id;
	}
	// Rewrite the hardware state a debugreg rule changed (debugreg::Push flags).
	virtual void push_debug(u32 push) = 0;
	virtual void set_bp_intercept(bool on) = 0;
	virtual u64 cs_base() = 0;
	virtual int cpl() = 0;
	virtual u64 cr4() = 0;
	virtual bool movss_shadow() = 0;   // Intel-style MOV SS blocking (false on AMD)
	virtual bool event_pending() = 0;  // an exception or interrupt queued for injection
	virtual bool protected_mode() = 0; // CR0.PE
	virtual void load(int cpu) = 0;
	virtual void put() = 0;
	virtual u64 reg(Reg r) = 0;
	virtual void set_reg(Reg r, u64 v) = 0;
	virtual void get_sregs(kvm_sregs &s) = 0;
	virtual void set_sregs(const kvm_sregs &s) = 0; // already validated by the core
	virtual void insn_context(InsnContext &c) = 0;

	// One guest entry. The core drives it (core/entry.cpp, KVM's vcpu_enter_guest):
	// preemption off, prepare_entry, interrupts off, the guest FPU and debug registers,
	// world_switch, the debug registers back, interrupts on, complete_exit.
	// prepare_entry: this CPU's TLB flush and ASID/VPID, the event to inject, host state
	// that changes per entry. Interrupts are off. false: the vCPU cannot enter on this
	// CPU (VMX: its VMCS is not current here); nothing was changed.
	virtual bool prepare_entry(int cpu) = 0;
	// VMRUN or VMLAUNCH/VMRESUME, and the state that must be switched right around it
	// (VMX: CR2, the SYSCALL MSRs). Interrupts are off; the exit information is read here.
	virtual void world_switch() = 0;
	// Interrupts are on again: what the exit means.
	virtual ArchExit complete_exit() = 0;
	// Where the guest's DR6 and DR7 live across the world switch (SVM: the VMCB; VMX:
	// DR6 is the physical register, DR7 the VMCS). Called with interrupts off.
	virtual void set_guest_dr6(u64 v) = 0;
	virtual void set_guest_dr7(u64 v) = 0;
	virtual u64 guest_dr6() = 0;
	virtual u64 guest_dr7() = 0;
	debugreg::Vendor vendor() const { return vendor_; }

	// A hardware exception for the next entry, unless an event that the exit interrupted
	// goes first (the guest then faults again).
	void queue_exception(u8 vector, bool has_error, u32 error);
	// KVM_GET/SET_VCPU_EVENTS (core/vcpu_events.hpp): the event the next entry injects,
	// and the guest's interrupt shadow as KVM_X86_SHADOW_INT_* bits. set_event takes a
	// hardware exception, checked by the core, or nothing (info 0). In real mode an
	// exception has no error code, whatever the vector (SDM Vol. 3, 26.2.1.3 with
	// unrestricted guest; KVM's kvm_inject_exception drops it too).
	virtual events::ArchEvent event() = 0;
	void set_event(events::ArchEvent e);
	virtual u8 interrupt_shadow() = 0;
	virtual void set_interrupt_shadow(u8 mask) = 0;
	virtual void set_cr2(u64 v) = 0; // a pending #PF's payload
	// ICEBP's #DB, delivered as a privileged software exception after the instruction
	// (VMX only: SVM reports ICEBP as an ordinary #DB intercept).
	virtual void queue_icebp(u32 insn_len) = 0;
	// A MOV to CR4 that the core checked (core/cr_rules.hpp); the backend flushes the
	// guest's TLB where the change requires it. true: the guest runs the instruction
	// again to complete it (VMX: with the new read shadow it no longer exits, and the
	// processor does the rest); false: done, the core steps over it.
	[[nodiscard]] virtual bool set_cr4(u64 v) = 0;
	// The CR4 bits this vCPU may not set (cr::cr4_reserved of its CPUID), at creation
	// and after KVM_SET_CPUID2: a backend that lets the guest write some CR4 bits without
	// an exit must make a write to these exit (VMX: the CR4 guest/host mask).
	virtual void set_cr4_reserved(u64 bits) = 0;
	// MSRs the backend keeps in its control structure; NotMine for the others. f: what
	// the vCPU's CPUID says (the same for the guest and for KVM_GET/SET_MSRS).
	[[nodiscard]] virtual MsrResult get_msr(u32 index, const cpuidt::Features &f, u64 *val) = 0;
	[[nodiscard]] virtual MsrResult set_msr(u32 index, u64 val, const cpuidt::Features &f) = 0;
	// Architectural reset (power-on) state.
	virtual void reset() = 0;

protected:
	explicit ArchVcpu(debugreg::Vendor v) : vendor_(v) {}
	// The event for the next entry, as set_event leaves it (the same layout as SVM's
	// EVENTINJ and VMX's VM-entry interruption information).
	virtual void load_event(const events::ArchEvent &e) = 0;
	const debugreg::Vendor vendor_;
	const debugreg::State *dr_ = nullptr; // read-only: the core writes it
	unsigned vm_id_ = 0, vcpu_id_ = 0;    // for the tracepoints
};

// The fault-injection knobs in force (module parameters, all off by default).
debugreg::Knobs knobs();

class ArchVm
{
public:
	virtual ~ArchVm() = default;
	virtual ArchVcpu *create_vcpu(unsigned int id) = 0; // nullptr: out of memory
	// Map one 4 KiB guest-physical page to a host-physical page.
	virtual Errno map(u64 gpa, u64 hpa, bool writable) = 0;
	// Drop every mapping; each vCPU flushes its TLB before it next enters the guest.
	// Called with no vCPU in guest mode.
	virtual void unmap_all() = 0;
};

// One per vendor, chosen once at module load.
struct Backend {
	const char *name;
	Errno (*probe)();		    // is the hardware there and usable?
	Errno (*cpu_online)(unsigned cpu);  // on that CPU
	Errno (*cpu_offline)(unsigned cpu); // on that CPU
	ArchVm *(*create_vm)(Vm &vm);
	void (*exit)();
};

} // namespace dbgkvm
