// SPDX-License-Identifier: GPL-2.0
//
// Decoder rules: prefixes, REX, ModRM/SIB forms, size toggles, the 15-byte limit, #UD encodings
// and the subset boundary. Assembly in comments is Intel syntax.

#include <gtest/gtest.h>

#include "emulate/decode.hpp"
#include "emulate_test_util.hpp"

namespace dbgkvm::emulate
{
namespace
{

using test::dec;
using R = DecodeResult;
constexpr auto L = CpuMode::Long64;
constexpr auto P32 = CpuMode::Prot32;
constexpr auto P16 = CpuMode::Prot16;
constexpr auto RM = CpuMode::Real;

// --- cpu_mode

struct ModeRow {
	bool pe, vm86, lma, cs_l, cs_d;
	CpuMode want;
};

class CpuModeTest : public ::testing::TestWithParam<ModeRow>
{
};

TEST_P(CpuModeTest, FromControlState)
{
	const ModeRow &r = GetParam();
	EXPECT_EQ(cpu_mode(r.pe, r.vm86, r.lma, r.cs_l, r.cs_d), r.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CpuModeTest,
    ::testing::Values(ModeRow{false, false, false, false, false, CpuMode::Real},
		      ModeRow{false, false, false, false, true, CpuMode::Real},
		      ModeRow{true, true, false, false, true, CpuMode::Real},
		      ModeRow{true, false, false, false, false, CpuMode::Prot16},
		      ModeRow{true, false, false, false, true, CpuMode::Prot32},
		      ModeRow{true, false, false, true, false, CpuMode::Prot16}, // L without LMA
		      ModeRow{true, false, true, false, false, CpuMode::Prot16}, // compat 16
		      ModeRow{true, false, true, false, true, CpuMode::Prot32},	 // compat 32
		      ModeRow{true, false, true, true, false, CpuMode::Long64},
		      ModeRow{true, false, true, true, true, CpuMode::Long64}));

static_assert(cpu_mode(true, false, true, true, false) == CpuMode::Long64);

// --- ModRM / SIB / displacement

TEST(Modrm, RexExtendsRegRmBaseIndex)
{
	// mov [r8 + r9*8], r10  (4f 89 14 c8 : REX.WRXB)
	const auto d = dec(L, {0x4f, 0x89, 0x14, 0xc8});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.reg, R10);
	EXPECT_TRUE(d.insn.has_sib);
	EXPECT_EQ(d.insn.base, R8);
	EXPECT_EQ(d.insn.index, R9);
	EXPECT_EQ(d.insn.scale, 8);
	EXPECT_EQ(d.insn.opsize, 8);
	EXPECT_EQ(d.insn.rex, 0x4f);
}

TEST(Modrm, R12BaseNeedsSibR13BaseNeedsDisp)
{
	// mov [r12], eax: 41 89 04 24
	auto d = dec(L, {0x41, 0x89, 0x04, 0x24});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 4);
	EXPECT_EQ(d.insn.base, R12);
	EXPECT_EQ(d.insn.index, kNoReg);
	// mov [r13+0], eax: 41 89 45 00 (mod=01)
	d = dec(L, {0x41, 0x89, 0x45, 0x00});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 4);
	EXPECT_EQ(d.insn.base, R13);
	// 41 89 05 disp32: mod=00 rm=101 is RIP-relative even with REX.B
	d = dec(L, {0x41, 0x89, 0x05, 1, 0, 0, 0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_TRUE(d.insn.rip_relative);
	EXPECT_EQ(d.insn.base, kNoReg);
	EXPECT_EQ(d.insn.len, 7);
	// SIB base=101 mod=00 with REX.B: still "no base, disp32"
	d = dec(L, {0x41, 0x89, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.base, kNoReg);
	EXPECT_EQ(d.insn.index, kNoReg);
	EXPECT_EQ(d.insn.disp, 0x12345678u);
	EXPECT_EQ(d.insn.len, 8);
}

TEST(Modrm, SibIndex100IsNoneUnlessRexX)
{
	// mov [rax + riz], ecx: 89 0c 20 -> no index
	auto d = dec(L, {0x89, 0x0c, 0x20});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.index, kNoReg);
	EXPECT_EQ(d.insn.base, RAX);
	// with REX.X: index r12
	d = dec(L, {0x42, 0x89, 0x0c, 0x20});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.index, R12);
}

TEST(Modrm, DisplacementsAreSignExtended)
{
	// mov ecx, [rbx-0x80]: 8b 4b 80
	auto d = dec(L, {0x8b, 0x4b, 0x80});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.disp, ~uint64_t{0} - 0x7f);
	EXPECT_EQ(d.insn.disp_size, 1);
	// mov ecx, [rbx-0x10000000]: 8b 8b 00 00 00 f0
	d = dec(L, {0x8b, 0x8b, 0x00, 0x00, 0x00, 0xf0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.disp, 0xfffffffff0000000u);
	// 16-bit: mov cx, [bx-2]: 8b 4f fe
	d = dec(P16, {0x8b, 0x4f, 0xfe});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.disp, ~uint64_t{0} - 1);
}

