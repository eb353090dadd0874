// SPDX-License-Identifier: GPL-2.0
//
// Port I/O semantics of IN, OUT, INS and OUTS (SDM Vol. 2, IN / OUT / INS / OUTS).
//
//   IoAccess io_access(const Insn&);                          size, direction, string, REP
//   uint16_t io_port(const Insn&, const uint64_t gpr[16]);    imm8 or DX
//   uint64_t out_value(const Insn&, const uint64_t gpr[16]);  AL/AX/EAX for OUT
//   void complete_in(const Insn&, uint64_t gpr[16], uint64_t data);  into AL/AX/EAX for IN
//   uint64_t string_count(const Insn&, const uint64_t gpr[16]);  rCX (address size) with REP, else
//   1 Seg string_segment(const Insn&);  OUTS reads DS:rSI (overridable), INS writes ES:rDI (not)

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

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_IO_HPP
