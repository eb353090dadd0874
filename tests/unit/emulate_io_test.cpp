// SPDX-License-Identifier: GPL-2.0
//
// Port I/O semantics: port, size, direction, string and REP, completion into AL/AX/EAX.

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
constexpr auto P16 = CpuMode::Prot16;

struct IoRow {
	CpuMode mode;
	std::vector<uint8_t> bytes;
	bool in, string, rep, dx;
	uint8_t size;
	uint16_t port; // with DX = 0x3f8
};

class IoTest : public ::testing::TestWithParam<IoRow>
{
};

TEST_P(IoTest, Access)
{
	const IoRow &r = GetParam();
	uint64_t g[16] = {};
	g[RDX] = 0xffff03f8;
	const auto d = test::dec(r.mode, r.bytes);
	ASSERT_EQ(d.result, DecodeResult::Ok);
	const IoAccess a = io_access(d.insn);
	EXPECT_TRUE(a.valid);
	EXPECT_EQ(a.in, r.in);
	EXPECT_EQ(a.string, r.string);
	EXPECT_EQ(a.rep, r.rep);
	EXPECT_EQ(a.port_in_dx, r.dx);
	EXPECT_EQ(a.size, r.size);
	EXPECT_EQ(io_port(d.insn, g), r.port);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, IoTest,
    ::testing::Values(
	IoRow{L, {0xe4, 0x60}, true, false, false, false, 1, 0x60},
	IoRow{L, {0xe5, 0x60}, true, false, false, false, 4, 0x60},
	IoRow{L, {0x48, 0xe5, 0x60}, true, false, false, false, 4, 0x60}, // REX.W ignored
	IoRow{L, {0x66, 0xe5, 0x60}, true, false, false, false, 2, 0x60},
	IoRow{P16, {0xe5, 0x60}, true, false, false, false, 2, 0x60},
	IoRow{P16, {0x66, 0xe5, 0x60}, true, false, false, false, 4, 0x60},
	IoRow{L, {0xe6, 0xe9}, false, false, false, false, 1, 0xe9},
	IoRow{P32, {0xe7, 0xff}, false, false, false, false, 4, 0xff},
	IoRow{L, {0xec}, true, false, false, true, 1, 0x3f8},
	IoRow{L, {0x48, 0xed}, true, false, false, true, 4, 0x3f8},
	IoRow{P32, {0xee}, false, false, false, true, 1, 0x3f8},
	IoRow{P32, {0x66, 0xef}, false, false, false, true, 2, 0x3f8},
	IoRow{L, {0x6c}, true, true, false, true, 1, 0x3f8},
	IoRow{L, {0xf3, 0x6d}, true, true, true, true, 4, 0x3f8},
	IoRow{L, {0xf2, 0x6d}, true, true, true, true, 4, 0x3f8},
	IoRow{P16, {0xf3, 0x6f}, false, true, true, true, 2, 0x3f8},
	IoRow{P32, {0x66, 0xf3, 0x6f}, false, true, true, true, 2, 0x3f8},
	IoRow{L, {0x6e}, false, true, false, true, 1, 0x3f8}));

TEST(Io, NotIo)
{
	EXPECT_FALSE(io_access(dec(L, {0xf4}).insn).valid);
	EXPECT_FALSE(io_access(dec(L, {0x89, 0x03}).insn).valid);
}

TEST(Io, OutValueAndCompleteIn)
{
	uint64_t g[16] = {};
	g[RAX] = 0x1122334455667788;
	EXPECT_EQ(out_value(dec(L, {0xe6, 0x80}).insn, g), 0x88u);
	EXPECT_EQ(out_value(dec(L, {0x66, 0xef}).insn, g), 0x7788u);
	EXPECT_EQ(out_value(dec(L, {0x48, 0xef}).insn, g), 0x55667788u);
	complete_in(dec(L, {0xec}).insn, g, 0xab);
	EXPECT_EQ(g[RAX], 0x11223344556677abu);
	complete_in(dec(L, {0x66, 0xed}).insn, g, 0xcdef);
	EXPECT_EQ(g[RAX], 0x112233445566cdefu);
	complete_in(dec(L, {0xed}).insn, g, 0x80000001);
	EXPECT_EQ(g[RAX], 0x80000001u);
	// INS writes memory, not rAX
	complete_in(dec(L, {0x6d}).insn, g, 0x5);
	EXPECT_EQ(g[RAX], 0x80000001u);
}

TEST(Io, StringCountAndSegment)
{
	uint64_t g[16] = {};
	g[RCX] = 0x1234567800010003;
	EXPECT_EQ(string_count(dec(L, {0x6c}).insn, g), 1u);
	EXPECT_EQ(string_count(dec(L, {0xf3, 0x6c}).insn, g), 0x1234567800010003u);
	EXPECT_EQ(string_count(dec(L, {0x67, 0xf3, 0x6c}).insn, g), 0x00010003u);
	EXPECT_EQ(string_count(dec(P16, {0xf3, 0x6c}).insn, g), 0x3u);
	EXPECT_EQ(string_count(dec(P16, {0x67, 0xf3, 0x6c}).insn, g), 0x00010003u);
	EXPECT_EQ(string_segment(dec(P32, {0x6c}).insn), Seg::Es);
	EXPECT_EQ(string_segment(dec(P32, {0x2e, 0x6c}).insn), Seg::Es); // INS: no override
	EXPECT_EQ(string_segment(dec(P32, {0x6e}).insn), Seg::Ds);
	EXPECT_EQ(string_segment(dec(P32, {0x2e, 0x6e}).insn), Seg::Cs);
	EXPECT_EQ(string_segment(dec(L, {0x65, 0x6e}).insn), Seg::Gs);
}

} // namespace
} // namespace dbgkvm::emulate
