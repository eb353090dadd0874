// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: the x86 decoder (kmod/emulate/decode.cpp) on arbitrary bytes, in every CPU
// mode. The input is the instruction bytes; each mode decodes a heap copy of exactly that size
// (ASan catches any read past `avail`). Checked on every input:
//   - the contract of decode(): len <= 15 and <= avail; Ok/Undefined are 1..15 bytes; Invalid
//     only when 15 bytes were there and a 16th was needed; NeedMoreBytes consumed everything;
//   - prefix stability: every truncation shorter than len is NeedMoreBytes, and decoding
//     exactly len bytes (or any longer prefix) gives the same result and the same Insn;
//   - agreement with an independent table-driven decoder (decode_reference.hpp): result kind,
//     length, op, sizes, prefixes, ModRM/SIB/displacement/immediate fields;
//   - structural invariants of Insn (register numbers, scales, sizes per mode, layout of the
//     bytes: prefixes, then opcode, ModRM, SIB, displacement, immediate adding up to len);
//   - its consumers: effective_address() within the address size, effective_segment(),
//     next_rip(), cr_number()/dr_number(), cpu_mode(), and the MMIO helpers (mmio.hpp)
//     writing only the destination register.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "decode_reference.hpp"
#include "emulate/decode.hpp"
#include "emulate/gpr.hpp"
#include "emulate/mmio.hpp"
#include "fuzz_util.hpp"

using namespace dbgkvm::emulate;
using dbgkvm::fuzz::ref::RefInsn;

namespace
{

constexpr CpuMode kModes[] = {CpuMode::Real, CpuMode::Prot16, CpuMode::Prot32, CpuMode::Long64};

// Decodes the first n bytes from a heap buffer of exactly n bytes.
DecodeResult decode_exact(const uint8_t *data, size_t n, CpuMode mode, Insn *out)
{
	const std::unique_ptr<uint8_t[]> buf(new uint8_t[n]);
	if (n)
		std::memcpy(buf.get(), data, n);
	return decode(buf.get(), n, mode, out);
}

bool same_insn(const Insn &a, const Insn &b)
{
	return a.op == b.op && a.mode == b.mode && a.len == b.len && a.opcode == b.opcode &&
	       a.two_byte == b.two_byte && a.opsize == b.opsize && a.addrsize == b.addrsize &&
	       a.seg == b.seg && a.rep == b.rep && a.lock == b.lock &&
	       a.opsize_prefix == b.opsize_prefix && a.addrsize_prefix == b.addrsize_prefix &&
	       a.rex == b.rex && a.has_modrm == b.has_modrm && a.modrm == b.modrm &&
	       a.mod == b.mod && a.reg == b.reg && a.rm == b.rm && a.has_mem == b.has_mem &&
	       a.has_sib == b.has_sib && a.rip_relative == b.rip_relative && a.sib == b.sib &&
	       a.base == b.base && a.index == b.index && a.scale == b.scale &&
	       a.disp_size == b.disp_size && a.mem_size == b.mem_size && a.disp == b.disp &&
	       a.imm_size == b.imm_size && a.imm == b.imm && a.shadow == b.shadow;
}

bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	default:
		return false;
	}
}

bool valid_gpr(uint8_t r)
{
	return r < 16;
}

void check_against_reference(const Insn &in, DecodeResult r, const RefInsn &ref)
{
	FUZZ_CHECK(r == ref.result);
	FUZZ_CHECK(in.len == ref.len);
	if (r != DecodeResult::Ok && r != DecodeResult::Undefined)
		return;
	FUZZ_CHECK(in.op == ref.op);
	FUZZ_CHECK(in.two_byte == ref.two_byte);
	FUZZ_CHECK(in.opsize == ref.opsize);
	FUZZ_CHECK(in.addrsize == ref.addrsize);
	FUZZ_CHECK(in.mem_size == ref.mem_size);
	FUZZ_CHECK(in.seg == ref.seg);
	FUZZ_CHECK(in.rep == ref.rep);
	FUZZ_CHECK(in.lock == ref.lock);
	FUZZ_CHECK(in.opsize_prefix == ref.opsize_prefix);
	FUZZ_CHECK(in.addrsize_prefix == ref.addrsize_prefix);
	FUZZ_CHECK(in.rex == ref.rex);
	FUZZ_CHECK(in.has_modrm == ref.has_modrm);
	FUZZ_CHECK(in.has_mem == ref.has_mem);
	FUZZ_CHECK(in.has_sib == ref.has_sib);
	FUZZ_CHECK(in.rip_relative == ref.rip_relative);
	FUZZ_CHECK(in.disp_size == ref.disp_size);
	FUZZ_CHECK(in.disp == ref.disp);
	FUZZ_CHECK(in.imm_size == ref.imm_size);
	FUZZ_CHECK(in.imm == ref.imm);
	FUZZ_CHECK(in.shadow == ref.shadow);
	if (in.has_modrm) {
		FUZZ_CHECK(in.modrm == ref.modrm);
		FUZZ_CHECK(in.mod == ref.mod);
		FUZZ_CHECK(in.reg == ref.reg);
		FUZZ_CHECK(in.rm == ref.rm);
	}
	if (in.has_mem) {
		FUZZ_CHECK(in.base == ref.base);
		FUZZ_CHECK(in.index == ref.index);
		FUZZ_CHECK(in.scale == ref.scale);
	}
	if (in.has_sib)
		FUZZ_CHECK(in.sib == ref.sib);
}

