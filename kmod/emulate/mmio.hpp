// SPDX-License-Identifier: GPL-2.0
//
// Semantics of the MOV subset for MMIO completion. The hypervisor knows the guest-physical address
// from the fault; it needs the size, the direction, the data of a store, and where a load goes.
//
//   MemAccess mem_access(const Insn&);
//       valid only for a MOV-subset instruction with a memory operand (ModRM mod != 3 or moffs).
//   uint64_t store_value(const Insn&, const uint64_t gpr[16]);
//       The value a store writes (low `size` bytes significant, upper bits zero).
//   void complete_load(const Insn&, uint64_t gpr[16], uint64_t data);
//       Writes the `size` bytes loaded into the destination register, extending for
//       MOVZX/MOVSX/MOVSXD and following the x86 width rules (gpr.hpp). No-op for a non-load.

#ifndef DBGKVM_EMULATE_MMIO_HPP
#define DBGKVM_EMULATE_MMIO_HPP

#include <cstdint>

#include "decode.hpp"

namespace dbgkvm::emulate
{

struct MemAccess {
	bool valid;    // a MOV-subset memory access the helpers below complete
	bool is_write; // store to memory
	uint8_t size;  // bytes accessed: 1, 2, 4 or 8
	uint8_t reg;   // register stored or loaded, kNoReg for an immediate store
};

[[nodiscard]] MemAccess mem_access(const Insn &insn);
[[nodiscard]] uint64_t store_value(const Insn &insn, const uint64_t gpr[16]);
void complete_load(const Insn &insn, uint64_t gpr[16], uint64_t data);

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_MMIO_HPP
