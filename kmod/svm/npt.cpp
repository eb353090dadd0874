// SPDX-License-Identifier: GPL-2.0
#include "svm/npt.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm::svm
{

namespace
{
constexpr u64 PTE_P = 1, PTE_RW = 2, PTE_US = 4;
constexpr u64 ADDR_MASK = 0x000ffffffffff000ULL;

u64 *table_of(u64 entry)
{
	return static_cast<u64 *>(dk_phys_to_virt(entry & ADDR_MASK));
}
} // namespace

Errno Npt::init(unsigned levels)
{
	levels_ = levels;
	root_ = static_cast<u64 *>(dk_alloc_pages(0, &root_pa_));
	return root_ ? 0 : -DK_ENOMEM;
}

Npt::~Npt()
{
	if (root_)
		free_level(root_, int(levels_));
}

void Npt::free_level(u64 *table, int level)
{
	if (level > 1) {
		for (unsigned i = 0; i < 512; i++)
			if (table[i] & PTE_P)
				free_level(table_of(table[i]), level - 1);
	}
	dk_free_pages(table, 0);
}

void Npt::clear()
{
	for (unsigned i = 0; i < 512; i++) {
		if (root_[i] & PTE_P)
			free_level(table_of(root_[i]), int(levels_) - 1);
		root_[i] = 0;
	}
}

Errno Npt::map(u64 gpa, u64 hpa, bool writable)
{
	if (gpa >> 48)
		return -DK_EINVAL;
	u64 *table = root_;
	for (unsigned level = levels_; level > 1; level--) {
		u64 &e = table[(gpa >> (12 + 9 * (level - 1))) & 0x1ff];
		if (!(e & PTE_P)) {
			u64 pa;
			if (!dk_alloc_pages(0, &pa))
				return -DK_ENOMEM;
			e = pa | PTE_P | PTE_RW | PTE_US;
		}
		table = table_of(e);
	}
	table[(gpa >> 12) & 0x1ff] = (hpa & ADDR_MASK) | PTE_P | PTE_US | (writable ? PTE_RW : 0);
	return 0;
}

} // namespace dbgkvm::svm
