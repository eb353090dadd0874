// SPDX-License-Identifier: GPL-2.0
// Extended page tables (SDM Vol. 3, 29.3 "The Extended Page Table Mechanism"):
// guest-physical -> host-physical. Always 4 levels: the EPT walk length is chosen in
// the EPTP and is independent of the host's own paging (LA57 or not); 4 levels cover
// 48 bits of guest-physical space, more than any slot dbgkvm accepts.
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::vmx
{

class Ept
{
public:
	Errno init();
	~Ept();
	Errno map(u64 gpa, u64 hpa, bool writable);
	void clear(); // drop every mapping; the root stays
	// EPTP (24.6.11): write-back paging structures, walk length 4 - 1, no A/D flags.
	u64 eptp() const { return root_pa_ | 6 | (3 << 3); }

private:
	static void free_level(u64 *table, int level);
	u64 *root_ = nullptr;
	u64 root_pa_ = 0;
};

} // namespace dbgkvm::vmx
