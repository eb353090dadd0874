// SPDX-License-Identifier: GPL-2.0
// A second decoder of the subset in decode.hpp, for fuzz_decode.cpp to compare against: written
// from the SDM Vol. 2 tables (2-1 to 2-4, chapter 3 opcode pages) as an opcode table plus the
// generic prefix / ModRM / SIB / displacement / immediate layout, without looking at how
// kmod/emulate/decode.cpp is structured. It follows the decoder's documented contract for
// the result kinds: bytes are taken one at a time, byte 16 is Invalid whatever `avail` is,
// a missing byte before that is NeedMoreBytes, and an opcode outside the subset is
// Unsupported as soon as it is known.

#ifndef DBGKVM_TESTS_FUZZ_DECODE_REFERENCE_HPP
#define DBGKVM_TESTS_FUZZ_DECODE_REFERENCE_HPP

#include <cstddef>
#include <cstdint>

#include "emulate/decode.hpp"

namespace dbgkvm::fuzz::ref
{

using emulate::CpuMode;
using emulate::DecodeResult;
using emulate::kNoReg;
using emulate::Op;
using emulate::Rep;
using emulate::Seg;

struct RefInsn {
	DecodeResult result;
	unsigned len; // bytes taken when the result was decided
	Op op;
	bool two_byte;
	uint8_t opsize, addrsize, mem_size;
	Seg seg;
	Rep rep;
	bool lock, opsize_prefix, addrsize_prefix;
	uint8_t rex;
	bool has_modrm, has_mem, has_sib, rip_relative;
	uint8_t modrm, mod, reg, rm, sib, base, index, scale;
	unsigned disp_size, imm_size;
	uint64_t disp, imm;
	bool shadow;
};

// How the bytes after the opcode are laid out.
enum class Layout : uint8_t {
	NotInSubset,
	Bare,	  // nothing follows the opcode
	ModRM,	  // ModRM [SIB] [disp]
	CtrlDbg,  // ModRM, always register form (MOV CR/DR: mod ignored)
	Imm8,	  // ib
	ModRMImm, // ModRM [SIB] [disp] then iz (C6/C7; only /0 is in the subset)
	Moffs,	  // an offset of the address size
};

struct OpcodeInfo {
	Layout layout;
	Op op;
};

// One-byte opcode map (SDM Vol. 2, table A-2), restricted to the subset.
inline OpcodeInfo one_byte(uint8_t b)
{
	if (b >= 0xd8 && b <= 0xdf)
		return {Layout::ModRM, Op::X87};
	switch (b) {
	case 0x88:
	case 0x89:
		return {Layout::ModRM, Op::MovRmReg};
	case 0x8a:
	case 0x8b:
		return {Layout::ModRM, Op::MovRegRm};
	case 0xc6:
	case 0xc7:
		return {Layout::ModRMImm, Op::MovRmImm};
	case 0xa0:
	case 0xa1:
		return {Layout::Moffs, Op::MovAccMoffs};
	case 0xa2:
	case 0xa3:
		return {Layout::Moffs, Op::MovMoffsAcc};
	case 0x63:
		return {Layout::ModRM, Op::Movsxd};
	case 0x8e:
		return {Layout::ModRM, Op::MovSreg};
	case 0x17:
		return {Layout::Bare, Op::PopSs};
	case 0xf4:
		return {Layout::Bare, Op::Hlt};
	case 0xcc:
		return {Layout::Bare, Op::Int3};
	case 0xf1:
		return {Layout::Bare, Op::Int1};
	case 0xcd:
		return {Layout::Imm8, Op::IntN};
	case 0x90:
		return {Layout::Bare, Op::Nop};
	case 0xfb:
		return {Layout::Bare, Op::Sti};
	case 0x9c:
		return {Layout::Bare, Op::Pushf};
	case 0x9d:
		return {Layout::Bare, Op::Popf};
	case 0xe4:
	case 0xe5:
		return {Layout::Imm8, Op::In};
	case 0xe6:
	case 0xe7:
		return {Layout::Imm8, Op::Out};
	case 0xec:
	case 0xed:
		return {Layout::Bare, Op::In};
	case 0xee:
	case 0xef:
		return {Layout::Bare, Op::Out};
	case 0x6c:
	case 0x6d:
		return {Layout::Bare, Op::Ins};
	case 0x6e:
	case 0x6f:
		return {Layout::Bare, Op::Outs};
	default:
		return {Layout::NotInSubset, Op::None};
	}
}

// Two-byte opcode map 0F xx (SDM Vol. 2, table A-3), restricted to the subset.
inline OpcodeInfo two_byte(uint8_t b)
{
	switch (b) {
	case 0x08:
		return {Layout::Bare, Op::Invd};
	case 0x09:
		return {Layout::Bare, Op::Wbinvd};
	case 0x0b:
		return {Layout::Bare, Op::Ud2};
	case 0x30:
		return {Layout::Bare, Op::Wrmsr};
	case 0x32:
		return {Layout::Bare, Op::Rdmsr};
	case 0xa2:
		return {Layout::Bare, Op::Cpuid};
	case 0x20:
		return {Layout::CtrlDbg, Op::MovFromCr};
	case 0x22:
		return {Layout::CtrlDbg, Op::MovToCr};
	case 0x21:
		return {Layout::CtrlDbg, Op::MovFromDr};
	case 0x23:
		return {Layout::CtrlDbg, Op::MovToDr};
	case 0xb6:
	case 0xb7:
		return {Layout::ModRM, Op::Movzx};
	case 0xbe:
	case 0xbf:
		return {Layout::ModRM, Op::Movsx};
	default:
		return {Layout::NotInSubset, Op::None};
	}
}

class Decoder
{
public:
	Decoder(const uint8_t *bytes, size_t avail, CpuMode mode)
	    : bytes_(bytes), avail_(avail), mode_(mode)
	{
	}