struct Addr16Row {
	uint8_t modrm;
	uint8_t base, index;
	uint8_t len;
};

class Addr16Test : public ::testing::TestWithParam<Addr16Row>
{
};

// SDM Vol. 2, table 2-1, with mov [..], ax (89 /r) in 16-bit code.
TEST_P(Addr16Test, Table2_1)
{
	const Addr16Row &r = GetParam();
	const auto d = dec(RM, {0x89, r.modrm, 0x11, 0x22});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.base, r.base);
	EXPECT_EQ(d.insn.index, r.index);
	EXPECT_EQ(d.insn.len, r.len);
	EXPECT_EQ(d.insn.addrsize, 2);
	EXPECT_FALSE(d.insn.has_sib);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, Addr16Test,
    ::testing::Values(Addr16Row{0x00, RBX, RSI, 2}, Addr16Row{0x01, RBX, RDI, 2},
		      Addr16Row{0x02, RBP, RSI, 2}, Addr16Row{0x03, RBP, RDI, 2},
		      Addr16Row{0x04, RSI, kNoReg, 2}, Addr16Row{0x05, RDI, kNoReg, 2},
		      Addr16Row{0x06, kNoReg, kNoReg, 4},				// disp16
		      Addr16Row{0x07, RBX, kNoReg, 2}, Addr16Row{0x46, RBP, kNoReg, 3}, // [bp+d8]
		      Addr16Row{0x84, RSI, kNoReg, 4},					// [si+d16]
		      Addr16Row{0xc0, kNoReg, kNoReg, 2}));				// register

// --- 67: the address size changes the ModRM forms in every mode

TEST(AddressSize, Prefix67InProt16SelectsSib)
{
	// 89 04 24: 16-bit [si] then a stray 24; with 67: [esp] with SIB
	auto d = dec(P16, {0x89, 0x04, 0x24});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 2);
	EXPECT_EQ(d.insn.base, RSI);
	d = dec(P16, {0x67, 0x89, 0x04, 0x24});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 4);
	EXPECT_EQ(d.insn.addrsize, 4);
	EXPECT_EQ(d.insn.base, RSP);
	EXPECT_TRUE(d.insn.has_sib);
}

TEST(AddressSize, Prefix67InRealSelectsDisp32)
{
	// 89 06 disp16 vs 67 89 05 disp32
	auto d = dec(RM, {0x89, 0x06, 0x34, 0x12});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 4);
	EXPECT_EQ(d.insn.disp, 0x1234u);
	d = dec(RM, {0x67, 0x89, 0x05, 0x78, 0x56, 0x34, 0x12});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 7);
	EXPECT_EQ(d.insn.disp, 0x12345678u);
	EXPECT_FALSE(d.insn.rip_relative);
}

