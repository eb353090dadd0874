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

unsigned string_batch(const Insn &insn, const uint64_t gpr[16], bool df)
{
	if (insn.op != Op::Ins)
		return 1;
	const uint64_t count = string_count(insn, gpr);
	const unsigned off = static_cast<unsigned>(gpr[RDI] & 0xfff);
	const unsigned in_page = df ? off : 0x1000 - off;
	uint64_t n = kStringBatchBytes / insn.opsize;
	if (in_page < n)
		n = in_page;
	if (count < n)
		n = count;
	return n ? static_cast<unsigned>(n) : 1;
}

uint64_t string_offset(const Insn &insn, uint64_t reg, bool df, unsigned i)
{
	const uint64_t delta = uint64_t{i} * insn.opsize;
	return (df ? reg - delta : reg + delta) & size_mask(insn.addrsize);
}

namespace
{
// KVM's register_address_increment: within the address size, the other bits kept.
void add_within(uint64_t &reg, unsigned addrsize, uint64_t inc)
{
	const uint64_t mask = size_mask(addrsize);
	reg = (reg & ~mask) | ((reg + inc) & mask);
}
} // namespace

void string_advance(const Insn &insn, uint64_t gpr[16], bool df, unsigned n)
{
	const uint64_t bytes = uint64_t{n} * insn.opsize;
	add_within(gpr[insn.op == Op::Ins ? RDI : RSI], insn.addrsize, df ? 0 - bytes : bytes);
	if (insn.rep != Rep::None)
		add_within(gpr[RCX], insn.addrsize, 0 - uint64_t{n});
}

SegCheck linearize(const SegDesc &d, Seg seg, CpuMode mode, uint64_t ea, unsigned size, bool write,
		   unsigned va_bits)
{
	const SegFault bad = seg == Seg::Ss ? SegFault::Ss : SegFault::Gp;
	if (mode == CpuMode::Long64) {
		const uint64_t la = (seg == Seg::Fs || seg == Seg::Gs ? d.base : 0) + ea;
		const unsigned shift = 64 - va_bits;
		if (static_cast<uint64_t>(static_cast<int64_t>(la << shift) >> shift) != la)
			return {bad, 0};
		return {SegFault::None, la};
	}
	if (!d.usable)
		return {bad, 0};
	const bool code = d.type & 8;
	if (write && ((mode != CpuMode::Real && code) || !(d.type & 2)))
		return {bad, 0}; // a code segment, or a read-only data segment
	if (!write && code && !(d.type & 2))
		return {bad, 0}; // an execute-only code segment
	uint64_t lim = d.limit;
	if (!code && (d.type & 4)) { // expand-down: valid offsets are above the limit
		if (ea <= lim)
			return {bad, 0};
		lim = d.db ? 0xffffffff : 0xffff;
	}
	// Within the limit; a 4 GiB limit lets the access wrap (the address is 32 bits).
	if (ea > lim || (lim != 0xffffffff && size > lim + 1 - ea))
		return {bad, 0};
	return {SegFault::None, (d.base + ea) & 0xffffffff};
}

} // namespace dbgkvm::emulate
