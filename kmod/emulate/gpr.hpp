// SPDX-License-Identifier: GPL-2.0
//
// General-purpose register access with the x86 width rules (SDM Vol. 1, 3.4.1.1):
//   8-bit and 16-bit writes keep the other bits, 32-bit writes zero bits 63:32, 64-bit writes all.
//   Byte registers 4-7 are AH, CH, DH, BH without a REX prefix and SPL, BPL, SIL, DIL with any
//   REX prefix, even 40h (SDM Vol. 2, 2.2.1.2 and table 3-1).

#ifndef DBGKVM_EMULATE_GPR_HPP
#define DBGKVM_EMULATE_GPR_HPP

#include <cstdint>

#include "decode.hpp"

namespace dbgkvm::emulate
{

// True if byte register `reg` names one of AH, CH, DH, BH.
[[nodiscard]] constexpr bool is_high_byte(unsigned reg, unsigned size, bool rex)
{
	return size == 1 && !rex && reg >= 4 && reg < 8;
}

[[nodiscard]] constexpr uint64_t read_gpr(const uint64_t gpr[16], unsigned reg, unsigned size,
					  bool rex)
{
	if (is_high_byte(reg, size, rex))
		return (gpr[reg - 4] >> 8) & 0xff;
	return gpr[reg & 15] & size_mask(size);
}

constexpr void write_gpr(uint64_t gpr[16], unsigned reg, unsigned size, bool rex, uint64_t val)
{
	if (is_high_byte(reg, size, rex)) {
		uint64_t &r = gpr[reg - 4];
		r = (r & ~uint64_t{0xff00}) | ((val & 0xff) << 8);
		return;
	}
	uint64_t &r = gpr[reg & 15];
	if (size >= 4)
		r = val & size_mask(size); // 32-bit results zero-extend
	else
		r = (r & ~size_mask(size)) | (val & size_mask(size));
}

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_GPR_HPP
