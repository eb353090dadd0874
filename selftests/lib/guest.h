/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest builders for the three x86 modes the tests use. Each puts slot 0
 * (GUEST_MEM_SIZE at GPA 0) in place, the structures the mode needs, copies
 * the code to CODE_GPA and sets the registers so KVM_RUN starts there:
 *
 *  - real mode: CS = CODE_GPA >> 4 (base = selector << 4), IP = 0, SS:SP = 0:STACK_TOP.
 *  - 32-bit protected mode: flat GDT at GDT_GPA, CR0.PE, CS = SEL_CODE32, data = SEL_DATA.
 *  - 64-bit long mode: the GDT plus a 4-level identity map of 0..8 GiB with 2 MiB
 *    pages, EFER.LME|LMA, CR4.PAE, CR0.PG|PE, CS = SEL_CODE64 (L=1, D=0).
 *
 * The IDT is empty (limit 0) in protected and long mode: any exception
 * escalates to a triple fault, i.e. KVM_EXIT_SHUTDOWN, which makes guest bugs
 * visible instead of looping.
 */
#ifndef SELFTESTS_LIB_GUEST_H
#define SELFTESTS_LIB_GUEST_H

#include "guest_code.h"
#include "kvm.h"
#include "layout.h"

namespace kt
{

enum class Mode {
	Real,
	Prot32,
	Long64,
};

const char *mode_name(Mode m);

/* Memory: slot 0 if missing, then the GDT (and page tables for Long64). */
void build_memory(Vm &vm, Mode m);
void write_gdt(Vm &vm);
void write_identity_map(Vm &vm);
/* The same into a host buffer that is guest memory from GPA 0 (GUEST_MEM_SIZE bytes). */
void write_gdt(uint8_t *mem);
void write_identity_map(uint8_t *mem);

/* Segment registers and control registers for the mode, on top of `s`. */
void sregs_for_mode(kvm_sregs &s, Mode m);
kvm_segment flat_code32();
kvm_segment flat_code64();
kvm_segment flat_data(uint16_t selector = SEL_DATA);

/* Everything: memory, code at CODE_GPA, sregs and regs (RSP = STACK_TOP, RFLAGS = 2). */
void setup_guest(Vm &vm, Vcpu &vcpu, Mode m, GuestCode code);

/* A VM with one vCPU ready to run `code` in mode `m`. */
struct Guest {
	Vm vm;
	Vcpu vcpu;
	Guest(Mode m, GuestCode code) : vm(), vcpu(vm, 0) { setup_guest(vm, vcpu, m, code); }
	/* With `cpuid` in place of the supported table. */
	Guest(Mode m, GuestCode code, Cpuid &cpuid) : vm(), vcpu(vm, 0, VcpuCpuid::None)
	{
		cpuid.set_on(vcpu);
		setup_guest(vm, vcpu, m, code);
	}
};

/*
 * For a guest running guest_peek_poke (lib/common_guest.S): runs it once from the top
 * and returns the dword it reports at gpa, after it stored `val` at gpa + 4.
 */
uint64_t peek_poke(Guest &g, uint64_t gpa, uint32_t val);

} // namespace kt

#endif
