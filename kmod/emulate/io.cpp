// SPDX-License-Identifier: GPL-2.0

#include "io.hpp"
#include "gpr.hpp"

namespace dbgkvm::emulate
{

IoAccess io_access(const Insn &insn)
{
	IoAccess a{};
	switch (insn.op) {
	case Op::In:
	case Op::Ins:
		a.in = true;
		break;
	case Op::Out:
	case Op::Outs:
		break;
	default:
		return a;
	}
	a.valid = true;
	a.string = insn.op == Op::Ins || insn.op == Op::Outs;
	a.rep = a.string && insn.rep != Rep::None; // F2 acts as REP here too
	a.port_in_dx = insn.imm_size == 0;
	a.port_imm = static_cast<uint16_t>(insn.imm & 0xff);
	a.size = insn.opsize;
	return a;
}

uint16_t io_port(const Insn &insn, const uint64_t gpr[16])
{
	if (insn.imm_size)
		return static_cast<uint16_t>(insn.imm & 0xff);
	return static_cast<uint16_t>(gpr[RDX] & 0xffff);
}

uint64_t out_value(const Insn &insn, const uint64_t gpr[16])
{
	return gpr[RAX] & size_mask(insn.opsize);
}

void complete_in(const Insn &insn, uint64_t gpr[16], uint64_t data)
{
	if (insn.op == Op::In)
		write_gpr(gpr, RAX, insn.opsize, false, data);
}

uint64_t string_count(const Insn &insn, const uint64_t gpr[16])
{
	if (insn.rep == Rep::None)
		return 1;
	return gpr[RCX] & size_mask(insn.addrsize);
}

Seg string_segment(const Insn &insn)
{
	if (insn.op == Op::Ins)
		return Seg::Es;
	return insn.seg != Seg::None ? insn.seg : Seg::Ds;
}

} // namespace dbgkvm::emulate
