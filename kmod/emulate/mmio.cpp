// SPDX-License-Identifier: GPL-2.0

#include "mmio.hpp"
#include "gpr.hpp"

namespace dbgkvm::emulate
{

MemAccess mem_access(const Insn &insn)
{
	MemAccess a{false, false, 0, kNoReg};
	if (!insn.has_mem)
		return a;
	switch (insn.op) {
	case Op::MovRmReg:
		a.is_write = true;
		a.reg = insn.reg;
		break;
	case Op::MovMoffsAcc:
		a.is_write = true;
		a.reg = RAX;
		break;
	case Op::MovRmImm:
		a.is_write = true;
		break;
	case Op::MovRegRm:
	case Op::Movzx:
	case Op::Movsx:
	case Op::Movsxd:
		a.reg = insn.reg;
		break;
	case Op::MovAccMoffs:
		a.reg = RAX;
		break;
	default:
		return a;
	}
	a.valid = true;
	a.size = insn.mem_size;
	return a;
}

uint64_t store_value(const Insn &insn, const uint64_t gpr[16])
{
	const bool rex = insn.rex != 0;
	switch (insn.op) {
	case Op::MovRmReg:
		return read_gpr(gpr, insn.reg, insn.mem_size, rex);
	case Op::MovMoffsAcc:
		return read_gpr(gpr, RAX, insn.mem_size, rex);
	case Op::MovRmImm:
		// C7 with REX.W: imm32 sign-extended to 64 bits (SDM Vol. 2, MOV).
		return sign_extend(insn.imm, insn.imm_size) & size_mask(insn.mem_size);
	default:
		return 0;
	}
}

void complete_load(const Insn &insn, uint64_t gpr[16], uint64_t data)
{
	const bool rex = insn.rex != 0;
	data &= size_mask(insn.mem_size);
	switch (insn.op) {
	case Op::MovRegRm:
		write_gpr(gpr, insn.reg, insn.opsize, rex, data);
		break;
	case Op::MovAccMoffs:
		write_gpr(gpr, RAX, insn.opsize, rex, data);
		break;
	case Op::Movzx:
		write_gpr(gpr, insn.reg, insn.opsize, rex, data);
		break;
	case Op::Movsx:
	case Op::Movsxd:
		write_gpr(gpr, insn.reg, insn.opsize, rex, sign_extend(data, insn.mem_size));
		break;
	default:
		break;
	}
}

} // namespace dbgkvm::emulate
