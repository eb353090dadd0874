// SPDX-License-Identifier: GPL-2.0
// Nested page tables (AMD APM Vol. 2, 15.25): guest-physical -> host-physical, in the
// host's own paging format at VMRUN: 4-level, or 5-level when the host runs with
// CR4.LA57 (QEMU's -cpu max has LA57 and Debian's kernels use it). Every level must
// have U/S = 1: the walk of a nested table is a user access (15.25.5).
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::svm
{

class Npt
{
public:
	Errno init(unsigned levels); // 4 or 5
	~Npt();
	Errno map(u64 gpa, u64 hpa, bool writable);
	void clear(); // drop every mapping; the root stays
	u64 root_pa() const { return root_pa_; }

private:
	static void free_level(u64 *table, int level);
	unsigned levels_ = 4;
	u64 *root_ = nullptr;
	u64 root_pa_ = 0;
};

} // namespace dbgkvm::svm
