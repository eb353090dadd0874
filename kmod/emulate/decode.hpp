// SPDX-License-Identifier: GPL-2.0
//
// dbgkvm::emulate: decoder for the x86 instruction subset the hypervisor acts on.
//
// Pure code: no kernel calls, no allocation, no exceptions, no floating point. It builds into the
// module (freestanding) and into the host unit tests (tests/unit/emulate_*_test.cpp).
//
// API
//   CpuMode cpu_mode(bool pe, bool vm86, bool efer_lma, bool cs_l, bool cs_d);
//       The code size of the current code segment (v8086 counts as Real).
//   DecodeResult decode(const uint8_t *bytes, size_t avail, CpuMode mode, Insn *out);
//       Decodes ONE instruction from bytes[0..avail). *out is always written. On Ok it is complete
//       and out->len is the total length (1..15). On Undefined (#UD) it is complete as well (len,
//       op, fields), so the caller can see what faulted. On NeedMoreBytes, fetch more bytes (up to
//       15 in all) and call again. Unsupported: not in the subset, the length is unknown. Invalid:
//       the instruction would exceed 15 bytes (#GP(0)); returned as soon as byte 16 is needed,
//       whatever avail is.
//   uint64_t next_rip(const Insn&, uint64_t rip);
//       rip + len, truncated to 32 bits outside 64-bit mode (as KVM's emulator does).
//   uint64_t effective_address(const Insn&, const uint64_t gpr[16], uint64_t rip);
//       The offset (not the linear address) of the memory operand; rip is the address of the
//       instruction itself (RIP-relative operands add rip + len).
//   Seg effective_segment(const Insn&);
//       The segment of the memory operand: the override if any, else SS for rBP/rSP bases, else DS.
//   unsigned cr_number(const Insn&), dr_number(const Insn&);   CR/DR number of MOV CR/DR; the GPR
//       is insn.rm and the width insn.opsize (8 in 64-bit mode, else 4): use read_gpr/write_gpr
//       (gpr.hpp) with that width, so a 32-bit MOV from DR zero-extends like hardware.
//   gpr.hpp:    read_gpr(), write_gpr(): register access with the x86 width and AH..BH rules.
//   mmio.hpp:   mem_access(), store_value(), complete_load() for the MOV subset.
//   io.hpp:     io_access(), io_port(), out_value(), complete_in() for IN/OUT/INS/OUTS.
//   paging.hpp: walk(), a guest page-table walker over a physical-read callback.
//
// Subset (everything else is Unsupported: lengths are never guessed):
//   MOV 88 89 8A 8B C6/0 C7/0 A0-A3, MOVZX 0F B6/B7, MOVSX 0F BE/BF, MOVSXD 63 (64-bit mode only),
//   MOV DR 0F 21/23, MOV CR 0F 20/22, MOV Sreg 8E, POP SS 17, HLT F4, CPUID 0F A2, RDMSR 0F 32,
//   WRMSR 0F 30, IN/OUT E4-E7 EC-EF, INS/OUTS 6C-6F, INT3 CC, INT1 F1, INT n CD, UD2 0F 0B,
//   NOP 90, PAUSE F3 90, STI FB, PUSHF 9C, POPF 9D, x87 escapes D8-DF (length only).
//
// Encoding rules follow the Intel SDM Vol. 2, chapter 2 "Instruction Format".

#ifndef DBGKVM_EMULATE_DECODE_HPP
#define DBGKVM_EMULATE_DECODE_HPP

#include <cstddef>
#include <cstdint>

#include "rt/x86_defs.hpp"