// What the bytes of a complete instruction must look like, whatever the opcode.
void check_layout(const uint8_t *bytes, const Insn &in)
{
	const unsigned tail =
	    (in.has_modrm ? 1u : 0u) + (in.has_sib ? 1u : 0u) + in.disp_size + in.imm_size;
	FUZZ_CHECK(in.len >= tail + 1u + (in.two_byte ? 1u : 0u));
	const unsigned op_at = in.len - tail - 1;
	FUZZ_CHECK(bytes[op_at] == in.opcode);
	unsigned prefixes = op_at;
	if (in.two_byte) {
		FUZZ_CHECK(bytes[op_at - 1] == 0x0f);
		prefixes--;
	}
	// Everything before the opcode is a prefix; the REX in effect is the byte just before.
	for (unsigned i = 0; i < prefixes; i++)
		FUZZ_CHECK(is_legacy_prefix(bytes[i]) ||
			   (in.mode == CpuMode::Long64 && (bytes[i] & 0xf0) == 0x40));
	if (in.rex)
		FUZZ_CHECK(prefixes > 0 && bytes[prefixes - 1] == in.rex);
	if (in.has_modrm)
		FUZZ_CHECK(bytes[op_at + 1] == in.modrm);
	if (in.has_sib)
		FUZZ_CHECK(bytes[op_at + 2] == in.sib);
	// The immediate is the last imm_size bytes, zero-extended.
	uint64_t imm = 0;
	for (unsigned i = 0; i < in.imm_size; i++)
		imm |= static_cast<uint64_t>(bytes[in.len - in.imm_size + i]) << (8 * i);
	FUZZ_CHECK(imm == in.imm);
}

void check_fields(const Insn &in, CpuMode mode)
{
	const bool lm = mode == CpuMode::Long64;
	FUZZ_CHECK(in.mode == mode);
	FUZZ_CHECK(in.op != Op::None);
	FUZZ_CHECK(in.opsize == 1 || in.opsize == 2 || in.opsize == 4 || in.opsize == 8);
	FUZZ_CHECK(in.opsize != 8 || lm);
	FUZZ_CHECK(lm ? (in.addrsize == 4 || in.addrsize == 8)
		      : (in.addrsize == 2 || in.addrsize == 4));
	FUZZ_CHECK(in.rex == 0 || (lm && (in.rex & 0xf0) == 0x40));
	if (lm)
		FUZZ_CHECK(in.seg == Seg::None || in.seg == Seg::Fs || in.seg == Seg::Gs);
	FUZZ_CHECK(static_cast<unsigned>(in.seg) <= static_cast<unsigned>(Seg::None));
	FUZZ_CHECK(in.scale == 1 || in.scale == 2 || in.scale == 4 || in.scale == 8);
	FUZZ_CHECK(in.imm_size == 0 || in.imm_size == 1 || in.imm_size == 2 || in.imm_size == 4);
	FUZZ_CHECK(in.imm_size == 8 || (in.imm >> (8 * in.imm_size)) == 0);
	if (in.has_modrm) {
		FUZZ_CHECK(valid_gpr(in.reg) && valid_gpr(in.rm));
		FUZZ_CHECK(in.mod <= 3);
		FUZZ_CHECK(in.has_mem == (in.mod != 3));
	} else {
		FUZZ_CHECK(!in.has_sib && !in.rip_relative);
	}
	FUZZ_CHECK(in.base == kNoReg || valid_gpr(in.base));
	FUZZ_CHECK(in.index == kNoReg || valid_gpr(in.index));
	FUZZ_CHECK(in.index != RSP); // SIB index 100 without REX.X is "none"
	if (in.has_sib)
		FUZZ_CHECK(in.has_mem && in.addrsize != 2);
	if (in.rip_relative)
		FUZZ_CHECK(lm && !in.has_sib && in.base == kNoReg && in.index == kNoReg &&
			   in.disp_size == 4);
	if (!in.has_mem)
		FUZZ_CHECK(in.disp_size == 0 && in.base == kNoReg && in.index == kNoReg);
	if (in.has_modrm && in.has_mem) {
		// ModRM displacements: 1, 2 (16-bit forms only) or 4 bytes, sign-extended.
		FUZZ_CHECK(in.disp_size == 0 || in.disp_size == 1 || in.disp_size == 4 ||
			   (in.disp_size == 2 && in.addrsize == 2));
		if (in.disp_size)
			FUZZ_CHECK(sign_extend(in.disp, in.disp_size) == in.disp);
	}
	if (!in.has_modrm && in.has_mem) {
		// moffs: the address size, zero-extended.
		FUZZ_CHECK(in.disp_size == in.addrsize);
		FUZZ_CHECK((in.disp & ~size_mask(in.addrsize)) == 0);
	}
	if (in.addrsize == 2 && in.has_mem)
		FUZZ_CHECK(in.base == kNoReg || in.base == RBX || in.base == RBP ||
			   in.base == RSI || in.base == RDI);
	FUZZ_CHECK(!in.shadow || in.op == Op::MovSreg || in.op == Op::PopSs || in.op == Op::Sti);
	FUZZ_CHECK(in.mem_size == 0 || in.mem_size == 1 || in.mem_size == 2 || in.mem_size == 4 ||
		   in.mem_size == 8);
}

