// SPDX-License-Identifier: GPL-2.0
// The VMX backend's internal interface.
#pragma once
#include "core/arch.hpp"
#include "core/cr_rules.hpp"
#include "dbgkvm_glue.h"
#include "vmx/ept.hpp"

namespace dbgkvm::vmx
{

class VmxVcpu;

// What the capability MSRs allow, and the controls dbgkvm runs every guest with
// (vmx_controls.cpp).
struct Caps {
	u32 revision; // IA32_VMX_BASIC[30:0]: goes into the VMXON region and each VMCS
	u32 pin, proc, proc2, exit, entry;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid; // IA32_VMX_EPT_VPID_CAP
	bool vpid;    // "enable VPID" is on
	bool invept_single;
	bool load_pat;	     // entry/exit controls load and save IA32_PAT
	bool ia32e_entry_ok; // "IA-32e mode guest" may be 1
	u32 preempt_timer;   // VMX-preemption timer value, when the pin control is on
};
Errno read_caps(Caps *c); // -DK_ENODEV with one log line when VMX is unusable
const Caps &caps();

// Per physical CPU. `loaded` lists every VMCS that is active on this CPU (VMPTRLDed
// and not VMCLEARed since); it changes only on this CPU with interrupts off.
struct PerCpu {
	void *vmxon;
	u64 vmxon_pa;
	bool on;
	u64 current_vmcs; // the VMCS pointer as VMPTRLD left it, 0: none
	VmxVcpu *loaded;
	u64 host_star, host_lstar, host_cstar, host_sfmask;
};
PerCpu *percpu(unsigned cpu);

u16 vpid_alloc(); // 0: none left (the vCPU then runs with VPID 0... see vmx_cpu.cpp)
void vpid_free(u16 vpid);
void flush_ept(u64 eptp); // INVEPT for this EPTP (or all contexts) on this CPU
// CR0/CR4 bits that VMX fixes and the guest therefore sees through the read shadows,
// and the value the hardware register gets for a guest value (vmx_state.cpp). A vCPU's
// CR4 mask adds the bits its CPUID reserves (VmxVcpu::cr4_mask).
u64 cr0_mask();
u64 cr0_hw(u64 v);
u64 cr4_fixed_mask();
u64 cr4_hw(u64 v);

class VmxVm final : public ArchVm
{
public:
	ArchVcpu *create_vcpu(unsigned int id) override;
	Errno map(u64 gpa, u64 hpa, bool writable) override;
	void unmap_all() override;
	Errno init() { return ept.init(); }

	Ept ept;
	unsigned long tlb_gen = 1;
};

// Exit information read while the VMCS is still current and interrupts are off.
struct ExitInfo {
	u32 reason;
	u32 intr_info, intr_error;
	u32 idt_info, idt_error;
	u32 insn_len;
	u64 qual;
	u64 gpa;
	bool vmfail; // VMLAUNCH/VMRESUME itself failed: reason is VM_INSTRUCTION_ERROR
};

class VmxVcpu final : public ArchVcpu
{
public:
	VmxVcpu(VmxVm &vm) : ArchVcpu(debugreg::Vendor::Vmx), vm_(vm) {}
	~VmxVcpu() override;
	Errno init();

	void load(int cpu) override;
	void put() override;
	u64 reg(Reg r) override;
	void set_reg(Reg r, u64 v) override;
	void get_sregs(kvm_sregs &s) override;
	void set_sregs(const kvm_sregs &s) override;
	void insn_context(InsnContext &c) override;
	bool prepare_entry(int cpu) override;
	void world_switch() override;
	ArchExit complete_exit() override;
	void set_guest_dr6(u64 v) override;
	void set_guest_dr7(u64 v) override;
	u64 guest_dr6() override;
	u64 guest_dr7() override;
	events::ArchEvent event() override;
	void load_event(const events::ArchEvent &e) override;
	u8 interrupt_shadow() override;
	void set_interrupt_shadow(u8 mask) override;
	void set_cr2(u64 v) override;
	void queue_icebp(u32 insn_len) override;
	bool set_cr4(u64 v) override;
	void set_cr4_reserved(u64 bits) override;
	MsrResult get_msr(u32 index, const cpuidt::Features &f, u64 *val) override;
	MsrResult set_msr(u32 index, u64 val, const cpuidt::Features &f) override;
	void reset() override;

	// What the debug-register model asks of a backend.
	void push_debug(u32 push) override;
	void set_bp_intercept(bool on) override;
	u64 cs_base() override;
	int cpl() override;
	u64 cr4() override;
	bool movss_shadow() override;
	bool event_pending() override;
	bool protected_mode() override;

	// The per-CPU list of active VMCSs, and VMCLEAR on the CPU that holds this one.
	static void clear_on_this_cpu(void *vcpu) noexcept;
	static void clear_all_on_this_cpu(PerCpu &pc);

private:
	void do_reset();
	void setup_controls();
	void write_host_state(int cpu);
	void set_efer(u64 efer);
	void save_idt_vectoring(const ExitInfo &x);
	ArchExit decode_exit(const ExitInfo &x);
	ArchExit handle_exception(const ExitInfo &x);
	ArchExit handle_cr(const ExitInfo &x);
	u64 cr4_mask() const { return cr4_fixed_mask() | cr4_reserved_; }
	// vmx_debug.cpp: the debug-register exits.
	ArchExit debug_exception(const ExitInfo &x, u32 type);
	ArchExit breakpoint_exception(const ExitInfo &x);
	ArchExit mov_dr(const ExitInfo &x);
	u64 next_rip(const ExitInfo &x);
	bool guest_64bit();

	VmxVm &vm_;
	void *vmcs_ = nullptr;
	u64 vmcs_pa_ = 0;
	u16 vpid_ = 0;
	int cpu_ = -1;		// CPU where the VMCS is active, -1 after VMCLEAR
	bool launched_ = false; // VMRESUME, not VMLAUNCH (the VMCS's launch state)
	bool entered_ = false;	// the last world_switch reached the guest
	ExitInfo exit_ = {};	// what the last world_switch's exit said
	bool loaded_ = false;	// between load() and put()
	bool controls_set_ = false;
	int host_cpu_ = -1; // the per-CPU host state in the VMCS is this CPU's
	VmxVcpu *next_ = nullptr, *prev_ = nullptr; // PerCpu::loaded
	int flushed_cpu_ = -1;			    // CPU of the last INVEPT for this vCPU
	unsigned long tlb_gen_ = 0;

	u64 gprs_[16] = {}; // RSP lives in the VMCS
	u64 cr2_ = 0;	    // not in the VMCS: switched around entry
	u64 cr8_ = 0;	    // the virtual TPR (CR8 loads and stores exit)
	// The CR4 bits this vCPU's CPUID reserves (set_cr4_reserved): in the guest/host mask,
	// so that a MOV to CR4 setting one exits to the core's check.
	u64 cr4_reserved_ = ~cr::CR4_GUEST_ALLOWED;
	// Not in the VMCS: switched around each entry (vmx_msr.cpp).
	u64 star_ = 0, lstar_ = 0, cstar_ = 0, sfmask_ = 0, kernel_gs_base_ = 0;
	u64 pat_ = 0x0007040600070406ULL; // when the controls cannot load IA32_PAT
	// The event to inject at the next entry (VM_ENTRY_INTR_INFO), 0: none.
	u32 event_ = 0, event_err_ = 0, event_len_ = 0;
	bool event_reinjected_ = false; // event_ came from IDT-vectoring (KVM's "injected")
};

} // namespace dbgkvm::vmx