TEST(AddressSize, Prefix67InProt32Selects16BitForms)
{
	// 89 06: [esi]; 67 89 06 34 12: [0x1234]
	auto d = dec(P32, {0x89, 0x06});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 2);
	EXPECT_EQ(d.insn.base, RSI);
	d = dec(P32, {0x67, 0x89, 0x06, 0x34, 0x12});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 5);
	EXPECT_EQ(d.insn.addrsize, 2);
	EXPECT_EQ(d.insn.base, kNoReg);
	EXPECT_EQ(d.insn.disp, 0x1234u);
	// 32-bit code, mod=00 rm=101 is an absolute disp32, never RIP-relative
	d = dec(P32, {0x89, 0x05, 1, 2, 3, 4});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_FALSE(d.insn.rip_relative);
}

TEST(AddressSize, Prefix67InLong64KeepsRipRelativeAt32Bits)
{
	auto d = dec(L, {0x89, 0x05, 1, 0, 0, 0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.addrsize, 8);
	EXPECT_TRUE(d.insn.rip_relative);
	d = dec(L, {0x67, 0x89, 0x05, 1, 0, 0, 0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.addrsize, 4);
	EXPECT_TRUE(d.insn.rip_relative);
	EXPECT_EQ(d.insn.len, 7);
}

TEST(AddressSize, MoffsWidthFollowsAddressSize)
{
	struct {
		CpuMode mode;
		bool p67;
		uint8_t width;
	} rows[] = {{RM, false, 2},  {RM, true, 4},  {P16, false, 2}, {P16, true, 4},
		    {P32, false, 4}, {P32, true, 2}, {L, false, 8},   {L, true, 4}};
	for (const auto &r : rows) {
		std::vector<uint8_t> v;
		if (r.p67)
			v.push_back(0x67);
		v.push_back(0xa1);
		for (int i = 0; i < 8; i++)
			v.push_back(static_cast<uint8_t>(0x11 * (i + 1)));
		const auto d = test::dec(r.mode, v);
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.disp_size, r.width);
		EXPECT_EQ(d.insn.len, (r.p67 ? 2 : 1) + r.width);
		EXPECT_EQ(d.insn.disp, 0x8877665544332211u & size_mask(r.width));
		EXPECT_TRUE(d.insn.has_mem);
	}
}

// --- 66: operand size toggle, REX.W precedence

TEST(OperandSize, Prefix66TogglesInEveryMode)
{
	struct {
		CpuMode mode;
		uint8_t plain, with66;
	} rows[] = {{RM, 2, 4}, {P16, 2, 4}, {P32, 4, 2}, {L, 4, 2}};
	for (const auto &r : rows) {
		auto d = dec(r.mode, {0x8b, 0x07});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.opsize, r.plain);
		EXPECT_EQ(d.insn.mem_size, r.plain);
		d = dec(r.mode, {0x66, 0x8b, 0x07});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.opsize, r.with66);
		EXPECT_TRUE(d.insn.opsize_prefix);
		// the immediate of C7 follows the operand size
		d = dec(r.mode, {0x66, 0xc7, 0x07, 1, 2, 3, 4});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.imm_size, r.with66);
		EXPECT_EQ(d.insn.len, 3 + r.with66);
	}
}

TEST(OperandSize, RexWOverrides66)
{
	const auto d = dec(L, {0x66, 0x48, 0xc7, 0x03, 1, 2, 3, 4});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.opsize, 8);
	EXPECT_EQ(d.insn.imm_size, 4);
	EXPECT_EQ(d.insn.len, 8);
}

TEST(OperandSize, DoubledPrefixesDoNotToggleBack)
{
	const auto d = dec(P32, {0x66, 0x66, 0x8b, 0x07});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.opsize, 2);
	EXPECT_EQ(d.insn.len, 4);
}

// --- REX placement

