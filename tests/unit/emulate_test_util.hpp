// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the emulate unit tests.

#ifndef DBGKVM_TESTS_EMULATE_TEST_UTIL_HPP
#define DBGKVM_TESTS_EMULATE_TEST_UTIL_HPP

#include <initializer_list>
#include <vector>

#include "emulate/decode.hpp"

namespace dbgkvm::emulate::test
{

struct Decoded {
	DecodeResult result;
	Insn insn;
};

inline Decoded dec(CpuMode mode, std::initializer_list<uint8_t> bytes)
{
	const std::vector<uint8_t> v(bytes);
	Decoded d{};
	d.result = decode(v.data(), v.size(), mode, &d.insn);
	return d;
}

inline Decoded dec(CpuMode mode, const std::vector<uint8_t> &v)
{
	Decoded d{};
	d.result = decode(v.data(), v.size(), mode, &d.insn);
	return d;
}

} // namespace dbgkvm::emulate::test

#endif