namespace dbgkvm::emulate
{

// The size attributes of the code segment (SDM Vol. 3, 3.4.5 and 5.2.1).
enum class CpuMode : uint8_t {
	Real,	// CR0.PE = 0, or EFLAGS.VM = 1: 16-bit code
	Prot16, // protected or compatibility mode, CS.D = 0
	Prot32, // protected or compatibility mode, CS.D = 1
	Long64, // EFER.LMA = 1 and CS.L = 1
};

// Real and v8086 mode ignore CS.D (as KVM does). In IA-32e mode CS.L selects 64-bit code; CS.L with
// CS.D set is reserved (loading such a CS faults), so it is reported as Long64.
[[nodiscard]] constexpr CpuMode cpu_mode(bool pe, bool vm86, bool efer_lma, bool cs_l, bool cs_d)
{
	if (!pe || vm86)
		return CpuMode::Real;
	if (efer_lma && cs_l)
		return CpuMode::Long64;
	return cs_d ? CpuMode::Prot32 : CpuMode::Prot16;
}

enum class [[nodiscard]] DecodeResult : uint8_t{
    Ok,
    NeedMoreBytes, // avail ends before the instruction does
    Unsupported,   // not in the subset: the length is not known
    Invalid,	   // longer than 15 bytes: #GP(0) (SDM Vol. 2, 2.3.11)
    Undefined,	   // an invalid encoding of a known instruction: #UD
};

// Segment registers in ModRM.reg order of MOV Sreg (SDM Vol. 2, 3.1.1.1, "Sreg").
enum class Seg : uint8_t {
	Es = 0,
	Cs = 1,
	Ss = 2,
	Ds = 3,
	Fs = 4,
	Gs = 5,
	None = 6,
};

enum class Rep : uint8_t {
	None,
	Rep,   // F3
	Repne, // F2
};

// The instructions of the subset.
enum class Op : uint8_t {
	None,
	// MMIO moves (mmio.hpp gives their semantics)
	MovRmReg,    // 88, 89: r/m <- reg
	MovRegRm,    // 8A, 8B: reg <- r/m
	MovRmImm,    // C6 /0, C7 /0: r/m <- imm
	MovAccMoffs, // A0, A1: AL/rAX <- [moffs]
	MovMoffsAcc, // A2, A3: [moffs] <- AL/rAX
	Movzx,	     // 0F B6, 0F B7
	Movsx,	     // 0F BE, 0F BF
	Movsxd,	     // 63 (64-bit mode)
	// Privileged and exiting instructions
	MovFromCr, // 0F 20: rm <- CR[reg]
	MovToCr,   // 0F 22: CR[reg] <- rm
	MovFromDr, // 0F 21: rm <- DR[reg]
	MovToDr,   // 0F 23: DR[reg] <- rm
	MovSreg,   // 8E: Sreg[reg] <- r/m16
	PopSs,	   // 17
	Hlt,	   // F4
	Cpuid,	   // 0F A2
	Rdmsr,	   // 0F 32
	Wrmsr,	   // 0F 30
	Invd,	   // 0F 08
	Wbinvd,	   // 0F 09
	In,	   // E4, E5, EC, ED
	Out,	   // E6, E7, EE, EF
	Ins,	   // 6C, 6D
	Outs,	   // 6E, 6F
	Int3,	   // CC
	Int1,	   // F1 (ICEBP)
	IntN,	   // CD ib
	Ud2,	   // 0F 0B
	Nop,	   // 90
	Pause,	   // F3 90
	Sti,	   // FB
	Pushf,	   // 9C
	Popf,	   // 9D
	X87,	   // D8-DF: length only
};

inline constexpr uint8_t kNoReg = 0xff;

// General-purpose register numbers, in encoding order: x86::Reg (rt/x86_defs.hpp).
using enum x86::Reg;

struct Insn {
	Op op;
	CpuMode mode;
	uint8_t len;	  // total length, prefixes included (1..15)
	uint8_t opcode;	  // the last opcode byte (after 0F when two_byte)
	bool two_byte;	  // 0F escape
	uint8_t opsize;	  // effective operand size in bytes: 1, 2, 4 or 8
	uint8_t addrsize; // effective address size in bytes: 2, 4 or 8

	// Prefixes
	Seg seg;	      // segment override; in 64-bit mode only FS and GS count
	Rep rep;	      // the last of F2/F3
	bool lock;	      // F0
	bool opsize_prefix;   // 66
	bool addrsize_prefix; // 67
	uint8_t rex;	      // the REX byte in effect (0x40-0x4F), 0 if none or ignored

	// ModRM: reg and rm include REX.R and REX.B. For MOV CR/DR mod is ignored and the
	// instruction is always in register form (mod reads as 3).
	bool has_modrm;
	uint8_t modrm;
	uint8_t mod;
	uint8_t reg;
	uint8_t rm;

	// Memory operand (ModRM with mod != 3, or moffs)
	bool has_mem;
	bool has_sib;
	bool rip_relative;
	uint8_t sib;
	uint8_t base;	   // register number or kNoReg
	uint8_t index;	   // register number or kNoReg
	uint8_t scale;	   // 1, 2, 4, 8
	uint8_t disp_size; // bytes of displacement or moffs in the encoding
	uint8_t mem_size;  // bytes read or written at the memory operand (0 if unknown)
	uint64_t disp;	   // displacement sign-extended to 64 bits; moffs zero-extended

	// Immediate, zero-extended raw bytes
	uint8_t imm_size;
	uint64_t imm;

	// MOV SS, POP SS and STI: the next instruction runs in an interrupt shadow
	// (SDM Vol. 3, 6.8.3; MOV SS/POP SS also block debug exceptions).
	bool shadow;
};

[[nodiscard]] DecodeResult decode(const uint8_t *bytes, size_t avail, CpuMode mode, Insn *out);

[[nodiscard]] uint64_t effective_address(const Insn &insn, const uint64_t gpr[16], uint64_t rip);

[[nodiscard]] constexpr uint64_t next_rip(const Insn &insn, uint64_t rip)
{
	const uint64_t next = rip + insn.len;
	return insn.mode == CpuMode::Long64 ? next : (next & 0xffffffffull);
}
[[nodiscard]] Seg effective_segment(const Insn &insn);

// Control and debug register numbers of MOV CR/DR (ModRM.reg with REX.R).
[[nodiscard]] constexpr unsigned cr_number(const Insn &insn)
{
	return insn.reg;
}
[[nodiscard]] constexpr unsigned dr_number(const Insn &insn)
{
	return insn.reg;
}

// The address-size mask: 0xffff, 0xffffffff or all ones.
[[nodiscard]] constexpr uint64_t size_mask(unsigned bytes)
{
	return bytes >= 8 ? ~uint64_t{0} : (uint64_t{1} << (bytes * 8)) - 1;
}

// Sign-extends the low `bytes` bytes of v to 64 bits.
[[nodiscard]] constexpr uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	if (bytes >= 8)
		return v;
	const unsigned shift = 64 - bytes * 8;
	return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
}

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_DECODE_HPP