TEST(Rex, IgnoredWhenFollowedByLegacyPrefix)
{
	// 48 66 89 03: REX.W is not last, so it is ignored and 66 gives a 16-bit store
	auto d = dec(L, {0x48, 0x66, 0x89, 0x03});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.rex, 0);
	EXPECT_EQ(d.insn.opsize, 2);
	EXPECT_EQ(d.insn.len, 4);
	// 41 2e 89 03: REX.B ignored, base is rbx
	d = dec(L, {0x41, 0x3e, 0x89, 0x03});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.base, RBX);
	// 44 f3 88 23 (REX.R then a prefix): reg is AH again, not r12b
	d = dec(L, {0x44, 0xf3, 0x88, 0x23});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.reg, 4);
	EXPECT_EQ(d.insn.rex, 0);
}

TEST(Rex, LastOfSeveralCounts)
{
	const auto d = dec(L, {0x48, 0x41, 0x89, 0x03});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.rex, 0x41);
	EXPECT_EQ(d.insn.opsize, 4);
	EXPECT_EQ(d.insn.base, R11);
	EXPECT_EQ(d.insn.len, 4);
}

TEST(Rex, IsIncDecOutside64BitMode)
{
	// 0x40-0x4F are INC/DEC outside 64-bit mode: not in the subset
	EXPECT_EQ(dec(P32, {0x48, 0x89, 0x03}).result, R::Unsupported);
	EXPECT_EQ(dec(RM, {0x41, 0x90}).result, R::Unsupported);
}

TEST(Rex, Rex40SelectsUniformByteRegisters)
{
	// 88 23: mov [rbx], ah; 40 88 23: mov [rbx], spl
	auto d = dec(L, {0x88, 0x23});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.reg, 4);
	EXPECT_EQ(d.insn.rex, 0);
	d = dec(L, {0x40, 0x88, 0x23});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.reg, 4);
	EXPECT_EQ(d.insn.rex, 0x40);
}

// --- Segment overrides and REP

TEST(Prefix, SegmentOverrides)
{
	const uint8_t pfx[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
	const Seg seg[] = {Seg::Es, Seg::Cs, Seg::Ss, Seg::Ds, Seg::Fs, Seg::Gs};
	for (int i = 0; i < 6; i++) {
		auto d = dec(P32, {pfx[i], 0x8b, 0x03});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.seg, seg[i]);
		EXPECT_EQ(effective_segment(d.insn), seg[i]);
		// 64-bit mode honours only FS and GS
		d = dec(L, {pfx[i], 0x8b, 0x03});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.seg, i >= 4 ? seg[i] : Seg::None);
		EXPECT_EQ(d.insn.len, 3);
	}
	// the last override wins
	const auto d = dec(P32, {0x64, 0x26, 0x8b, 0x03});
	EXPECT_EQ(d.insn.seg, Seg::Es);
	// a null override after FS in 64-bit mode does not cancel it
	const auto d64 = dec(L, {0x64, 0x26, 0x8b, 0x03});
	EXPECT_EQ(d64.insn.seg, Seg::Fs);
}

TEST(Prefix, DefaultSegmentIsSsForStackBases)
{
	EXPECT_EQ(effective_segment(dec(P32, {0x8b, 0x04, 0x24}).insn), Seg::Ss);     // [esp]
	EXPECT_EQ(effective_segment(dec(P32, {0x8b, 0x45, 0x08}).insn), Seg::Ss);     // [ebp+8]
	EXPECT_EQ(effective_segment(dec(P32, {0x8b, 0x03}).insn), Seg::Ds);	      // [ebx]
	EXPECT_EQ(effective_segment(dec(P32, {0x8b, 0x04, 0x68}).insn), Seg::Ds);     // [eax+ebp*2]
	EXPECT_EQ(effective_segment(dec(RM, {0x8b, 0x02}).insn), Seg::Ss);	      // [bp+si]
	EXPECT_EQ(effective_segment(dec(RM, {0x8b, 0x06, 0, 0}).insn), Seg::Ds);      // [disp16]
	EXPECT_EQ(effective_segment(dec(L, {0x41, 0x8b, 0x45, 0x00}).insn), Seg::Ds); // [r13]
	EXPECT_EQ(effective_segment(dec(L, {0x41, 0x8b, 0x04, 0x24}).insn), Seg::Ds); // [r12]
	EXPECT_EQ(effective_segment(dec(P32, {0x3e, 0x8b, 0x45, 0x08}).insn), Seg::Ds);
}

