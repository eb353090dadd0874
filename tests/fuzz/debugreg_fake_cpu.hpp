// SPDX-License-Identifier: GPL-2.0
// One physical CPU's debug registers for fuzz_debugreg.cpp, driven by the module's own entry
// sequence (debugreg/dr_entry.hpp), as in tests/unit/debugreg_switch_test.cpp. The harness
// plays the world switch with it: VM entry loads the guest's DR7; VM exit leaves the host a DR7
// without the guest's enables (VMX: 0x400, SDM Vol. 3 "Loading Host Control Registers, Debug
// Registers, MSRs"; SVM: 0x400 or the value VMRUN found, as the input chooses); a guest that
// owns the registers writes them natively (guest_write).

#ifndef DBGKVM_TESTS_FUZZ_DEBUGREG_FAKE_CPU_HPP
#define DBGKVM_TESTS_FUZZ_DEBUGREG_FAKE_CPU_HPP

#include <cstdint>

#include "debugreg/debugreg.hpp"
#include "fuzz_util.hpp"

namespace dbgkvm::fuzz
{

using namespace dbgkvm::debugreg;

struct FakeCpu {
	uint64_t dr[NR_DB_REGS] = {};
	uint64_t dr6 = DR6_ACTIVE_LOW;	    // hardware DR6 (VMX: the guest's while it owns them)
	uint64_t dr7 = DR7_FIXED_1;	    // hardware DR7
	uint64_t vmcs_dr7 = DR7_FIXED_1;    // VMCS GUEST_DR7 / VMCB save.dr7
	uint64_t vmcb_dr6 = DR6_ACTIVE_LOW; // SVM: VMCB save.dr6
	Vendor vendor = Vendor::Vmx;
	uint32_t pushed = 0;

	uint64_t read_dr6() { return dr6; }
	uint64_t read_dr7() { return dr7; }
	void write_dr6(uint64_t v) { dr6 = v; }
	void write_dr7(uint64_t v) { dr7 = v; }
	void read_db(uint64_t db[NR_DB_REGS])
	{
		for (int i = 0; i < NR_DB_REGS; i++)
			db[i] = dr[i];
	}
	void write_db(const uint64_t db[NR_DB_REGS])
	{
		// No breakpoint of the host's may fire on the guest's addresses (dr_switch.hpp).
		FUZZ_CHECK((dr7 & DR7_BP_EN_MASK) == 0);
		for (int i = 0; i < NR_DB_REGS; i++)
			dr[i] = db[i];
	}
	void set_guest_dr6(uint64_t v) { (vendor == Vendor::Svm ? vmcb_dr6 : dr6) = v; }
	void set_guest_dr7(uint64_t v) { vmcs_dr7 = v; }
	uint64_t guest_dr6() { return vendor == Vendor::Svm ? vmcb_dr6 : dr6; }
	uint64_t guest_dr7() { return vmcs_dr7; }
	void push(uint32_t flags) { pushed |= flags; }
	void trace_load(uint32_t, uint32_t, const uint64_t *, uint64_t) {}
	void trace_sync(uint32_t, const uint64_t *, uint64_t) {}

	// Native MOV to DRn by a guest that owns the registers: what the CPU stores (SDM Vol. 3,
	// 18.2: DR6/DR7 bits 63:32 would #GP, so only the low half is written; fixed bits stay).
	void guest_write(unsigned n, uint64_t v)
	{
		switch (n % 6) {
		case 4:
			set_guest_dr6((v & 0xffffffffull & DR6_VOLATILE) | DR6_FIXED_1);
			break;
		case 5:
			vmcs_dr7 = (v & 0xffffffffull & DR7_VOLATILE) | DR7_FIXED_1;
			dr7 = vmcs_dr7; // the guest runs with its DR7 in the register
			break;
		default:
			dr[n % 6] = v;
			break;
		}
	}
};

} // namespace dbgkvm::fuzz

#endif // DBGKVM_TESTS_FUZZ_DEBUGREG_FAKE_CPU_HPP
