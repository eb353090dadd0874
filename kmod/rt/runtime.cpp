// SPDX-License-Identifier: GPL-2.0
// The freestanding C++ runtime: operator new/delete over kvzalloc/kvfree (GFP_KERNEL_ACCOUNT,
// zeroed, process context only) and the one ABI hook virtual classes need.
#include "rt/new.hpp"
#include "dbgkvm_glue.h"

void *operator new(std::size_t size, dbgkvm::rt::KallocTag) noexcept
{
	return dk_zalloc(size);
}

void *operator new[](std::size_t size, dbgkvm::rt::KallocTag) noexcept
{
	return dk_zalloc(size);
}

void operator delete(void *p) noexcept
{
	dk_free(p);
}

void operator delete(void *p, std::size_t) noexcept
{
	dk_free(p);
}

void operator delete[](void *p) noexcept
{
	dk_free(p);
}

void operator delete[](void *p, std::size_t) noexcept
{
	dk_free(p);
}

// Called if a pure virtual function is ever reached through a half-built object: a bug.
extern "C" void __cxa_pure_virtual() noexcept
{
	dk_log_warn("pure virtual call\n");
	__builtin_trap();
}
