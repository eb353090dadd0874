// SPDX-License-Identifier: GPL-2.0
// A vCPU: the kvm_run area, the run loop and the exits that go to user space.
#pragma once
#include "core/arch.hpp"
#include "core/core_msrs.hpp"
#include "debugreg/dr_rules.hpp"
#include "emulate/decode.hpp"
#include "emulate/paging.hpp"

struct dk_guest_fpu;

namespace dbgkvm
{
class Vm;

// What the next KVM_RUN must finish before it enters the guest: the second half of an
// exit that user space completed (KVM's complete_userspace_io). As in KVM, RIP still
// points at the IN/OUT, INS/OUTS or MMIO instruction while user space handles the exit,
// and the completion is dropped if user space moved RIP meanwhile.
enum class Pending : u8 {
	None,
	Io,
	StringIo, // INS/OUTS (core/string_io.cpp)
	Mmio
};

// Before emulating: go on, or stop (a debug exit or a queued #DB instead).
enum class EmulCheck : u8 {
	Proceed,
	Stop
};

class Vcpu
{
public:
	static Errno create(Vm &vm, ArchVm &arch_vm, unsigned int id, Vcpu **out);
	~Vcpu();

	Errno ioctl(unsigned int cmd, unsigned long arg);
	unsigned int id() const { return id_; }
	Vm &vm() { return vm_; }
	void *mmap_page(unsigned long index);
	void load(int cpu);
	void put();
	void reset_after_shutdown();

private:
	Vcpu(Vm &vm, unsigned int id) : vm_(vm), id_(id) {}
	Errno run();
	int run_loop();
	ArchExit enter_guest(); // core/entry.cpp
	int complete_pending();
	// Each handler returns 1 to re-enter the guest, 0 to return to user space with
	// run_->exit_reason filled, or a negative errno.
	int handle_exit(const ArchExit &e);
	int handle_io(const ArchExit &e);
	int handle_npt_fault(const ArchExit &e);
	int handle_mmio(u64 gpa, bool cpu_checked_bps);
	bool crosses_page(const emulate::Insn &insn, unsigned size, u64 gpa);
	// String I/O (core/string_io.cpp).
	enum class StrResult : u8 {
		Ok,
		Exception, // queued for the guest
		Failed,	   // KVM_EXIT_INTERNAL_ERROR filled in
	};
	struct StrEnv {
		InsnContext ctx;
		kvm_sregs sregs;
		bool df, rflags_ac;
	};
	int handle_string_io(const ArchExit &e);
	int complete_string_io();
	void string_env(StrEnv &env);
	StrResult string_element(const emulate::Insn &insn, const StrEnv &env, unsigned i, u8 *buf);
	void advance_string_regs(const emulate::Insn &insn, bool df, unsigned n);
	int handle_cpuid(const ArchExit &e);
	int handle_msr(const ArchExit &e, bool write);
	// MSRs (core/vcpu_msr.cpp): the backend's, then the core's. host: KVM_GET/SET_MSRS.
	MsrResult get_msr(u32 index, bool host, u64 *val);
	MsrResult set_msr(u32 index, u64 val, bool host);
	Errno msrs_ioctl(unsigned long arg, bool write);
	bool next_rip(const ArchExit &e, u64 *out);
	u64 rip_after(const emulate::Insn &insn);
	int skip_and_continue(const ArchExit &e);
	int internal_error(u32 suberror, u64 data0, u64 data1);
	// The guest's registers, read from the backend once per exit and written through
	// (KVM's regs_avail): an exit's handlers read RIP, RFLAGS and the GPRs many times.
	// Dropped whenever the backend may have changed them: after each world switch,
	// on vcpu_load and after a reset.
	u64 reg(Reg r)
	{
		if (!(regs_avail_ & (1u << r))) {
			regs_[r] = arch_->reg(r);
			regs_avail_ |= 1u << r;
		}
		return regs_[r];
	}
	void set_reg(Reg r, u64 v)
	{
		arch_->set_reg(r, v);
		regs_[r] = v;
		regs_avail_ |= 1u << r;
	}
	void regs_changed() { regs_avail_ = 0; }
	void load_gprs(u64 gpr[16]);
	void store_gprs(const u64 gpr[16]);
	// Debug registers (core/debug.cpp).
	u64 linear_rip();
	debugreg::GuestCtx guest_ctx();
	void queue_db(u64 payload);
	void queue_pf(u64 la, u32 error);
	int debug_exit(const debugreg::DebugExit &d);
	EmulCheck check_code_breakpoint(int *ret, bool cpu_checked_bps);
	int finish_insn(u64 next_rip);
	bool decode_current(emulate::Insn *insn, u64 *linear = nullptr);
	int handle_mov_dr(const ArchExit &e);
	int handle_db_intercept(const ArchExit &e);
	int handle_cr_write(const ArchExit &e);
	int handle_alignment_check(const ArchExit &e);
	Errno set_guest_debug(unsigned long arg);
	Errno get_debugregs(unsigned long arg);
	Errno set_debugregs(unsigned long arg);
	// Register state as the ioctls and kvm_run's sync regs carry it (core/vcpu_ioctl.cpp).
	void read_regs(kvm_regs *r);
	void write_regs(const kvm_regs &r);
	void read_sregs(kvm_sregs *s);
	Errno write_sregs(const kvm_sregs &s);
	Errno write_vcpu_events(const kvm_vcpu_events &e);
	Errno sync_regs(); // core/run.cpp
	void store_regs();
	Errno get_regs(unsigned long arg);
	Errno set_regs(unsigned long arg);
	Errno get_sregs(unsigned long arg);
	Errno set_sregs(unsigned long arg);
	Errno get_mp_state(unsigned long arg);
	Errno get_vcpu_events(unsigned long arg);
	// FPU state (core/vcpu_fpu.cpp).
	Errno get_fpu(unsigned long arg);
	Errno set_fpu(unsigned long arg);
	Errno get_xsave(unsigned long arg);
	Errno set_xsave(unsigned long arg);
	Errno get_xcrs(unsigned long arg);
	Errno set_xcrs(unsigned long arg);
	Errno set_vcpu_events(unsigned long arg);
	events::Exception queued_exception();
	void vcpu_events(bool payload_cap, kvm_vcpu_events *e);
	Errno set_mp_state(unsigned long arg);
	// CPUID (core/vcpu_cpuid.cpp).
	Errno set_cpuid2(unsigned long arg);
	Errno get_cpuid2(unsigned long arg);
	void update_cpuid_runtime();
	void guest_cpuid_insn(u32 leaf, u32 subleaf, u32 regs[4]);
	// What the vCPU's CPUID offers, and the CR4 bits it may not set (core/cr_rules.hpp).
	void set_features(const cpuidt::Features &f);
	u64 cr4_reserved() const;