TEST(Prefix, RepKinds)
{
	EXPECT_EQ(dec(P32, {0xf3, 0x6c}).insn.rep, Rep::Rep);
	EXPECT_EQ(dec(P32, {0xf2, 0x6c}).insn.rep, Rep::Repne);
	EXPECT_EQ(dec(P32, {0xf2, 0xf3, 0x6c}).insn.rep, Rep::Rep);
	EXPECT_EQ(dec(P32, {0x6c}).insn.rep, Rep::None);
}

// --- 15-byte limit (SDM Vol. 2, 2.3.11)

TEST(Length, FifteenBytesOkSixteenInvalid)
{
	// 14 prefixes + hlt = 15 bytes
	std::vector<uint8_t> v(14, 0x66);
	v.push_back(0xf4);
	auto d = test::dec(P32, v);
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 15);
	// 15 prefixes + hlt: the 16th byte is never fetched
	v.assign(15, 0x66);
	v.push_back(0xf4);
	EXPECT_EQ(test::dec(P32, v).result, R::Invalid);
	// even when only 15 bytes are available
	EXPECT_EQ(decode(v.data(), 15, P32, &d.insn), R::Invalid);
	// but 14 available is just short
	EXPECT_EQ(decode(v.data(), 14, P32, &d.insn), R::NeedMoreBytes);
}

TEST(Length, LimitCountsOperandBytes)
{
	// 48 c7 84 88 disp32 imm32 = 12 bytes; 3 prefixes make 15, 4 make 16
	const std::vector<uint8_t> body = {0x48, 0xc7, 0x84, 0x88, 1, 2, 3, 4, 5, 6, 7, 8};
	std::vector<uint8_t> v = {0x64, 0x67, 0xf3};
	v.insert(v.end(), body.begin(), body.end());
	auto d = test::dec(L, v);
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.len, 15);
	v.insert(v.begin(), 0x66);
	EXPECT_EQ(test::dec(L, v).result, R::Invalid);
	// the same through the moffs form: 67 is needed to keep it in range
	v = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8};
	EXPECT_EQ(test::dec(L, v).result, R::Invalid);
	v.erase(v.begin());
	EXPECT_EQ(test::dec(L, v).result, R::Ok);
}

TEST(Length, EmptyInputNeedsMoreBytes)
{
	Insn in;
	const uint8_t b[1] = {0xf4};
	EXPECT_EQ(decode(b, 0, L, &in), R::NeedMoreBytes);
	EXPECT_EQ(dec(L, {0x66, 0x67, 0xf3}).result, R::NeedMoreBytes);
	EXPECT_EQ(dec(L, {0x48}).result, R::NeedMoreBytes);
	EXPECT_EQ(dec(L, {0x0f}).result, R::NeedMoreBytes);
}

// --- MOV DR / MOV CR

TEST(MovDr, ModIsIgnored)
{
	// 0f 21 05: mod=00 rm=101 would be RIP-relative for other opcodes: here it is rbp
	for (uint8_t mod = 0; mod < 4; mod++) {
		const uint8_t modrm = static_cast<uint8_t>((mod << 6) | (7 << 3) | 5);
		auto d = dec(L, {0x0f, 0x21, modrm, 0xaa, 0xbb, 0xcc, 0xdd});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.len, 3);
		EXPECT_EQ(d.insn.mod, 3);
		EXPECT_EQ(dr_number(d.insn), 7u);
		EXPECT_EQ(d.insn.rm, RBP);
		EXPECT_FALSE(d.insn.has_mem);
		d = dec(RM, {0x0f, 0x23, static_cast<uint8_t>((mod << 6) | 4)});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(d.insn.len, 3);
		EXPECT_EQ(d.insn.rm, RSP);
		EXPECT_EQ(d.insn.opsize, 4);
	}
}

