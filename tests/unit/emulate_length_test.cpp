// SPDX-License-Identifier: GPL-2.0
//
// Lengths and identities of the whole subset in every mode, from bytes assembled by GNU as and
// cross-checked with objdump (gen/gen_length_table.py). Each row also checks that every
// truncation yields NeedMoreBytes and that trailing bytes do not change the result.

#include <gtest/gtest.h>

#include <string>

#include "emulate/decode.hpp"

namespace dbgkvm::emulate
{
namespace
{

struct Row {
	CpuMode mode;
	uint8_t bytes[15];
	uint8_t len;
	Op op;
	uint8_t opsize;
	uint8_t mem_size;
	const char *text;
};

constexpr Row kRows[] = {
#include "emulate_length_table.inc"
};

const char *mode_name(CpuMode m)
{
	switch (m) {
	case CpuMode::Real:
		return "Real";
	case CpuMode::Prot16:
		return "Prot16";
	case CpuMode::Prot32:
		return "Prot32";
	case CpuMode::Long64:
		return "Long64";
	}
	return "?";
}

class Length : public ::testing::TestWithParam<Row>
{
};

TEST_P(Length, DecodesToAssemblerLength)
{
	const Row &r = GetParam();
	Insn in;
	ASSERT_EQ(decode(r.bytes, r.len, r.mode, &in), DecodeResult::Ok) << r.text;
	EXPECT_EQ(in.len, r.len) << r.text;
	EXPECT_EQ(in.op, r.op) << r.text;
	EXPECT_EQ(in.opsize, r.opsize) << r.text;
	EXPECT_EQ(in.mem_size, r.mem_size) << r.text;
}

TEST_P(Length, EveryTruncationNeedsMoreBytes)
{
	const Row &r = GetParam();
	for (size_t n = 0; n < r.len; n++) {
		Insn in;
		EXPECT_EQ(decode(r.bytes, n, r.mode, &in), DecodeResult::NeedMoreBytes)
		    << r.text << " truncated to " << n;
	}
}

TEST_P(Length, TrailingBytesIgnored)
{
	const Row &r = GetParam();
	uint8_t buf[32];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = i < r.len ? r.bytes[i] : 0xcc;
	Insn in;
	ASSERT_EQ(decode(buf, sizeof(buf), r.mode, &in), DecodeResult::Ok) << r.text;
	EXPECT_EQ(in.len, r.len) << r.text;
}

std::string row_name(const ::testing::TestParamInfo<Row> &info)
{
	std::string s =
	    std::string(mode_name(info.param.mode)) + "_" + std::to_string(info.index) + "_";
	bool sep = false;
	for (const char *p = info.param.text; *p; p++) {
		const char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			s += c;
			sep = false;
		} else if (!sep) {
			s += '_';
			sep = true;
		}
	}
	while (!s.empty() && s.back() == '_')
		s.pop_back();
	return s;
}

INSTANTIATE_TEST_SUITE_P(Assembled, Length, ::testing::ValuesIn(kRows), row_name);

} // namespace
} // namespace dbgkvm::emulate
