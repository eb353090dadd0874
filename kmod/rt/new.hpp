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

namespace dbgkvm::rt
{
// Allocate a T and run its two-phase init(): the object, or nullptr if either the
// allocation or init() failed (the half-built object is deleted).
template <class T, class... Args> T *make_initialized(Args &...args) noexcept
{
	T *p = new (kalloc) T(args...);
	if (p && p->init()) {
		delete p;
		p = nullptr;
	}
	return p;
}
} // namespace dbgkvm::rt
