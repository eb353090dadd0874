#include <gtest/gtest.h>
#include "emulate/decode.hpp"
using namespace dbgkvm::emulate;
TEST(Smoke, Hlt)
{
	const uint8_t b[] = {0xf4};
	Insn i;
	ASSERT_EQ(decode(b, 1, CpuMode::Long64, &i), DecodeResult::Ok);
	EXPECT_EQ(i.len, 1);
}
