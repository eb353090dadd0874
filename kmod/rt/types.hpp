// SPDX-License-Identifier: GPL-2.0
// Fixed-width types and small helpers for the freestanding C++ parts.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dbgkvm
{
using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using s64 = std::int64_t;

template <class T> constexpr T min(T a, T b)
{
	return a < b ? a : b;
}
template <class T> constexpr T max(T a, T b)
{
	return a < b ? b : a;
}
constexpr u64 bit(unsigned n)
{
	return u64{1} << n;
}

// Errors as values: a negative errno (the kernel's numbers), 0 on success. A class
// only so that it can be [[nodiscard]]: every function returning an Errno warns when
// its caller drops the result (discard on purpose with a (void) cast and a comment).
// It converts to and from long implicitly, so it reads like the integer it wraps; a
// trivially copyable one-member struct, it is returned in a register like a long. At
// the extern "C" boundary the functions return plain long or int.
struct [[nodiscard]] Errno {
	long v;
	constexpr Errno(long x = 0) : v(x) {}
	constexpr operator long() const { return v; }
};
} // namespace dbgkvm