	RefInsn run()
	{
		r_ = RefInsn{};
		r_.seg = Seg::None;
		r_.rep = Rep::None;
		r_.base = kNoReg;
		r_.index = kNoReg;
		r_.scale = 1;
		r_.result = body();
		r_.len = static_cast<unsigned>(pos_);
		return r_;
	}

private:
	bool long64() const { return mode_ == CpuMode::Long64; }

	// SDM Vol. 2, 2.3.11: at most 15 bytes; byte 16 is #GP whether or not it is there.
	bool take(uint8_t *b)
	{
		if (pos_ == 15) {
			fail_ = DecodeResult::Invalid;
			return false;
		}
		if (pos_ >= avail_) {
			fail_ = DecodeResult::NeedMoreBytes;
			return false;
		}
		*b = bytes_[pos_++];
		return true;
	}
	bool take_le(unsigned n, uint64_t *v)
	{
		*v = 0;
		for (unsigned i = 0; i < n; i++) {
			uint8_t b;
			if (!take(&b))
				return false;
			*v |= static_cast<uint64_t>(b) << (8 * i);
		}
		return true;
	}

	DecodeResult body()
	{
		uint8_t b = 0;
		// Legacy prefixes (groups 1-4) in any order; REX (64-bit mode) only counts when
		// it is the last byte before the opcode.
		for (;;) {
			if (!take(&b))
				return fail_;
			bool legacy = true;
			switch (b) {
			case 0x26:
				seg_prefix(Seg::Es);
				break;
			case 0x2e:
				seg_prefix(Seg::Cs);
				break;
			case 0x36:
				seg_prefix(Seg::Ss);
				break;
			case 0x3e:
				seg_prefix(Seg::Ds);
				break;
			case 0x64:
				seg_prefix(Seg::Fs);
				break;
			case 0x65:
				seg_prefix(Seg::Gs);
				break;
			case 0x66:
				r_.opsize_prefix = true;
				break;
			case 0x67:
				r_.addrsize_prefix = true;
				break;
			case 0xf0:
				r_.lock = true;
				break;
			case 0xf2:
				r_.rep = Rep::Repne;
				break;
			case 0xf3:
				r_.rep = Rep::Rep;
				break;
			default:
				legacy = false;
				break;
			}
			if (legacy) {
				r_.rex = 0;
				continue;
			}
			if (long64() && b >= 0x40 && b <= 0x4f) {
				r_.rex = b;
				continue;
			}
			break;
		}

		// Table 2-4 and Vol. 1, 3.6.1: default sizes and the 66/67/REX.W overrides.
		const bool small = mode_ == CpuMode::Real || mode_ == CpuMode::Prot16;
		const bool rex_w = r_.rex & 8;
		r_.opsize = rex_w ? 8 : (small ^ r_.opsize_prefix) ? 2 : 4;
		if (long64())
			r_.addrsize = r_.addrsize_prefix ? 4 : 8;
		else
			r_.addrsize = (small ^ r_.addrsize_prefix) ? 2 : 4;

		OpcodeInfo info = one_byte(b);
		if (b == 0x0f) {
			r_.two_byte = true;
			if (!take(&b))
				return fail_;
			info = two_byte(b);
		}
		if (info.layout == Layout::NotInSubset)
			return DecodeResult::Unsupported;
		if (!r_.two_byte && b == 0x63 && !long64())
			return DecodeResult::Unsupported; // ARPL
		if (!r_.two_byte && b == 0x90 && (r_.rex & 1))
			return DecodeResult::Unsupported; // XCHG r8, rAX
		r_.op = info.op;
		sizes(b);

		switch (info.layout) {
		case Layout::ModRM:
			if (!modrm(false))
				return fail_;
			break;
		case Layout::CtrlDbg:
			if (!modrm(true))
				return fail_;
			break;
		case Layout::ModRMImm:
			if (!modrm(false))
				return fail_;
			if (((r_.modrm >> 3) & 7) != 0) {
				r_.op = Op::None;
				return DecodeResult::Unsupported; // C6/C7 /1-/7
			}
			if (!imm(r_.opsize == 1 ? 1 : r_.opsize == 2 ? 2 : 4))
				return fail_;
			break;
		case Layout::Imm8:
			if (!imm(1))
				return fail_;
			break;
		case Layout::Moffs:
			if (!take_le(r_.addrsize, &r_.disp))
				return fail_;
			r_.disp_size = r_.addrsize;
			r_.has_mem = true;
			r_.reg = 0; // the accumulator
			break;
		default:
			break;
		}
		return checks();
	}