void check_ok(const Insn &in)
{
	if (in.lock)
		FUZZ_CHECK(in.op == Op::MovToCr || in.op == Op::MovFromCr);
	switch (in.op) {
	case Op::MovFromCr:
	case Op::MovToCr: {
		const unsigned cr = cr_number(in);
		FUZZ_CHECK(cr == 0 || cr == 2 || cr == 3 || cr == 4 || cr == 8);
		FUZZ_CHECK(in.mod == 3 && !in.has_mem);
		FUZZ_CHECK(in.opsize == (in.mode == CpuMode::Long64 ? 8 : 4));
		break;
	}
	case Op::MovFromDr:
	case Op::MovToDr:
		FUZZ_CHECK(dr_number(in) < 8);
		FUZZ_CHECK(in.mod == 3 && !in.has_mem);
		break;
	case Op::MovSreg:
		FUZZ_CHECK(in.reg != static_cast<uint8_t>(Seg::Cs) &&
			   in.reg <= static_cast<uint8_t>(Seg::Gs));
		FUZZ_CHECK(in.shadow == (in.reg == static_cast<uint8_t>(Seg::Ss)));
		break;
	case Op::PopSs:
		FUZZ_CHECK(in.mode != CpuMode::Long64);
		break;
	case Op::Movsxd:
		FUZZ_CHECK(in.mode == CpuMode::Long64);
		break;
	default:
		break;
	}
}

