// SPDX-License-Identifier: GPL-2.0
//
// One-instruction decoder for the subset listed in decode.hpp.
// Intel SDM Vol. 2, chapter 2 "Instruction Format": prefixes (2.1.1), ModRM/SIB (2.1.5, tables
// 2-1 to 2-3), REX (2.2.1), 64-bit addressing (2.2.1.6 RIP-relative), length limit (2.3.11).

#include "decode.hpp"

namespace dbgkvm::emulate
{

namespace
{

// SDM Vol. 2, 2.3.11: an instruction longer than 15 bytes raises #GP(0).
constexpr size_t kMaxLen = 15;

using R = DecodeResult;

struct Cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;

	[[nodiscard]] R next(uint8_t *b)
	{
		if (pos >= kMaxLen)
			return R::Invalid;
		if (pos >= avail)
			return R::NeedMoreBytes;
		*b = bytes[pos++];
		return R::Ok;
	}

	// n little-endian bytes, zero-extended.
	[[nodiscard]] R take(unsigned n, uint64_t *v)
	{
		uint64_t r = 0;
		for (unsigned i = 0; i < n; i++) {
			uint8_t b;
			if (const R res = next(&b); res != R::Ok)
				return res;
			r |= uint64_t{b} << (8 * i);
		}
		*v = r;
		return R::Ok;
	}
};

constexpr bool rex_w(const Insn &in)
{
	return in.rex & 8;
}
constexpr uint8_t rex_r(const Insn &in)
{
	return (in.rex & 4) ? 8 : 0;
}
constexpr uint8_t rex_x(const Insn &in)
{
	return (in.rex & 2) ? 8 : 0;
}
constexpr uint8_t rex_b(const Insn &in)
{
	return (in.rex & 1) ? 8 : 0;
}

// 16-bit addressing forms, SDM Vol. 2, table 2-1: base and index register of each ModRM.rm.
struct Addr16 {
	uint8_t base;
	uint8_t index;
};
constexpr Addr16 kAddr16[8] = {
    {RBX, RSI},	   {RBX, RDI},	  {RBP, RSI},	 {RBP, RDI},
    {RSI, kNoReg}, {RDI, kNoReg}, {RBP, kNoReg}, {RBX, kNoReg},
};

// Reads ModRM and, for memory forms, SIB and displacement. With force_reg (MOV CR/DR, SDM Vol. 2
// "MOV - Move to/from Control/Debug Registers": "the 2 bits in the mod field are ignored") the
// operand is always a register and nothing follows the ModRM byte.
R decode_modrm(Cursor &c, Insn &in, bool force_reg)
{
	uint8_t m;
	if (const R r = c.next(&m); r != R::Ok)
		return r;
	in.has_modrm = true;
	in.modrm = m;
	in.mod = force_reg ? 3 : m >> 6;
	in.reg = static_cast<uint8_t>(((m >> 3) & 7) | rex_r(in));
	const uint8_t rm = m & 7;
	in.rm = static_cast<uint8_t>(rm | rex_b(in));
	if (in.mod == 3)
		return R::Ok;

	in.has_mem = true;
	unsigned disp = 0;
	if (in.addrsize == 2) {
		// Table 2-1. REX cannot occur: 16-bit addressing does not exist in 64-bit mode.
		in.rm = rm;
		if (in.mod == 0 && rm == 6) {
			disp = 2;
		} else {
			in.base = kAddr16[rm].base;
			in.index = kAddr16[rm].index;
			disp = in.mod == 1 ? 1 : in.mod == 2 ? 2 : 0;
		}
	} else {
		// Tables 2-2 and 2-3. rm = 100 means SIB and rm = 101 with mod = 00 means disp32
		// whatever REX.B says (so r12 needs a SIB and r13 a displacement), see 2.2.1.2.
		if (rm == 4) {
			uint8_t s;
			if (const R r = c.next(&s); r != R::Ok)
				return r;
			in.has_sib = true;
			in.sib = s;
			in.scale = static_cast<uint8_t>(1u << (s >> 6));
			const uint8_t idx = static_cast<uint8_t>(((s >> 3) & 7) | rex_x(in));
			in.index = idx == RSP ? kNoReg : idx; // index 100 without REX.X: none
			if ((s & 7) == 5 && in.mod == 0)
				disp = 4; // no base, disp32
			else
				in.base = static_cast<uint8_t>((s & 7) | rex_b(in));
		} else if (rm == 5 && in.mod == 0) {
			// 64-bit mode: RIP-relative (EIP-relative with 67), 2.2.1.6.
			in.rip_relative = in.mode == CpuMode::Long64;
			disp = 4;
		} else {
			in.base = in.rm;
		}
		if (in.mod == 1)
			disp = 1;
		else if (in.mod == 2)
			disp = 4;
	}
	if (disp) {
		uint64_t d;
		if (const R r = c.take(disp, &d); r != R::Ok)
			return r;
		in.disp_size = static_cast<uint8_t>(disp);
		in.disp = sign_extend(d, disp);
	}
	return R::Ok;
}

R decode_imm(Cursor &c, Insn &in, unsigned n)
{
	uint64_t v;
	if (const R r = c.take(n, &v); r != R::Ok)
		return r;
	in.imm_size = static_cast<uint8_t>(n);
	in.imm = v;
	return R::Ok;
}

// Two-byte opcodes 0F xx.
R decode_0f(Cursor &c, Insn &in)
{
	uint8_t b;
	if (const R r = c.next(&b); r != R::Ok)
		return r;
	in.two_byte = true;
	in.opcode = b;
	const bool lm = in.mode == CpuMode::Long64;
	switch (b) {
	case 0x08:
		in.op = Op::Invd;
		return R::Ok;
	case 0x09:
		in.op = Op::Wbinvd;
		return R::Ok;
	case 0x0b:
		in.op = Op::Ud2;
		return R::Ok;
	case 0x30:
		in.op = Op::Wrmsr;
		return R::Ok;
	case 0x32:
		in.op = Op::Rdmsr;
		return R::Ok;
	case 0xa2:
		in.op = Op::Cpuid;
		return R::Ok;
	case 0x20:
	case 0x22: {
		in.op = b == 0x20 ? Op::MovFromCr : Op::MovToCr;
		in.opsize = lm ? 8 : 4; // operand size prefixes and REX.W are ignored
		if (const R r = decode_modrm(c, in, true); r != R::Ok)
			return r;
		// CR1, CR5-CR7 and CR9-CR15 are reserved: #UD. CR8 needs REX.R (64-bit mode) or,
		// on AMD, the LOCK prefix: that form is reported with lock set and reg = 0.
		const unsigned cr = in.reg;
		if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
			return R::Undefined;
		return R::Ok;
	}
	case 0x21:
	case 0x23:
		in.op = b == 0x21 ? Op::MovFromDr : Op::MovToDr;
		in.opsize = lm ? 8 : 4;
		if (const R r = decode_modrm(c, in, true); r != R::Ok)
			return r;
		// REX.R would name DR8-DR15: #UD (SDM Vol. 2, MOV - Move to/from Debug Registers).
		// DR4/DR5 depend on CR4.DE and are left to the caller.
		return in.reg >= 8 ? R::Undefined : R::Ok;
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf:
		in.op = (b & 8) ? Op::Movsx : Op::Movzx;
		in.mem_size = (b & 1) ? 2 : 1;
		return decode_modrm(c, in, false);
	default:
		return R::Unsupported;
	}
}

R decode_one_byte(Cursor &c, Insn &in, uint8_t b)
{
	const bool lm = in.mode == CpuMode::Long64;
	// I/O operand size: REX.W does not make it 64-bit.
	const uint8_t io_size = in.opsize == 8 ? 4 : in.opsize;

	switch (b) {
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		in.op = (b & 2) ? Op::MovRegRm : Op::MovRmReg;
		if (!(b & 1))
			in.opsize = 1;
		in.mem_size = in.opsize;
		return decode_modrm(c, in, false);
	case 0xc6:
	case 0xc7: {
		if (!(b & 1))
			in.opsize = 1;
		in.mem_size = in.opsize;
		if (const R r = decode_modrm(c, in, false); r != R::Ok)
			return r;
		// Only /0 is MOV; C6 F8 / C7 F8 are XABORT / XBEGIN, the rest #UD. Not ours.
		if (((in.modrm >> 3) & 7) != 0)
			return R::Unsupported;
		in.op = Op::MovRmImm;
		return decode_imm(c, in, in.opsize > 4 ? 4 : in.opsize);
	}
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3: {
		// moffs: an offset of the address size, 8 bytes in 64-bit mode without 67.
		in.op = (b & 2) ? Op::MovMoffsAcc : Op::MovAccMoffs;
		if (!(b & 1))
			in.opsize = 1;
		in.mem_size = in.opsize;
		uint64_t off;
		if (const R r = c.take(in.addrsize, &off); r != R::Ok)
			return r;
		in.has_mem = true;
		in.disp = off;
		in.disp_size = in.addrsize;
		in.reg = RAX;
		return R::Ok;
	}
	case 0x63:
		// 32-bit modes: ARPL, not ours. 64-bit mode: MOVSXD with a 32-bit source, or a
		// 16-bit one with 66 (which then behaves as MOV).
		if (!lm)
			return R::Unsupported;
		in.op = Op::Movsxd;
		in.mem_size = in.opsize == 2 ? 2 : 4;
		return decode_modrm(c, in, false);
	case 0x8e:
		// MOV Sreg, r/m16. REX.R does not extend the segment register number.
		in.op = Op::MovSreg;
		in.opsize = 2;
		in.mem_size = 2;
		if (const R r = decode_modrm(c, in, false); r != R::Ok)
			return r;
		in.reg = (in.modrm >> 3) & 7;
		if (in.reg == static_cast<uint8_t>(Seg::Cs) ||
		    in.reg > static_cast<uint8_t>(Seg::Gs))
			return R::Undefined;
		in.shadow = in.reg == static_cast<uint8_t>(Seg::Ss);
		return R::Ok;
	case 0x17:
		in.op = Op::PopSs;
		in.shadow = true;
		return lm ? R::Undefined : R::Ok;
	case 0xf4:
		in.op = Op::Hlt;
		return R::Ok;
	case 0xcc:
		in.op = Op::Int3;
		return R::Ok;
	case 0xf1:
		in.op = Op::Int1;
		return R::Ok;
	case 0xcd:
		in.op = Op::IntN;
		return decode_imm(c, in, 1);
	case 0x90:
		// With REX.B this is XCHG r8, rAX.
		if (in.rex & 1)
			return R::Unsupported;
		in.op = in.rep == Rep::Rep ? Op::Pause : Op::Nop;
		return R::Ok;
	case 0xfb:
		in.op = Op::Sti;
		in.shadow = true;
		return R::Ok;
	case 0x9c:
	case 0x9d:
		in.op = b == 0x9c ? Op::Pushf : Op::Popf;
		// 64-bit mode: 64-bit by default, 16-bit with 66, never 32-bit.
		if (lm)
			in.opsize = (in.opsize_prefix && !rex_w(in)) ? 2 : 8;
		return R::Ok;
	case 0xe4:
	case 0xe5:
	case 0xe6:
	case 0xe7:
		in.op = (b & 2) ? Op::Out : Op::In;
		in.opsize = (b & 1) ? io_size : 1;
		return decode_imm(c, in, 1);
	case 0xec:
	case 0xed:
	case 0xee:
	case 0xef:
		in.op = (b & 2) ? Op::Out : Op::In;
		in.opsize = (b & 1) ? io_size : 1;
		return R::Ok;
	case 0x6c:
	case 0x6d:
	case 0x6e:
	case 0x6f:
		in.op = (b & 2) ? Op::Outs : Op::Ins;
		in.opsize = (b & 1) ? io_size : 1;
		return R::Ok;
	case 0xd8:
	case 0xd9:
	case 0xda:
	case 0xdb:
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		// x87 escapes: ModRM (+ SIB, displacement), never an immediate.
		in.op = Op::X87;
		return decode_modrm(c, in, false);
	case 0x0f:
		return decode_0f(c, in);
	default:
		return R::Unsupported;
	}
}

// Segment override prefixes in Seg order: 26 ES, 2E CS, 36 SS, 3E DS, 64 FS, 65 GS.
bool segment_prefix(uint8_t b, Seg *s)
{
	switch (b) {
	case 0x26:
		*s = Seg::Es;
		return true;
	case 0x2e:
		*s = Seg::Cs;
		return true;
	case 0x36:
		*s = Seg::Ss;
		return true;
	case 0x3e:
		*s = Seg::Ds;
		return true;
	case 0x64:
		*s = Seg::Fs;
		return true;
	case 0x65:
		*s = Seg::Gs;
		return true;
	default:
		return false;
	}
}

R decode_insn(Cursor &c, Insn &in)
{
	const CpuMode mode = in.mode;
	const bool lm = mode == CpuMode::Long64;
	uint8_t b;

	// Legacy prefixes in any order, then at most one REX immediately before the opcode
	// (SDM Vol. 2, 2.2.1: a REX followed by a legacy prefix is ignored; with several REX
	// bytes in a row the last one counts, as on hardware).
	for (;;) {
		if (const R r = c.next(&b); r != R::Ok)
			return r;
		Seg s;
		if (segment_prefix(b, &s)) {
			// 64-bit mode ignores ES, CS, SS and DS overrides (SDM Vol. 1, 3.4.2.1).
			if (!lm || s == Seg::Fs || s == Seg::Gs)
				in.seg = s;
		} else if (b == 0x66) {
			in.opsize_prefix = true;
		} else if (b == 0x67) {
			in.addrsize_prefix = true;
		} else if (b == 0xf0) {
			in.lock = true;
		} else if (b == 0xf2) {
			in.rep = Rep::Repne;
		} else if (b == 0xf3) {
			in.rep = Rep::Rep;
		} else if (lm && (b & 0xf0) == 0x40) {
			in.rex = b;
			continue;
		} else {
			break;
		}
		in.rex = 0;
	}
	in.opcode = b;

	// Operand and address sizes, SDM Vol. 1, 3.6 and Vol. 2, table 2-4.
	const bool def16 = mode == CpuMode::Real || mode == CpuMode::Prot16;
	in.opsize = (def16 != in.opsize_prefix) ? 2 : 4;
	if (rex_w(in))
		in.opsize = 8; // REX.W wins over 66
	if (lm)
		in.addrsize = in.addrsize_prefix ? 4 : 8;
	else
		in.addrsize = (def16 != in.addrsize_prefix) ? 2 : 4;

	const R r = decode_one_byte(c, in, b);
	if (r != R::Ok)
		return r;
	// LOCK on anything in the subset is #UD (Vol. 2, LOCK), except MOV CR where AMD reads
	// it as CR8 (CPUID 8000_0001h ECX.AltMovCr8) and Intel raises #UD: the caller decides.
	if (in.lock && in.op != Op::MovToCr && in.op != Op::MovFromCr)
		return R::Undefined;
	return R::Ok;
}

} // namespace

