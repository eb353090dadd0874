// SPDX-License-Identifier: GPL-2.0
//
// MMIO completion of the MOV subset: access size and direction, the value stored, and how a load
// lands in the register file (width rules, AH vs SPL, MOVZX/MOVSX/MOVSXD).

#include <gtest/gtest.h>

#include "emulate/gpr.hpp"
#include "emulate/mmio.hpp"
#include "emulate_test_util.hpp"

namespace dbgkvm::emulate
{
namespace
{

using test::dec;
constexpr auto L = CpuMode::Long64;
constexpr auto P32 = CpuMode::Prot32;
constexpr auto P16 = CpuMode::Prot16;

constexpr uint64_t kFill = 0x1111111111111111;

struct Regs {
	uint64_t r[16];
	Regs()
	{
		for (int i = 0; i < 16; i++)
			r[i] = kFill * static_cast<uint64_t>(i + 1) ^ 0x8080808080808080;
	}
};

// --- GPR width rules

TEST(Gpr, WriteWidths)
{
	uint64_t g[16] = {};
	g[RAX] = 0xffffffffffffffff;
	write_gpr(g, RAX, 1, false, 0x12);
	EXPECT_EQ(g[RAX], 0xffffffffffffff12u);
	write_gpr(g, RAX, 2, false, 0x3456);
	EXPECT_EQ(g[RAX], 0xffffffffffff3456u);
	write_gpr(g, RAX, 4, false, 0x89abcdef);
	EXPECT_EQ(g[RAX], 0x0000000089abcdefu);
	write_gpr(g, RAX, 8, false, 0x0123456789abcdef);
	EXPECT_EQ(g[RAX], 0x0123456789abcdefu);
}

TEST(Gpr, HighByteRegistersWithoutRex)
{
	uint64_t g[16] = {};
	for (unsigned i = 0; i < 8; i++)
		g[i] = 0x1122334455667788 + i;
	// AH CH DH BH = regs 4..7 without REX
	EXPECT_EQ(read_gpr(g, 4, 1, false), 0x77u);
	EXPECT_EQ(read_gpr(g, 7, 1, false), 0x77u);
	// SPL BPL SIL DIL with REX
	EXPECT_EQ(read_gpr(g, 4, 1, true), 0x8cu);
	EXPECT_EQ(read_gpr(g, 7, 1, true), 0x8fu);
	write_gpr(g, 5, 1, false, 0xaa); // CH
	EXPECT_EQ(g[RCX], 0x112233445566aa89u);
	EXPECT_EQ(g[RBP], 0x112233445566778du);
	write_gpr(g, 5, 1, true, 0xaa); // BPL
	EXPECT_EQ(g[RBP], 0x11223344556677aau);
	// only byte size is affected
	EXPECT_EQ(read_gpr(g, 4, 2, false), 0x778cu);
}

// --- mem_access

struct AccessRow {
	CpuMode mode;
	std::vector<uint8_t> bytes;
	bool valid;
	bool is_write;
	uint8_t size;
	uint8_t reg;
};

class MemAccessTest : public ::testing::TestWithParam<AccessRow>
{
};

TEST_P(MemAccessTest, SizeDirectionRegister)
{
	const AccessRow &r = GetParam();
	const auto d = test::dec(r.mode, r.bytes);
	ASSERT_EQ(d.result, DecodeResult::Ok);
	const MemAccess a = mem_access(d.insn);
	EXPECT_EQ(a.valid, r.valid);
	if (!r.valid)
		return;
	EXPECT_EQ(a.is_write, r.is_write);
	EXPECT_EQ(a.size, r.size);
	EXPECT_EQ(a.reg, r.reg);
}

INSTANTIATE_TEST_SUITE_P(
    Subset, MemAccessTest,
    ::testing::Values(AccessRow{L, {0x88, 0x23}, true, true, 1, 4},	       // mov [rbx], ah
		      AccessRow{L, {0x44, 0x89, 0x03}, true, true, 4, R8},     // mov [rbx], r8d
		      AccessRow{L, {0x48, 0x89, 0x03}, true, true, 8, RAX},    // mov [rbx], rax
		      AccessRow{P16, {0x89, 0x07}, true, true, 2, RAX},	       // mov [bx], ax
		      AccessRow{L, {0x4c, 0x8b, 0x3b}, true, false, 8, R15},   // mov r15, [rbx]
		      AccessRow{P32, {0x8a, 0x0b}, true, false, 1, RCX},       // mov cl, [ebx]
		      AccessRow{L, {0xc6, 0x03, 0x01}, true, true, 1, kNoReg}, // mov byte [rbx], 1
		      AccessRow{L, {0x48, 0xc7, 0x03, 1, 0, 0, 0}, true, true, 8, kNoReg},
		      AccessRow{L, {0xa0, 1, 2, 3, 4, 5, 6, 7, 8}, true, false, 1, RAX},
		      AccessRow{P32, {0xa3, 1, 2, 3, 4}, true, true, 4, RAX},
		      AccessRow{
			  L, {0x48, 0x0f, 0xb6, 0x03}, true, false, 1, RAX}, // movzx rax, byte
		      AccessRow{L, {0x0f, 0xb7, 0x0b}, true, false, 2, RCX}, // movzx ecx, word
		      AccessRow{L, {0x0f, 0xbe, 0x13}, true, false, 1, RDX}, // movsx edx, byte
		      AccessRow{L, {0x48, 0x63, 0x03}, true, false, 4, RAX}, // movsxd rax, [rbx]
		      AccessRow{L, {0x66, 0x63, 0x03}, true, false, 2, RAX}, // movsxd ax, [rbx]
		      AccessRow{L, {0x89, 0xd8}, false, false, 0, 0}, // mov eax, ebx: no memory
		      AccessRow{L, {0x0f, 0xb6, 0xc3}, false, false, 0, 0}, // movzx eax, bl
		      AccessRow{L, {0xdd, 0x03}, false, false, 0, 0},	    // fld qword [rbx]
		      AccessRow{L, {0x8e, 0x13}, false, false, 0, 0},	    // mov ss, [rbx]
		      AccessRow{L, {0xf4}, false, false, 0, 0}));

// --- store_value

TEST(StoreValue, RegisterSources)
{
	Regs g;
	g.r[RAX] = 0x1122334455667788;
	g.r[RSP] = 0xaabbccddeeff0099;
	// mov [rbx], ah -> 0x77; mov [rbx], spl -> 0x99
	EXPECT_EQ(store_value(dec(L, {0x88, 0x23}).insn, g.r), 0x77u);
	EXPECT_EQ(store_value(dec(L, {0x40, 0x88, 0x23}).insn, g.r), 0x99u);
	// REX before 66 is ignored, so this is AH again
	EXPECT_EQ(store_value(dec(L, {0x40, 0x66, 0x88, 0x23}).insn, g.r), 0x77u);
	EXPECT_EQ(store_value(dec(L, {0x66, 0x89, 0x03}).insn, g.r), 0x7788u);
	EXPECT_EQ(store_value(dec(L, {0x89, 0x03}).insn, g.r), 0x55667788u);
	EXPECT_EQ(store_value(dec(L, {0x48, 0x89, 0x03}).insn, g.r), 0x1122334455667788u);
	EXPECT_EQ(store_value(dec(L, {0x48, 0x89, 0x23}).insn, g.r), 0xaabbccddeeff0099u);
	// mov [rbx], r12b
	g.r[R12] = 0x5a;
	EXPECT_EQ(store_value(dec(L, {0x44, 0x88, 0x23}).insn, g.r), 0x5au);
	// moffs stores take AL/AX/EAX/RAX
	EXPECT_EQ(store_value(dec(L, {0xa2, 1, 2, 3, 4, 5, 6, 7, 8}).insn, g.r), 0x88u);
	EXPECT_EQ(store_value(dec(P32, {0x66, 0xa3, 1, 2, 3, 4}).insn, g.r), 0x7788u);
	EXPECT_EQ(store_value(dec(L, {0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8}).insn, g.r),
		  0x1122334455667788u);
	// 32-bit code: bh is reg 7
	g.r[RBX] = 0xcafe;
	EXPECT_EQ(store_value(dec(P32, {0x88, 0x38}).insn, g.r), 0xcau);
}

TEST(StoreValue, Immediates)
{
	Regs g;
	EXPECT_EQ(store_value(dec(L, {0xc6, 0x03, 0xfe}).insn, g.r), 0xfeu);
	EXPECT_EQ(store_value(dec(L, {0x66, 0xc7, 0x03, 0xfe, 0xff}).insn, g.r), 0xfffeu);
	EXPECT_EQ(store_value(dec(L, {0xc7, 0x03, 0x00, 0x00, 0x00, 0x80}).insn, g.r), 0x80000000u);
	// REX.W: imm32 sign-extended to 64 bits
	EXPECT_EQ(store_value(dec(L, {0x48, 0xc7, 0x03, 0x00, 0x00, 0x00, 0x80}).insn, g.r),
		  0xffffffff80000000u);
	EXPECT_EQ(store_value(dec(L, {0x48, 0xc7, 0x03, 0xff, 0xff, 0xff, 0x7f}).insn, g.r),
		  0x7fffffffu);
	EXPECT_EQ(store_value(dec(P16, {0xc7, 0x07, 0x34, 0x12}).insn, g.r), 0x1234u);
	EXPECT_EQ(store_value(dec(P16, {0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}).insn, g.r),
		  0x12345678u);
}

TEST(StoreValue, ZeroForLoads)
{
	Regs g;
	EXPECT_EQ(store_value(dec(L, {0x8b, 0x03}).insn, g.r), 0u);
	EXPECT_EQ(store_value(dec(L, {0xf4}).insn, g.r), 0u);
}

// --- complete_load

TEST(CompleteLoad, WidthRules)
{
	Regs g;
	const uint64_t rcx = g.r[RCX];
	// mov cl, [rbx]: only bits 7:0
	complete_load(dec(L, {0x8a, 0x0b}).insn, g.r, 0xab);
	EXPECT_EQ(g.r[RCX], (rcx & ~uint64_t{0xff}) | 0xab);
	// mov ch, [rbx]: bits 15:8
	complete_load(dec(L, {0x8a, 0x2b}).insn, g.r, 0xcd);
	EXPECT_EQ(g.r[RCX], (rcx & ~uint64_t{0xffff}) | 0xcdab);
	// mov bpl, [rbx] with REX: rbp bits 7:0, rcx untouched
	const uint64_t rbp = g.r[RBP];
	complete_load(dec(L, {0x40, 0x8a, 0x2b}).insn, g.r, 0xef);
	EXPECT_EQ(g.r[RBP], (rbp & ~uint64_t{0xff}) | 0xef);
	EXPECT_EQ(g.r[RCX], (rcx & ~uint64_t{0xffff}) | 0xcdab);
	// mov cx, [rbx]: bits 15:0
	complete_load(dec(L, {0x66, 0x8b, 0x0b}).insn, g.r, 0x1234);
	EXPECT_EQ(g.r[RCX], (rcx & ~uint64_t{0xffff}) | 0x1234);
	// mov ecx, [rbx]: zero-extends
	complete_load(dec(L, {0x8b, 0x0b}).insn, g.r, 0x89abcdef);
	EXPECT_EQ(g.r[RCX], 0x89abcdefu);
	// mov r9, [rbx]
	complete_load(dec(L, {0x4c, 0x8b, 0x0b}).insn, g.r, 0xfedcba9876543210);
	EXPECT_EQ(g.r[R9], 0xfedcba9876543210u);
	// data beyond the access size is ignored
	complete_load(dec(L, {0x66, 0x8b, 0x13}).insn, g.r, 0xffffffff00005678);
	EXPECT_EQ(g.r[RDX] & 0xffff, 0x5678u);
}

TEST(CompleteLoad, Moffs)
{
	Regs g;
	const uint64_t rax = g.r[RAX];
	complete_load(dec(L, {0xa0, 1, 2, 3, 4, 5, 6, 7, 8}).insn, g.r, 0x42);
	EXPECT_EQ(g.r[RAX], (rax & ~uint64_t{0xff}) | 0x42);
	complete_load(dec(L, {0xa1, 1, 2, 3, 4, 5, 6, 7, 8}).insn, g.r, 0x87654321);
	EXPECT_EQ(g.r[RAX], 0x87654321u);
	complete_load(dec(L, {0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8}).insn, g.r, 0x8765432112345678);
	EXPECT_EQ(g.r[RAX], 0x8765432112345678u);
	complete_load(dec(P16, {0xa1, 1, 2}).insn, g.r, 0xbeef);
	EXPECT_EQ(g.r[RAX], 0x876543211234beefu);
}

struct ExtendRow {
	std::vector<uint8_t> bytes; // destination is ecx/cx/rcx
	uint64_t data;
	uint64_t want_rcx; // with rcx = kOld before
};

constexpr uint64_t kOld = 0xdeadbeefcafef00d;

class ExtendTest : public ::testing::TestWithParam<ExtendRow>
{
};

TEST_P(ExtendTest, MovzxMovsxMovsxd)
{
	const ExtendRow &r = GetParam();
	uint64_t g[16] = {};
	g[RCX] = kOld;
	const auto d = test::dec(L, r.bytes);
	ASSERT_EQ(d.result, DecodeResult::Ok);
	complete_load(d.insn, g, r.data);
	EXPECT_EQ(g[RCX], r.want_rcx);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ExtendTest,
    ::testing::Values(
	ExtendRow{{0x0f, 0xb6, 0x0b}, 0x80, 0x80},		       // movzx ecx, byte
	ExtendRow{{0x66, 0x0f, 0xb6, 0x0b}, 0x80, 0xdeadbeefcafe0080}, // movzx cx, byte
	ExtendRow{{0x48, 0x0f, 0xb6, 0x0b}, 0xff, 0xff},	       // movzx rcx, byte
	ExtendRow{{0x0f, 0xb7, 0x0b}, 0x8000, 0x8000},		       // movzx ecx, word
	ExtendRow{{0x48, 0x0f, 0xb7, 0x0b}, 0xffff8000, 0x8000},       // upper data ignored
	ExtendRow{{0x0f, 0xbe, 0x0b}, 0x80, 0xffffff80},	       // movsx ecx, byte
	ExtendRow{{0x0f, 0xbe, 0x0b}, 0x7f, 0x7f},
	ExtendRow{{0x66, 0x0f, 0xbe, 0x0b}, 0x80, 0xdeadbeefcafeff80}, // movsx cx, byte
	ExtendRow{{0x48, 0x0f, 0xbe, 0x0b}, 0x80, 0xffffffffffffff80}, // movsx rcx, byte
	ExtendRow{{0x0f, 0xbf, 0x0b}, 0x8001, 0xffff8001},	       // movsx ecx, word
	ExtendRow{{0x48, 0x0f, 0xbf, 0x0b}, 0x8001, 0xffffffffffff8001},
	ExtendRow{{0x48, 0x63, 0x0b}, 0x80000000, 0xffffffff80000000}, // movsxd rcx
	ExtendRow{{0x48, 0x63, 0x0b}, 0x7fffffff, 0x7fffffff},
	ExtendRow{{0x63, 0x0b}, 0x80000000, 0x80000000},	     // movsxd ecx: mov
	ExtendRow{{0x66, 0x63, 0x0b}, 0x8000, 0xdeadbeefcafe8000})); // movsxd cx

TEST(CompleteLoad, IgnoresNonLoads)
{
	Regs g;
	Regs before;
	complete_load(dec(L, {0x89, 0x03}).insn, g.r, 0x1234);
	complete_load(dec(L, {0xf4}).insn, g.r, 0x1234);
	complete_load(dec(L, {0xc7, 0x03, 0, 0, 0, 0}).insn, g.r, 0x1234);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(g.r[i], before.r[i]);
}

} // namespace
} // namespace dbgkvm::emulate

