// SPDX-License-Identifier: GPL-2.0
#include "vmx/ept.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm::vmx
{

namespace
{
constexpr unsigned LEVELS = 4;
// EPT entry bits (SDM Vol. 3, Tables 29-1..29-6): read, write, execute (supervisor;
// "mode-based execute control" is off), the memory type of a leaf in bits 5:3 and
// "ignore PAT" in bit 6. Guest RAM is ordinary write-back memory: WB with IPAT, as
// KVM maps RAM when no device does non-coherent DMA.
constexpr u64 EPT_R = 1, EPT_W = 2, EPT_X = 4, EPT_RWX = 7;
constexpr u64 EPT_MT_WB = 6 << 3, EPT_IPAT = 1 << 6;
constexpr u64 ADDR_MASK = 0x000ffffffffff000ULL;

u64 *table_of(u64 entry)
{
	return static_cast<u64 *>(dk_phys_to_virt(entry & ADDR_MASK));
}
} // namespace

Errno Ept::init()
{
	root_ = static_cast<u64 *>(dk_alloc_pages(0, &root_pa_));
	return root_ ? 0 : -DK_ENOMEM;
}

Ept::~Ept()
{
	if (root_)
		free_level(root_, int(LEVELS));
}

void Ept::free_level(u64 *table, int level)
{
	if (level > 1) {
		for (unsigned i = 0; i < 512; i++)
			if (table[i] & EPT_RWX)
				free_level(table_of(table[i]), level - 1);
	}
	dk_free_pages(table, 0);
}

void Ept::clear()
{
	for (unsigned i = 0; i < 512; i++) {
		if (root_[i] & EPT_RWX)
			free_level(table_of(root_[i]), int(LEVELS) - 1);
		root_[i] = 0;
	}
}

Errno Ept::map(u64 gpa, u64 hpa, bool writable)
{
	if (gpa >> 48)
		return -DK_EINVAL;
	u64 *table = root_;
	for (unsigned level = LEVELS; level > 1; level--) {
		u64 &e = table[(gpa >> (12 + 9 * (level - 1))) & 0x1ff];
		if (!(e & EPT_RWX)) {
			u64 pa;
			if (!dk_alloc_pages(0, &pa))
				return -DK_ENOMEM;
			e = pa | EPT_RWX; // non-leaf: no memory type
		}
		table = table_of(e);
	}
	table[(gpa >> 12) & 0x1ff] =
	    (hpa & ADDR_MASK) | EPT_R | EPT_X | (writable ? EPT_W : 0) | EPT_MT_WB | EPT_IPAT;
	return 0;
}

} // namespace dbgkvm::vmx
