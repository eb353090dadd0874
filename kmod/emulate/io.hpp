// SPDX-License-Identifier: GPL-2.0
//
// Port I/O semantics of IN, OUT, INS and OUTS (SDM Vol. 2, IN / OUT / INS / OUTS).
//
//   IoAccess io_access(const Insn&);                          size, direction, string, REP
//   uint16_t io_port(const Insn&, const uint64_t gpr[16]);    imm8 or DX
//   uint64_t out_value(const Insn&, const uint64_t gpr[16]);  AL/AX/EAX for OUT
//   void complete_in(const Insn&, uint64_t gpr[16], uint64_t data);  into AL/AX/EAX for IN
//   uint64_t string_count(const Insn&, const uint64_t gpr[16]);  rCX (address size) with REP,
//       else 1
//   Seg string_segment(const Insn&);  OUTS reads DS:rSI (overridable), INS writes ES:rDI (not)
//
// String I/O as KVM's emulator runs it (arch/x86/kvm/emulate.c, em_in/em_out,
// pio_in_emulated, string_addr_inc), for the core's INS/OUTS exits:
//   unsigned string_batch(const Insn&, const uint64_t gpr[16], bool df);  elements per exit
//   uint64_t string_offset(const Insn&, uint64_t reg, bool df, unsigned i);  element i's offset
//   void string_advance(const Insn&, uint64_t gpr[16], bool df, unsigned n);  n elements done
//   SegCheck linearize(const SegDesc&, Seg, CpuMode, uint64_t ea, unsigned size, bool write,
//                      unsigned va_bits);  segment and canonical checks, the linear address

#ifndef DBGKVM_EMULATE_IO_HPP
#define DBGKVM_EMULATE_IO_HPP

#include <cstdint>

#include "decode.hpp"

namespace dbgkvm::emulate
{

struct IoAccess {
	bool valid;	   // IN, OUT, INS or OUTS
	bool in;	   // port to CPU
	bool string;	   // INS/OUTS
	bool rep;	   // F3 (or F2) on INS/OUTS
	bool port_in_dx;   // port from DX, else port_imm
	uint8_t size;	   // 1, 2 or 4
	uint16_t port_imm; // imm8 of E4-E7
};

[[nodiscard]] IoAccess io_access(const Insn &insn);
[[nodiscard]] uint16_t io_port(const Insn &insn, const uint64_t gpr[16]);
[[nodiscard]] uint64_t out_value(const Insn &insn, const uint64_t gpr[16]);
void complete_in(const Insn &insn, uint64_t gpr[16], uint64_t data);
[[nodiscard]] uint64_t string_count(const Insn &insn, const uint64_t gpr[16]);
[[nodiscard]] Seg string_segment(const Insn &insn);

// KVM's read-ahead buffer for INS (struct read_cache): 1 KiB.
inline constexpr unsigned kStringBatchBytes = 1024;

// How many elements one INS/OUTS exit moves, as KVM does; string_count() must be non-zero.
// OUTS: one (em_out hands one element to user space per exit). INS: pio_in_emulated's
// min(in_page, 1024 / size, count), at least 1, where in_page is the bytes from rDI to the
// end of its page (DF = 0) or rDI's offset in its page (DF = 1). KVM compares those bytes
// with a count of elements, so for words and dwords a batch may run past the page; this
// is KVM's rule, kept so the exits user space sees are the same.
[[nodiscard]] unsigned string_batch(const Insn &insn, const uint64_t gpr[16], bool df);

// The offset of element i of a string that starts at offset `reg` (rSI or rDI): the
// elements go up (DF = 0) or down (DF = 1), and the offset wraps at the address size.
[[nodiscard]] uint64_t string_offset(const Insn &insn, uint64_t reg, bool df, unsigned i);

// After n elements: rSI (OUTS) or rDI (INS) moved by n elements, rCX down by n with REP.
// Only the address-size bits change; the others are kept, as in KVM's
// register_address_increment (in 64-bit mode with a 67h prefix, bits 63:32 stay).
void string_advance(const Insn &insn, uint64_t gpr[16], bool df, unsigned n);

// A segment as the emulator needs it (kvm_segment's fields: limit in bytes).
struct SegDesc {
	uint64_t base;
	uint32_t limit;
	uint8_t type; // S = 1 descriptor type: bit 3 code, bit 2 expand-down/conforming,
		      // bit 1 writable/readable
	bool usable;  // present and not null
	bool db;      // expand-down upper bound: 4 GiB with D/B, else 64 KiB
};

enum class SegFault : uint8_t {
	None,
	Gp, // #GP(0)
	Ss, // #SS(0): the access was through SS
};

struct SegCheck {
	SegFault fault;
	uint64_t linear;
};

// The linear address of `size` bytes at offset `ea` through segment `seg`, with the checks
// of KVM's __linearize (SDM Vol. 3, 5.3 "Limit Checking", 5.5 "Type Checking", 3.3.7.1
// "Canonical Addressing"). 64-bit mode: only FS and GS have a base, the address must be
// canonical for va_bits (48, or 57 with CR4.LA57). Otherwise: a usable segment, not a
// read-only data segment for a write (nor a code segment, outside real mode), not an
// execute-only code segment for a read, the access inside the limit (above it for an
// expand-down segment), and the linear address truncated to 32 bits.
[[nodiscard]] SegCheck linearize(const SegDesc &d, Seg seg, CpuMode mode, uint64_t ea,
				 unsigned size, bool write, unsigned va_bits);

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_IO_HPP
