// SPDX-License-Identifier: GPL-2.0
// Shared by the libFuzzer harnesses in tests/fuzz: FUZZ_CHECK (report and trap, so libFuzzer
// saves the input), tracing() and Input (fuzzer bytes read as little-endian fields; zero when
// exhausted).

#ifndef DBGKVM_TESTS_FUZZ_UTIL_HPP
#define DBGKVM_TESTS_FUZZ_UTIL_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace dbgkvm::fuzz
{

[[noreturn]] inline void check_failed(const char *file, int line, const char *expr)
{
	std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", file, line, expr);
	std::fflush(stderr);
	__builtin_trap();
}

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			::dbgkvm::fuzz::check_failed(__FILE__, __LINE__, #cond);                   \
	} while (0)

// FUZZ_TRACE=1 in the environment: the harnesses print what each operation did (for
// replaying a crash file by hand).
inline bool tracing()
{
	static const bool on = std::getenv("FUZZ_TRACE") != nullptr;
	return on;
}

// The fuzzer's bytes, consumed front to back.
class Input
{
public:
	Input(const uint8_t *data, size_t size) : data_(data), size_(size) {}

	bool empty() const { return pos_ >= size_; }
	size_t remaining() const { return size_ - pos_; }

	uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
	uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
	uint32_t u32()
	{
		const uint32_t lo = u16();
		return lo | static_cast<uint32_t>(u16()) << 16;
	}
	uint64_t u64()
	{
		const uint64_t lo = u32();
		return lo | static_cast<uint64_t>(u32()) << 32;
	}
	bool boolean() { return u8() & 1; }

private:
	const uint8_t *data_;
	size_t size_;
	size_t pos_ = 0;
};

} // namespace dbgkvm::fuzz

#endif // DBGKVM_TESTS_FUZZ_UTIL_HPP