	void seg_prefix(Seg s)
	{
		// 64-bit mode: ES, CS, SS and DS overrides are ignored (Vol. 1, 3.4.2.1).
		if (long64() && s != Seg::Fs && s != Seg::Gs)
			return;
		r_.seg = s;
	}

	// Operand and memory sizes of the opcode pages.
	void sizes(uint8_t b)
	{
		const bool byte_form = !(b & 1);
		switch (r_.op) {
		case Op::MovRmReg:
		case Op::MovRegRm:
		case Op::MovRmImm:
		case Op::MovAccMoffs:
		case Op::MovMoffsAcc:
			if (byte_form)
				r_.opsize = 1;
			r_.mem_size = r_.opsize;
			break;
		case Op::Movzx:
		case Op::Movsx:
			r_.mem_size = byte_form ? 1 : 2;
			break;
		case Op::Movsxd:
			r_.mem_size = r_.opsize == 2 ? 2 : 4;
			break;
		case Op::MovSreg:
			r_.opsize = 2;
			r_.mem_size = 2;
			break;
		case Op::MovFromCr:
		case Op::MovToCr:
		case Op::MovFromDr:
		case Op::MovToDr:
			r_.opsize = long64() ? 8 : 4;
			break;
		case Op::Pushf:
		case Op::Popf:
			if (long64())
				r_.opsize = (r_.opsize_prefix && !(r_.rex & 8)) ? 2 : 8;
			break;
		case Op::In:
		case Op::Out:
		case Op::Ins:
		case Op::Outs:
			r_.opsize = byte_form ? 1 : (r_.opsize == 8 ? 4 : r_.opsize);
			break;
		case Op::Nop:
			if (r_.rep == Rep::Rep)
				r_.op = Op::Pause;
			break;
		default:
			break;
		}
	}

