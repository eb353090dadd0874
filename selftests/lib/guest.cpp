// SPDX-License-Identifier: GPL-2.0
#include "guest.h"

#include "tap.h"

#include <cstring>

namespace kt
{

/* Control register and EFER bits (SDM Vol. 3A 2.5, APM Vol. 2 3.1). */
constexpr uint64_t CR0_PE = 1ull << 0;
constexpr uint64_t CR0_ET = 1ull << 4;
constexpr uint64_t CR0_NE = 1ull << 5;
constexpr uint64_t CR0_PG = 1ull << 31;
constexpr uint64_t CR4_PAE = 1ull << 5;
constexpr uint64_t EFER_LME = 1ull << 8;
constexpr uint64_t EFER_LMA = 1ull << 10;

/* Page table entry bits: present, writable, page size (2 MiB in a PD). */
constexpr uint64_t PTE_P = 1ull << 0;
constexpr uint64_t PTE_RW = 1ull << 1;
constexpr uint64_t PTE_PS = 1ull << 7;

const char *mode_name(Mode m)
{
	switch (m) {
	case Mode::Real:
		return "real mode";
	case Mode::Prot32:
		return "32-bit protected mode";
	case Mode::Long64:
		return "64-bit long mode";
	}
	return "?";
}

/*
 * GDT descriptors (SDM Vol. 3A 3.4.5). Types have the accessed bit set
 * (code 0xB, data 0x3): VMX requires it for usable segments in the VMCS
 * (SDM 26.3.1.2), and the guest CPU would set it on the first load anyway.
 */
static const uint64_t gdt[GDT_ENTRIES] = {
    0,
    0x00af9b000000ffffull, /* SEL_CODE64: G=1 L=1 D=0 P=1 DPL=0 type=0xB */
    0x00cf93000000ffffull, /* SEL_DATA: G=1 D=1 P=1 DPL=0 type=0x3 */
    0x00cf9b000000ffffull, /* SEL_CODE32: G=1 D=1 P=1 DPL=0 type=0xB */
    0x00009b000000ffffull, /* SEL_CODE16: G=0 D=0 limit 0xffff type=0xB */
};

void write_gdt(uint8_t *mem)
{
	memcpy(mem + GDT_GPA, gdt, sizeof(gdt));
}

void write_gdt(Vm &vm)
{
	write_gdt(vm.hva(0, GUEST_MEM_SIZE));
}

void write_identity_map(Vm &vm)
{
	write_identity_map(vm.hva(0, GUEST_MEM_SIZE));
}

void write_identity_map(uint8_t *mem)
{
	auto *pml4 = reinterpret_cast<uint64_t *>(mem + PML4_GPA);
	auto *pdpt = reinterpret_cast<uint64_t *>(mem + PDPT_GPA);
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < PD_COUNT; i++) {
		uint64_t pd_gpa = PD_GPA + i * 4096;
		auto *pd = reinterpret_cast<uint64_t *>(mem + pd_gpa);
		pdpt[i] = pd_gpa | PTE_P | PTE_RW;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i << 30) + (j << 21)) | PTE_P | PTE_RW | PTE_PS;
	}
}

void build_memory(Vm &vm, Mode m)
{
	if (!vm.covers(0, GUEST_MEM_SIZE))
		vm.add_memory(GUEST_MEM_SLOT, 0, GUEST_MEM_SIZE);
	/* Real mode guests may use the GDT to switch to protected mode themselves. */
	write_gdt(vm);
	if (m == Mode::Long64)
		write_identity_map(vm);
}

kvm_segment flat_code32()
{
	kvm_segment s = {};
	s.base = 0;
	s.limit = 0xffffffff;
	s.selector = SEL_CODE32;
	s.type = 0xb;
	s.present = 1;
	s.dpl = 0;
	s.db = 1;
	s.s = 1;
	s.l = 0;
	s.g = 1;
	return s;
}

kvm_segment flat_code64()
{
	kvm_segment s = flat_code32();
	s.selector = SEL_CODE64;
	s.db = 0; /* with L=1, D must be 0 (SDM 3.4.5: D=1 is reserved) */
	s.l = 1;
	return s;
}

kvm_segment flat_data(uint16_t selector)
{
	kvm_segment s = {};
	s.base = 0;
	s.limit = 0xffffffff;
	s.selector = selector;
	s.type = 0x3;
	s.present = 1;
	s.db = 1;
	s.s = 1;
	s.g = 1;
	return s;
}

void sregs_for_mode(kvm_sregs &s, Mode m)
{
	if (m == Mode::Real) {
		/* Real mode: base = selector << 4; keep the reset attributes (limit 0xffff). */
		s.cs.selector = CODE_GPA >> 4;
		s.cs.base = CODE_GPA;
		for (kvm_segment *seg : {&s.ds, &s.es, &s.fs, &s.gs, &s.ss}) {
			seg->selector = 0;
			seg->base = 0;
		}
		return;
	}
	s.gdt.base = GDT_GPA;
	s.gdt.limit = GDT_ENTRIES * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cs = m == Mode::Long64 ? flat_code64() : flat_code32();
	s.ds = s.es = s.fs = s.gs = s.ss = flat_data();
	s.cr0 = CR0_PE | CR0_ET | CR0_NE;
	s.cr4 = 0;
	s.efer = 0;
	if (m == Mode::Long64) {
		s.cr3 = PML4_GPA;
		s.cr4 |= CR4_PAE;
		s.cr0 |= CR0_PG;
		s.efer |= EFER_LME | EFER_LMA;
	}
}

void setup_guest(Vm &vm, Vcpu &vcpu, Mode m, GuestCode code)
{
	if (code.size() > CODE_MAX)
		FAIL("guest code is %zu bytes, more than CODE_MAX", code.size());
	build_memory(vm, m);
	vm.load(CODE_GPA, code);

	kvm_sregs s = vcpu.sregs();
	sregs_for_mode(s, m);
	vcpu.set_sregs(s);

	kvm_regs r = {};
	r.rflags = 0x2;
	r.rip = m == Mode::Real ? 0 : CODE_GPA;
	r.rsp = STACK_TOP;
	vcpu.set_regs(r);
}

uint64_t peek_poke(Guest &g, uint64_t gpa, uint32_t val)
{
	kvm_regs r = g.vcpu.regs();
	r.rip = CODE_GPA;
	r.rbx = gpa;
	r.rcx = val;
	g.vcpu.set_regs(r);
	uint64_t got = g.vcpu.expect_out(PORT_REPORT, 4);
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	return got;
}

} // namespace kt
