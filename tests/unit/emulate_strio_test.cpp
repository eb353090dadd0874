// SPDX-License-Identifier: GPL-2.0
//
// String I/O as KVM's emulator runs it: elements per exit, element offsets, register
// advancement (DF, address size), and the segment and canonical checks of linearize().

#include <gtest/gtest.h>

#include "emulate/io.hpp"
#include "emulate_test_util.hpp"

namespace dbgkvm::emulate
{
namespace
{

using test::dec;
constexpr auto L = CpuMode::Long64;
constexpr auto P32 = CpuMode::Prot32;
constexpr auto R = CpuMode::Real;

Insn insn(CpuMode m, std::initializer_list<uint8_t> bytes)
{
	const auto d = dec(m, bytes);
	EXPECT_EQ(d.result, DecodeResult::Ok);
	return d.insn;
}

uint64_t batch(const Insn &in, uint64_t rcx, uint64_t rdi, bool df)
{
	uint64_t g[16] = {};
	g[RCX] = rcx;
	g[RDI] = rdi;
	g[RSI] = rdi;
	return string_batch(in, g, df);
}

TEST(StringBatch, OutsIsOneElementPerExit)
{
	EXPECT_EQ(batch(insn(L, {0xf3, 0x6e}), 5000, 0x1000, false), 1u);
	EXPECT_EQ(batch(insn(L, {0xf3, 0x6f}), 5000, 0x1000, true), 1u);
	EXPECT_EQ(batch(insn(L, {0x6e}), 0, 0x1000, false), 1u);
}

TEST(StringBatch, InsUpTo1KiB)
{
	const Insn b = insn(L, {0xf3, 0x6c}), w = insn(L, {0x66, 0xf3, 0x6d}),
		   d = insn(L, {0xf3, 0x6d});
	EXPECT_EQ(batch(b, 5000, 0x20010, false), 1024u);
	EXPECT_EQ(batch(w, 5000, 0x20000, false), 512u);
	EXPECT_EQ(batch(d, 5000, 0x20000, false), 256u);
	EXPECT_EQ(batch(d, 5, 0x20000, false), 5u);		     // the count
	EXPECT_EQ(batch(insn(L, {0x6c}), 5000, 0x20000, false), 1u); // no REP: one
}

TEST(StringBatch, InsStopsAtThePageInBytes)
{
	const Insn b = insn(L, {0xf3, 0x6c}), d = insn(L, {0xf3, 0x6d});
	EXPECT_EQ(batch(b, 100, 0x20ffd, false), 3u); // to the end of the page
	EXPECT_EQ(batch(b, 100, 0x20003, true), 3u);  // DF: rDI's offset in the page
	// KVM compares bytes with elements: 6 bytes left give 6 dwords, past the page.
	EXPECT_EQ(batch(d, 100, 0x20ffa, false), 6u);
	// DF at offset 0: no bytes below rDI in its page, still one element.
	EXPECT_EQ(batch(b, 100, 0x21000, true), 1u);
}

TEST(StringBatch, InsCountAtTheAddressSize)
{
	// 32-bit address size in 64-bit mode (67h): ECX, the upper half ignored.
	EXPECT_EQ(batch(insn(L, {0x67, 0xf3, 0x6c}), 0xffffffff00000003, 0x20000, false), 3u);
	EXPECT_EQ(batch(insn(R, {0xf3, 0x6c}), 0x10002, 0x1000, false), 2u); // CX
}

TEST(StringOffset, UpDownAndWrap)
{
	const Insn w16 = insn(R, {0xf3, 0x6d}); // INSW, 16-bit addresses
	EXPECT_EQ(string_offset(w16, 0xfffe, false, 1), 0x0000u);
	EXPECT_EQ(string_offset(w16, 0x0000, true, 1), 0xfffeu);
	EXPECT_EQ(string_offset(w16, 0x12340010, false, 2), 0x0014u);
	const Insn d64 = insn(L, {0xf3, 0x6d});
	EXPECT_EQ(string_offset(d64, 0x1000, true, 3), 0xff4u);
	EXPECT_EQ(string_offset(insn(L, {0x67, 0x6d}), 0xfffffffc, false, 1), 0u);
}

TEST(StringAdvance, InsMovesRdiAndRcx)
{
	uint64_t g[16] = {};
	g[RDI] = 0x20000;
	g[RSI] = 0x777;
	g[RCX] = 10;
	string_advance(insn(L, {0x66, 0xf3, 0x6d}), g, false, 4);
	EXPECT_EQ(g[RDI], 0x20008u);
	EXPECT_EQ(g[RCX], 6u);
	EXPECT_EQ(g[RSI], 0x777u);
	string_advance(insn(L, {0x66, 0xf3, 0x6d}), g, true, 2);
	EXPECT_EQ(g[RDI], 0x20004u);
	EXPECT_EQ(g[RCX], 4u);
}

TEST(StringAdvance, OutsMovesRsiAndNoRepKeepsRcx)
{
	uint64_t g[16] = {};
	g[RSI] = 0x20000;
	g[RCX] = 10;
	string_advance(insn(P32, {0x6f}), g, false, 1);
	EXPECT_EQ(g[RSI], 0x20004u);
	EXPECT_EQ(g[RCX], 10u);
	string_advance(insn(P32, {0x6e}), g, true, 1);
	EXPECT_EQ(g[RSI], 0x20003u);
}

TEST(StringAdvance, OnlyTheAddressSizeBitsChange)
{
	uint64_t g[16] = {};
	// Real mode: SI and CX wrap at 16 bits, bits 63:16 stay.
	g[RSI] = 0xabcd0000ffffull;
	g[RCX] = 0x55550000ull;
	string_advance(insn(R, {0xf3, 0x6e}), g, false, 1);
	EXPECT_EQ(g[RSI], 0xabcd00000000ull);
	EXPECT_EQ(g[RCX], 0x5555ffffull);
	// 67h in 64-bit mode: ESI and ECX, bits 63:32 kept (KVM's register_address_increment).
	g[RSI] = 0x1'0000'0000ull | 0xfffffffe;
	g[RCX] = 0x2'0000'0001ull;
	string_advance(insn(L, {0x67, 0x66, 0xf3, 0x6f}), g, false, 1);
	EXPECT_EQ(g[RSI], 0x1'0000'0000ull);
	EXPECT_EQ(g[RCX], 0x2'0000'0000ull);
}

constexpr SegDesc kFlatData{0, 0xffffffff, 3, true, true};

TEST(Linearize, LongModeBaseOnlyForFsGs)
{
	const SegDesc d{0x1000, 0, 3, true, false};
	EXPECT_EQ(linearize(d, Seg::Ds, L, 0x20, 1, false, 48).linear, 0x20u);
	EXPECT_EQ(linearize(d, Seg::Fs, L, 0x20, 1, false, 48).linear, 0x1020u);
	EXPECT_EQ(linearize(d, Seg::Gs, L, 0x20, 1, true, 48).fault, SegFault::None);
}

TEST(Linearize, LongModeCanonical)
{
	const SegDesc d{};
	EXPECT_EQ(linearize(d, Seg::Ds, L, 0x00007fffffffffff, 1, false, 48).fault, SegFault::None);
	EXPECT_EQ(linearize(d, Seg::Ds, L, 0xffff800000000000, 1, false, 48).fault, SegFault::None);
	EXPECT_EQ(linearize(d, Seg::Ds, L, 0x0000800000000000, 1, false, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(d, Seg::Ss, L, 0x8000000000000000, 1, false, 48).fault, SegFault::Ss);
	EXPECT_EQ(linearize(d, Seg::Ds, L, 0x0000800000000000, 1, false, 57).fault, SegFault::None);
}

TEST(Linearize, ProtectedModeTypeChecks)
{
	EXPECT_EQ(linearize(kFlatData, Seg::Es, P32, 0x20000, 4, true, 48).fault, SegFault::None);
	const SegDesc ro{0, 0xffffffff, 1, true, true};
	EXPECT_EQ(linearize(ro, Seg::Es, P32, 0x20000, 4, true, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(ro, Seg::Ds, P32, 0x20000, 4, false, 48).fault, SegFault::None);
	const SegDesc code_rx{0, 0xffffffff, 0xb, true, true}, code_x{0, 0xffffffff, 9, true, true};
	EXPECT_EQ(linearize(code_rx, Seg::Cs, P32, 0x20000, 1, false, 48).fault, SegFault::None);
	EXPECT_EQ(linearize(code_rx, Seg::Es, P32, 0x20000, 1, true, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(code_x, Seg::Cs, P32, 0x20000, 1, false, 48).fault, SegFault::Gp);
	const SegDesc unusable{0, 0xffffffff, 3, false, true};
	EXPECT_EQ(linearize(unusable, Seg::Ss, P32, 0, 1, false, 48).fault, SegFault::Ss);
	// Real mode: a code-type segment may be written (KVM checks the type only outside).
	EXPECT_EQ(
	    linearize(SegDesc{0, 0xffff, 0xb, true, false}, Seg::Es, R, 0x10, 1, true, 48).fault,
	    SegFault::None);
}

TEST(Linearize, Limits)
{
	const SegDesc d{0x30000, 0xffff, 3, true, false};
	EXPECT_EQ(linearize(d, Seg::Es, R, 0xffff, 1, true, 48).linear, 0x3ffffu);
	EXPECT_EQ(linearize(d, Seg::Es, R, 0xffff, 2, true, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(d, Seg::Ss, R, 0xfffe, 4, true, 48).fault, SegFault::Ss);
	// A 4 GiB limit lets the access wrap; the address is 32 bits.
	const SegDesc high{0x10, 0xffffffff, 3, true, true};
	EXPECT_EQ(linearize(high, Seg::Ds, P32, 0xfffffffe, 4, false, 48).fault, SegFault::None);
	EXPECT_EQ(linearize(high, Seg::Ds, P32, 0xfffffffe, 4, false, 48).linear, 0xeu);
}

TEST(Linearize, ExpandDown)
{
	// Expand-down (type 7): offsets above the limit up to 64 KiB (B = 0) or 4 GiB.
	const SegDesc d16{0, 0x0fff, 7, true, false}, d32{0, 0x0fff, 7, true, true};
	EXPECT_EQ(linearize(d16, Seg::Ds, P32, 0x0fff, 1, false, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(d16, Seg::Ds, P32, 0x1000, 1, false, 48).fault, SegFault::None);
	EXPECT_EQ(linearize(d16, Seg::Ds, P32, 0xffff, 2, false, 48).fault, SegFault::Gp);
	EXPECT_EQ(linearize(d32, Seg::Ds, P32, 0xffff, 2, false, 48).fault, SegFault::None);
}

} // namespace
} // namespace dbgkvm::emulate
