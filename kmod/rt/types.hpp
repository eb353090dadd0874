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

// Errors as values: a negative errno (the kernel's numbers), 0 on success.
using Errno = long;
} // namespace dbgkvm