	Vm &vm_;
	unsigned int id_;
	ArchVcpu *arch_ = nullptr;
	dk_guest_fpu *fpu_ = nullptr; // the guest's FPU state (the kernel's fpu_guest)
	debugreg::State dr_ = {};
	u64 code_db_rip_ = ~u64{0}; // linear RIP whose code #DB the guest was just given
	// The payload of the exception queued for the next entry, already delivered to DR6
	// or CR2 (KVM_GET_VCPU_EVENTS reports it while the exception is pending); dropped
	// once the entry injected it.
	bool payload_valid_ = false;
	u64 payload_ = 0;
	bool nmi_masked_ = false; // KVM_SET_VCPU_EVENTS' nmi.masked (no NMIs yet)
	kvm_run *run_ = nullptr;
	void *pio_page_ = nullptr;
	Pending pending_ = Pending::None;
	bool pending_in_ = false; // Io: IN, write the data into RAX
	u8 pending_size_ = 0;	  // Io: bytes
	u64 pending_rip_ = 0;	  // RIP of the instruction being completed
	u64 pending_next_rip_ = 0;
	emulate::Insn pending_insn_ = {}; // Mmio, StringIo: the instruction to complete
	u32 pending_count_ = 0;		  // StringIo: the elements of the exit (io.count)
	emulate::WalkMemo code_walk_;	  // the last walk of RIP's page (fetch_insn)
	int loaded_cpu_ = -1;
	u64 ibpb_token_ = 0;	    // unique: which vCPU a CPU ran last (dk_ibpb_on_vcpu_switch)
	msr::CoreMsrs msrs_;	    // the MSRs no backend keeps (core/core_msrs.hpp)
	cpuidt::Features features_; // of the guest's CPUID: the model's, then cpuid_'s
	kvm_cpuid_entry2 *cpuid_ = nullptr; // KVM_SET_CPUID2's table (dk_zalloc), or none
	u32 cpuid_nent_ = 0;
	bool cpuid_set_ = false; // KVM_SET_CPUID2 succeeded once: the guest reads cpuid_
	bool has_run_ = false;	 // entered the guest once (KVM's kvm_vcpu_has_run)
	u64 regs_[NR_REGS] = {};
	u32 regs_avail_ = 0; // bit r: regs_[r] holds the backend's value
};

} // namespace dbgkvm