DecodeResult decode(const uint8_t *bytes, size_t avail, CpuMode mode, Insn *out)
{
	Insn in{};
	in.mode = mode;
	in.seg = Seg::None;
	in.rep = Rep::None;
	in.base = kNoReg;
	in.index = kNoReg;
	in.scale = 1;
	in.op = Op::None;
	Cursor c{bytes, avail, 0};
	const R r = decode_insn(c, in);
	in.len = static_cast<uint8_t>(c.pos);
	*out = in;
	return r;
}

uint64_t effective_address(const Insn &insn, const uint64_t gpr[16], uint64_t rip)
{
	uint64_t ea = insn.disp;
	if (insn.base != kNoReg)
		ea += gpr[insn.base];
	if (insn.index != kNoReg)
		ea += gpr[insn.index] * insn.scale;
	if (insn.rip_relative)
		ea += rip + insn.len;
	// Modular arithmetic: truncating the sum equals summing truncated terms.
	return ea & size_mask(insn.addrsize);
}

Seg effective_segment(const Insn &insn)
{
	if (insn.seg != Seg::None)
		return insn.seg;
	// SDM Vol. 1, 3.7.4 and Vol. 2, table 2-1: rBP and rSP bases default to SS (not r12/r13).
	if (insn.base == RBP || insn.base == RSP)
		return Seg::Ss;
	return Seg::Ds;
}

} // namespace dbgkvm::emulate