namespace dbgkvm::emulate
{
namespace
{

// MOV from DR/CR writes insn.rm with insn.opsize: 32-bit outside 64-bit mode (zero-extends).
TEST(Gpr, MovDrUsesOpsizeWidth)
{
	uint64_t g[16] = {};
	g[R11] = 0xffffffff'ffffffffull;
	auto d = dec(CpuMode::Long64, {0x41, 0x0f, 0x21, 0xfb}); // mov r11, dr7
	ASSERT_EQ(d.result, DecodeResult::Ok);
	write_gpr(g, d.insn.rm, d.insn.opsize, d.insn.rex != 0, 0x400);
	EXPECT_EQ(g[R11], 0x400u);
	g[RBX] = 0xffffffff'ffffffffull;
	d = dec(CpuMode::Prot32, {0x0f, 0x21, 0xfb}); // mov ebx, dr7
	write_gpr(g, d.insn.rm, d.insn.opsize, false, 0x400);
	EXPECT_EQ(g[RBX], 0x400u);
	g[RBX] = 0x12345678'9abcdef0ull;
	d = dec(CpuMode::Prot32, {0x0f, 0x23, 0xc3}); // mov dr0, ebx
	EXPECT_EQ(read_gpr(g, d.insn.rm, d.insn.opsize, false), 0x9abcdef0u);
}

} // namespace
} // namespace dbgkvm::emulate