TEST(MovDr, RexBExtendsGprRexRIsUndefined)
{
	auto d = dec(L, {0x41, 0x0f, 0x23, 0xfb}); // mov dr7, r11
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.rm, R11);
	EXPECT_EQ(dr_number(d.insn), 7u);
	EXPECT_EQ(d.insn.op, Op::MovToDr);
	// 44 0f 21 c0: DR8 -> #UD, still reported
	d = dec(L, {0x44, 0x0f, 0x21, 0xc0});
	EXPECT_EQ(d.result, R::Undefined);
	EXPECT_EQ(d.insn.op, Op::MovFromDr);
	EXPECT_EQ(dr_number(d.insn), 8u);
	EXPECT_EQ(d.insn.len, 4);
	// REX.W is meaningless: still 64-bit
	d = dec(L, {0x48, 0x0f, 0x21, 0xf0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.opsize, 8);
	// 66 does not make it 16-bit
	d = dec(P32, {0x66, 0x0f, 0x21, 0xf0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.opsize, 4);
}

TEST(MovDr, AllEightNumbersDecode)
{
	for (uint8_t n = 0; n < 8; n++) {
		const auto d = dec(P32, {0x0f, 0x21, static_cast<uint8_t>(0xc0 | (n << 3) | 1)});
		ASSERT_EQ(d.result, R::Ok);
		EXPECT_EQ(dr_number(d.insn), n);
		EXPECT_EQ(d.insn.rm, RCX);
	}
}

TEST(MovCr, ReservedNumbersAreUndefined)
{
	for (uint8_t n = 0; n < 8; n++) {
		const auto d = dec(P32, {0x0f, 0x22, static_cast<uint8_t>(0xc0 | (n << 3))});
		const bool valid = n == 0 || n == 2 || n == 3 || n == 4;
		EXPECT_EQ(d.result, valid ? R::Ok : R::Undefined) << "cr" << int{n};
		EXPECT_EQ(cr_number(d.insn), n);
	}
	EXPECT_EQ(dec(L, {0x44, 0x0f, 0x22, 0xc0}).result, R::Ok);	  // cr8
	EXPECT_EQ(dec(L, {0x44, 0x0f, 0x22, 0xc8}).result, R::Undefined); // cr9
}

TEST(MovCr, LockIsReportedForAmdCr8)
{
	// f0 0f 20 c0: AMD's "mov eax, cr8" in 32-bit code
	const auto d = dec(P32, {0xf0, 0x0f, 0x20, 0xc0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_TRUE(d.insn.lock);
	EXPECT_EQ(d.insn.op, Op::MovFromCr);
	EXPECT_EQ(d.insn.len, 4);
}

// --- Interrupt shadows and #UD forms

TEST(Shadow, MovSsPopSsSti)
{
	EXPECT_TRUE(dec(P32, {0x8e, 0xd0}).insn.shadow);	     // mov ss, ax
	EXPECT_FALSE(dec(P32, {0x8e, 0xd8}).insn.shadow);	     // mov ds, ax
	EXPECT_TRUE(dec(P32, {0x8e, 0x15, 1, 2, 3, 4}).insn.shadow); // mov ss, [abs]
	EXPECT_TRUE(dec(P32, {0x17}).insn.shadow);
	EXPECT_TRUE(dec(L, {0xfb}).insn.shadow);
	EXPECT_FALSE(dec(L, {0xf4}).insn.shadow);
	// REX.R does not turn mov ds into something else
	const auto d = dec(L, {0x44, 0x8e, 0xd0});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.reg, static_cast<uint8_t>(Seg::Ss));
	EXPECT_TRUE(d.insn.shadow);
}

TEST(Undefined, Encodings)
{
	EXPECT_EQ(dec(L, {0x17}).result, R::Undefined);		      // pop ss in 64-bit mode
	EXPECT_EQ(dec(P32, {0x8e, 0xc8}).result, R::Undefined);	      // mov cs, ax
	EXPECT_EQ(dec(P32, {0x8e, 0xf0}).result, R::Undefined);	      // sreg 6
	EXPECT_EQ(dec(P32, {0x8e, 0xf8}).result, R::Undefined);	      // sreg 7
	EXPECT_EQ(dec(P32, {0xf0, 0xf4}).result, R::Undefined);	      // lock hlt
	EXPECT_EQ(dec(P32, {0xf0, 0x89, 0x03}).result, R::Undefined); // lock mov
	EXPECT_EQ(dec(L, {0xf0, 0x0f, 0xa2}).result, R::Undefined);   // lock cpuid
	EXPECT_EQ(dec(L, {0xf0, 0x0f, 0x23, 0xc0}).result, R::Undefined);
	// the instruction is still reported with its length
	const auto d = dec(L, {0xf0, 0xc7, 0x03, 1, 2, 3, 4});
	EXPECT_EQ(d.result, R::Undefined);
	EXPECT_EQ(d.insn.len, 7);
	EXPECT_EQ(d.insn.op, Op::MovRmImm);
}

// --- Subset boundary: never guess

TEST(Subset, OthersAreUnsupported)
{
	EXPECT_EQ(dec(L, {0x01, 0x03}).result, R::Unsupported);		    // add [rbx], eax
	EXPECT_EQ(dec(L, {0x0f, 0x05}).result, R::Unsupported);		    // syscall
	EXPECT_EQ(dec(L, {0x0f, 0x01, 0xd0}).result, R::Unsupported);	    // xgetbv
	EXPECT_EQ(dec(L, {0xc6, 0xf8, 0x00}).result, R::Unsupported);	    // xabort
	EXPECT_EQ(dec(L, {0xc7, 0xf8, 0, 0, 0, 0}).result, R::Unsupported); // xbegin
	EXPECT_EQ(dec(L, {0xc7, 0x0b, 0, 0, 0, 0}).result, R::Unsupported); // c7 /1
	EXPECT_EQ(dec(P32, {0x63, 0x03}).result, R::Unsupported);	    // arpl
	EXPECT_EQ(dec(L, {0x41, 0x90}).result, R::Unsupported);		    // xchg r8d, eax
	EXPECT_EQ(dec(L, {0xf3, 0x41, 0x90}).result, R::Unsupported);
	EXPECT_EQ(dec(L, {0x8c, 0xd8}).result, R::Unsupported);			  // mov eax, ds
	EXPECT_EQ(dec(L, {0xa4}).result, R::Unsupported);			  // movsb
	EXPECT_EQ(dec(L, {0x0f, 0x0f, 0xc0, 0x9e}).result, R::Unsupported);	  // 3DNow!
	EXPECT_EQ(dec(L, {0xc4, 0xe2, 0x79, 0x18, 0x07}).result, R::Unsupported); // VEX
	EXPECT_EQ(dec(L, {0x62, 0xf1, 0x7c, 0x48, 0x10, 0x07}).result, R::Unsupported); // EVEX
}

// INVD and WBINVD are skipped (SVM without NRIP save needs their length): 2 bytes.
TEST(Subset, InvdWbinvd)
{
	auto d = dec(L, {0x0f, 0x08});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.op, Op::Invd);
	EXPECT_EQ(d.insn.len, 2);
	d = dec(CpuMode::Real, {0x66, 0x0f, 0x09});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.op, Op::Wbinvd);
	EXPECT_EQ(d.insn.len, 3);
	EXPECT_EQ(dec(L, {0xf0, 0x0f, 0x09}).result, R::Undefined); // lock wbinvd
}

