// SPDX-License-Identifier: GPL-2.0
//
// Random encodings of the subset (random prefixes, REX, ModRM/SIB, displacement and immediate
// bytes) with the length objdump gives them: gen/objdump_diff.py --table. The same script run
// with a large count is the by-hand differential check (0 mismatches in 36,000 encodings when
// written).

#include <gtest/gtest.h>

#include <string>

#include "emulate/decode.hpp"

namespace dbgkvm::emulate
{
namespace
{

struct RandomRow {
	CpuMode mode;
	uint8_t bytes[15];
	DecodeResult result;
	uint8_t objdump_len;
	const char *text;
};

constexpr RandomRow kRandom[] = {
#include "emulate_random_table.inc"
};

class RandomEncoding : public ::testing::TestWithParam<RandomRow>
{
};

TEST_P(RandomEncoding, LengthAgreesWithObjdump)
{
	const RandomRow &r = GetParam();
	Insn in;
	const DecodeResult got = decode(r.bytes, sizeof(r.bytes), r.mode, &in);
	ASSERT_EQ(got, r.result) << r.text;
	if (got == DecodeResult::Unsupported)
		return;
	EXPECT_EQ(in.len, r.objdump_len) << r.text;
	// and one byte short is never enough
	Insn shorter;
	EXPECT_EQ(decode(r.bytes, in.len - 1u, r.mode, &shorter), DecodeResult::NeedMoreBytes)
	    << r.text;
}

std::string random_name(const ::testing::TestParamInfo<RandomRow> &info)
{
	static const char *const modes[] = {"Real", "Prot16", "Prot32", "Long64"};
	std::string s = std::string(modes[static_cast<int>(info.param.mode)]) + "_" +
			std::to_string(info.index);
	static const char hex[] = "0123456789abcdef";
	s += '_';
	for (int i = 0; i < 4; i++) {
		s += hex[info.param.bytes[i] >> 4];
		s += hex[info.param.bytes[i] & 15];
	}
	return s;
}

INSTANTIATE_TEST_SUITE_P(Objdump, RandomEncoding, ::testing::ValuesIn(kRandom), random_name);

} // namespace
} // namespace dbgkvm::emulate