// The functions that consume an Insn: no UB, results within their stated ranges.
void check_consumers(const Insn &in, const uint64_t gpr_in[16], uint64_t rip)
{
	const uint64_t ea = effective_address(in, gpr_in, rip);
	FUZZ_CHECK((ea & ~size_mask(in.addrsize)) == 0);
	const Seg s = effective_segment(in);
	FUZZ_CHECK(s != Seg::None);
	if (in.seg != Seg::None)
		FUZZ_CHECK(s == in.seg);
	else
		FUZZ_CHECK(s == ((in.base == RBP || in.base == RSP) ? Seg::Ss : Seg::Ds));
	const uint64_t next = next_rip(in, rip);
	if (in.mode == CpuMode::Long64)
		FUZZ_CHECK(next == rip + in.len);
	else
		FUZZ_CHECK(next == ((rip + in.len) & 0xffffffffu));

	const MemAccess a = mem_access(in);
	if (!a.valid)
		return;
	FUZZ_CHECK(in.has_mem);
	FUZZ_CHECK(a.size == in.mem_size);
	FUZZ_CHECK(a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8);
	if (a.is_write) {
		const uint64_t v = store_value(in, gpr_in);
		FUZZ_CHECK((v & ~size_mask(a.size)) == 0);
		return;
	}
	// A load writes the destination register only (AH..BH live in registers 0-3).
	FUZZ_CHECK(valid_gpr(a.reg));
	uint64_t gpr[16];
	std::memcpy(gpr, gpr_in, sizeof(gpr));
	const uint64_t data = gpr_in[15] ^ 0x8081828384858687ull;
	complete_load(in, gpr, data);
	const bool high = is_high_byte(a.reg, in.opsize, in.rex != 0);
	const unsigned dst = high ? a.reg - 4u : a.reg;
	for (unsigned i = 0; i < 16; i++)
		if (i != dst)
			FUZZ_CHECK(gpr[i] == gpr_in[i]);
	// 32-bit writes zero bits 63:32; 8/16-bit writes keep the rest (Vol. 1, 3.4.1.1).
	const uint64_t kept = high ? ~uint64_t{0xff00} : ~size_mask(in.opsize);
	if (in.opsize >= 4)
		FUZZ_CHECK((gpr[dst] & kept) == 0);
	else
		FUZZ_CHECK((gpr[dst] & kept) == (gpr_in[dst] & kept));
	const uint64_t loaded = data & size_mask(a.size);
	const uint64_t want = (in.op == Op::Movsx || in.op == Op::Movsxd)
				  ? sign_extend(loaded, a.size) & size_mask(in.opsize)
				  : loaded & size_mask(in.opsize);
	FUZZ_CHECK(read_gpr(gpr, a.reg, in.opsize, in.rex != 0) == want);
}

void check_mode(const uint8_t *data, size_t size, CpuMode mode, const uint64_t gpr[16],
		uint64_t rip)
{
	Insn in;
	const DecodeResult r = decode_exact(data, size, mode, &in);
	FUZZ_CHECK(in.len <= 15);
	FUZZ_CHECK(in.len <= size);
	FUZZ_CHECK(in.mode == mode);
	check_against_reference(in, r, dbgkvm::fuzz::ref::decode(data, size, mode));

	switch (r) {
	case DecodeResult::NeedMoreBytes:
		FUZZ_CHECK(in.len == size && size < 15);
		return;
	case DecodeResult::Invalid:
		FUZZ_CHECK(in.len == 15 && size >= 15);
		break;
	case DecodeResult::Ok:
	case DecodeResult::Undefined:
		FUZZ_CHECK(in.len >= 1);
		check_layout(data, in);
		check_fields(in, mode);
		if (r == DecodeResult::Ok)
			check_ok(in);
		check_consumers(in, gpr, rip);
		break;
	case DecodeResult::Unsupported:
		FUZZ_CHECK(in.len >= 1);
		break;
	default:
		FUZZ_CHECK(!"unknown DecodeResult");
	}

	// Prefix stability: fewer bytes than len are never enough, exactly len (or any longer
	// prefix of the input) gives the same answer.
	for (size_t n = 0; n < in.len; n++) {
		Insn shorter;
		FUZZ_CHECK(decode_exact(data, n, mode, &shorter) == DecodeResult::NeedMoreBytes);
		FUZZ_CHECK(shorter.len == n);
	}
	for (size_t n = in.len; n <= size && n <= in.len + 1u; n++) {
		Insn again;
		FUZZ_CHECK(decode_exact(data, n, mode, &again) == r);
		FUZZ_CHECK(same_insn(again, in));
	}
}

uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64)
		return -1; // an instruction is at most 15 bytes: longer inputs add nothing
	uint64_t h = size;
	for (size_t i = 0; i < size; i++)
		h = mix(h ^ data[i]);
	uint64_t gpr[16];
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = mix(h + i);
	const uint64_t rip = mix(h + 16);

	for (const CpuMode mode : kModes)
		check_mode(data, size, mode, gpr, rip);

	// cpu_mode(): SDM Vol. 3, 3.4.5 / 5.2.1 (v8086 and real mode run 16-bit code).
	const uint8_t bits = size ? data[0] : 0;
	const bool pe = bits & 1, vm86 = bits & 2, lma = bits & 4, cs_l = bits & 8,
		   cs_d = bits & 16;
	const CpuMode m = cpu_mode(pe, vm86, lma, cs_l, cs_d);
	if (!pe || vm86)
		FUZZ_CHECK(m == CpuMode::Real);
	else if (lma && cs_l)
		FUZZ_CHECK(m == CpuMode::Long64);
	else
		FUZZ_CHECK(m == (cs_d ? CpuMode::Prot32 : CpuMode::Prot16));
	return 0;
}
