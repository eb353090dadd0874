// SPDX-License-Identifier: GPL-2.0
// Allocation for the C++ core: a non-throwing operator new over the glue allocator.
// `new (dbgkvm::rt::kalloc) T(...)` returns nullptr when the allocation fails (the
// allocation function is noexcept, so the new-expression checks for null and does not
// run the constructor). Plain `new T` is not defined: it would not link.
#pragma once
#include <cstddef>
#include <new>

namespace dbgkvm::rt
{
struct KallocTag {
};
inline constexpr KallocTag kalloc{};
} // namespace dbgkvm::rt

void *operator new(std::size_t size, dbgkvm::rt::KallocTag) noexcept;
void *operator new[](std::size_t size, dbgkvm::rt::KallocTag) noexcept;