// --- Fields of the non-MMIO instructions

TEST(Fields, Immediates)
{
	auto d = dec(L, {0xcd, 0x80});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.imm, 0x80u);
	EXPECT_EQ(d.insn.imm_size, 1);
	d = dec(P32, {0xe6, 0xe9});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.imm, 0xe9u);
	d = dec(L, {0x48, 0xc7, 0x03, 0x00, 0x00, 0x00, 0x80});
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_EQ(d.insn.imm, 0x80000000u); // raw; store_value sign-extends
}

TEST(Fields, PauseNeedsF3)
{
	EXPECT_EQ(dec(L, {0xf3, 0x90}).insn.op, Op::Pause);
	EXPECT_EQ(dec(L, {0xf2, 0x90}).insn.op, Op::Nop);
	EXPECT_EQ(dec(L, {0x66, 0x90}).insn.op, Op::Nop);
	EXPECT_EQ(dec(L, {0x48, 0x90}).insn.op, Op::Nop); // REX.W without REX.B
}

TEST(Fields, X87RegisterFormHasNoMemory)
{
	auto d = dec(L, {0xd9, 0xe8}); // fld1
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_FALSE(d.insn.has_mem);
	d = dec(L, {0xdd, 0x04, 0x24}); // fld qword [rsp]
	ASSERT_EQ(d.result, R::Ok);
	EXPECT_TRUE(d.insn.has_mem);
	EXPECT_EQ(d.insn.len, 3);
}

