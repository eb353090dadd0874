// SPDX-License-Identifier: GPL-2.0
// The SVM backend's internal interface.
#pragma once
#include "core/arch.hpp"
#include "svm/npt.hpp"
#include "svm/vmcb.hpp"

namespace dbgkvm::svm
{

// Per physical CPU: the host save area VMRUN uses (VM_HSAVE_PA) and a page for the
// host state that only VMSAVE/VMLOAD move (FS/GS/TR/LDTR, KernelGsBase, STAR...).
struct PerCpu {
	void *hsave;
	u64 hsave_pa;
	void *host_vmsave;
	u64 host_vmsave_pa;
	bool enabled;
};

PerCpu *percpu(unsigned cpu);
u64 iopm_pa();
u64 msrpm_pa();
// With preemption off: a new ASID on this CPU (true if the CPU's ASIDs wrapped), and
// whether an ASID generation is still this CPU's current one.
extern bool has_nrips; // CPUID 8000_000Ah EDX[3]: the VMCB's next_rip is saved
bool asid_assign(u32 *asid, u64 *generation);
bool asid_current(u64 generation);
unsigned npt_levels(); // the host's paging depth: 4, or 5 with CR4.LA57

class SvmVm final : public ArchVm
{
public:
	ArchVcpu *create_vcpu(unsigned int id) override;
	Errno map(u64 gpa, u64 hpa, bool writable) override;
	void unmap_all() override;
	Errno init() { return npt.init(npt_levels()); }

	Npt npt;
	unsigned long tlb_gen = 1;
};

class SvmVcpu final : public ArchVcpu
{
public:
	SvmVcpu(SvmVm &vm) : ArchVcpu(debugreg::Vendor::Svm), vm_(vm) {}
	~SvmVcpu() override;
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
	bool set_cr4(u64 v) override;
	void set_cr4_reserved(u64 bits) override;
	void queue_icebp(u32 insn_len) override;
	MsrResult get_msr(u32 index, const cpuidt::Features &f, u64 *val) override;
	MsrResult set_msr(u32 index, u64 val, const cpuidt::Features &f) override;
	void reset() override;
	void push_debug(u32 push) override;
	void set_bp_intercept(bool on) override;
	u64 cs_base() override { return vmcb_->save.cs.base; }
	int cpl() override { return vmcb_->save.cpl; }
	u64 cr4() override { return vmcb_->save.cr4; }
	bool movss_shadow() override { return false; } // AMD: no MOV SS #DB suppression
	bool event_pending() override { return event_ & EVT_VALID; }
	bool protected_mode() override;

private:
	ArchExit decode_exit();
	void save_exit_int_info();

	SvmVm &vm_;
	Vmcb *vmcb_ = nullptr;
	u64 vmcb_pa_ = 0;
	u32 asid_ = 0;
	u64 asid_gen_ = 0;
	int last_cpu_ = -1;	     // CPU of the last VMRUN: another one means a TLB flush
	unsigned long tlb_gen_ = 0;  // vm_.tlb_gen at the last flush
	bool flush_pending_ = false; // flush the guest TLB at the next entry (a CR4 write)
	u32 event_ = 0;		     // EVENTINJ for the next entry (0: none)
	u32 event_err_ = 0;
	bool event_reinjected_ = false; // event_ came from EXITINTINFO (KVM's "injected")
	u64 gprs_[16] = {};		// RAX and RSP live in the VMCB
	u64 exit_dr6_ = 0;		// the VMCB DR6 as the last #VMEXIT left it
	// SYSENTER_ESP/EIP bits 63:32 of a guest whose CPUID is not AMD's (svm_msr.cpp).
	u32 sysenter_esp_hi_ = 0, sysenter_eip_hi_ = 0;
};

} // namespace dbgkvm::svm