	// Tables 2-1 (16-bit forms), 2-2 and 2-3 (32/64-bit forms with SIB), 2.2.1.
	bool modrm(bool always_register)
	{
		uint8_t m;
		if (!take(&m))
			return false;
		r_.has_modrm = true;
		r_.modrm = m;
		r_.mod = always_register ? 3 : m >> 6;
		const uint8_t rr = (r_.rex & 4) ? 8 : 0, xx = (r_.rex & 2) ? 8 : 0,
			      bb = (r_.rex & 1) ? 8 : 0;
		r_.reg = static_cast<uint8_t>(((m >> 3) & 7) + rr);
		r_.rm = static_cast<uint8_t>((m & 7) + bb);
		if (r_.mod == 3)
			return true;
		r_.has_mem = true;
		unsigned disp = 0;
		const unsigned rm = m & 7;
		if (r_.addrsize == 2) {
			static constexpr uint8_t kBase[8] = {3, 3, 5, 5, 6, 7, 5, 3};
			static constexpr uint8_t kIndex[8] = {6,      7,      6,      7,
							      kNoReg, kNoReg, kNoReg, kNoReg};
			r_.rm = static_cast<uint8_t>(rm);
			if (r_.mod == 0 && rm == 6) {
				disp = 2;
			} else {
				r_.base = kBase[rm];
				r_.index = kIndex[rm];
				disp = r_.mod; // 0, 1 or 2 bytes
			}
		} else {
			disp = r_.mod == 1 ? 1 : r_.mod == 2 ? 4 : 0;
			if (rm == 4) {
				uint8_t s;
				if (!take(&s))
					return false;
				r_.has_sib = true;
				r_.sib = s;
				r_.scale = static_cast<uint8_t>(1 << (s >> 6));
				const unsigned idx = ((s >> 3) & 7) + xx;
				if (idx != 4)
					r_.index = static_cast<uint8_t>(idx);
				if (r_.mod == 0 && (s & 7) == 5)
					disp = 4;
				else
					r_.base = static_cast<uint8_t>((s & 7) + bb);
			} else if (r_.mod == 0 && rm == 5) {
				disp = 4;
				r_.rip_relative = long64();
			} else {
				r_.base = r_.rm;
			}
		}
		if (disp) {
			uint64_t d;
			if (!take_le(disp, &d))
				return false;
			const unsigned sh = 64 - 8 * disp;
			r_.disp = static_cast<uint64_t>(static_cast<int64_t>(d << sh) >> sh);
			r_.disp_size = disp;
		}
		return true;
	}

	bool imm(unsigned n)
	{
		r_.imm_size = n;
		return take_le(n, &r_.imm);
	}

	// The #UD forms of the subset.
	DecodeResult checks()
	{
		switch (r_.op) {
		case Op::MovFromCr:
		case Op::MovToCr:
			// CR0, CR2, CR3, CR4 and CR8 exist (Vol. 2, MOV - Move to/from Control
			// Registers).
			if (r_.reg != 0 && r_.reg != 2 && r_.reg != 3 && r_.reg != 4 && r_.reg != 8)
				return DecodeResult::Undefined;
			return DecodeResult::Ok; // LOCK: AMD's CR8 form, the caller's business
		case Op::MovFromDr:
		case Op::MovToDr:
			if (r_.reg > 7)
				return DecodeResult::Undefined; // REX.R: "DR8-DR15"
			break;
		case Op::MovSreg: {
			const unsigned sreg = (r_.modrm >> 3) & 7;
			r_.reg = static_cast<uint8_t>(sreg); // REX.R does not apply to Sreg
			r_.shadow = sreg == 2;
			if (sreg == 1 || sreg > 5)
				return DecodeResult::Undefined; // MOV CS and the two unnamed ones
			break;
		}
		case Op::PopSs:
			r_.shadow = true;
			if (long64())
				return DecodeResult::Undefined;
			break;
		case Op::Sti:
			r_.shadow = true;
			break;
		default:
			break;
		}
		return r_.lock ? DecodeResult::Undefined : DecodeResult::Ok;
	}

	const uint8_t *bytes_;
	size_t avail_;
	CpuMode mode_;
	size_t pos_ = 0;
	DecodeResult fail_ = DecodeResult::Ok;
	RefInsn r_{};
};

inline RefInsn decode(const uint8_t *bytes, size_t avail, CpuMode mode)
{
	return Decoder(bytes, avail, mode).run();
}

} // namespace dbgkvm::fuzz::ref

#endif // DBGKVM_TESTS_FUZZ_DECODE_REFERENCE_HPP