// --- effective_address

TEST(EffectiveAddress, Forms)
{
	uint64_t gpr[16] = {};
	gpr[RAX] = 0x1000;
	gpr[RCX] = 0x10;
	gpr[RBX] = 0xffff;
	gpr[RSI] = 0x2;
	gpr[R12] = 0x100000000;
	// [rax + rcx*4 + 0x80]
	auto d = dec(L, {0x8b, 0x94, 0x88, 0x80, 0, 0, 0});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0x1000u + 0x40 + 0x80);
	// [rax + r12*8 - 0x80]
	d = dec(L, {0x42, 0x8b, 0x54, 0xe0, 0x80});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0x1000u + 0x800000000 - 0x80);
	// rip-relative: next instruction + disp
	d = dec(L, {0x8b, 0x05, 0x10, 0, 0, 0});
	EXPECT_EQ(effective_address(d.insn, gpr, 0xffffffff80001000u),
		  0xffffffff80001000u + 6 + 0x10);
	// 67 + rip-relative wraps at 4 GiB
	d = dec(L, {0x67, 0x8b, 0x05, 0x10, 0, 0, 0});
	EXPECT_EQ(effective_address(d.insn, gpr, 0x1fffffff0u),
		  (0x1fffffff0u + 7 + 0x10) & 0xffffffffu);
	// 67 [r12]: 32-bit address
	d = dec(L, {0x67, 0x41, 0x8b, 0x04, 0x24});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0u);
	// 16-bit [bx+si+0x10] wraps at 64 KiB
	d = dec(RM, {0x8b, 0x40, 0x10});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), (0xffffu + 2 + 0x10) & 0xffff);
	// 16-bit [bp+si-1] with upper bits in rbp ignored
	gpr[RBP] = 0x12340010;
	d = dec(RM, {0x8b, 0x42, 0xff});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0x0011u);
	// moffs
	d = dec(L, {0xa1, 8, 7, 6, 5, 4, 3, 2, 1});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0x0102030405060708u);
	// 32-bit code: [ebx + 0x7fffffff]... wraps at 4 GiB
	gpr[RBX] = 0xfffffff0;
	d = dec(P32, {0x8b, 0x83, 0x20, 0, 0, 0});
	EXPECT_EQ(effective_address(d.insn, gpr, 0), 0x10u);
}

} // namespace
} // namespace dbgkvm::emulate

namespace dbgkvm::emulate
{
namespace
{

TEST(NextRip, WrapsAt4GiBOutside64BitMode)
{
	using test::dec;
	EXPECT_EQ(next_rip(dec(CpuMode::Long64, {0x0f, 0xa2}).insn, 0xffffffff'fffffffeull), 0u);
	EXPECT_EQ(next_rip(dec(CpuMode::Long64, {0x0f, 0xa2}).insn, 0xffffffffull),
		  0x1'00000001ull);
	EXPECT_EQ(next_rip(dec(CpuMode::Prot32, {0x0f, 0xa2}).insn, 0xffffffffull), 1u);
	EXPECT_EQ(next_rip(dec(CpuMode::Real, {0x66, 0x0f, 0xa2}).insn, 0x100), 0x103u);
}

} // namespace
} // namespace dbgkvm::emulate
