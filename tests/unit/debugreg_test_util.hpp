// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the debugreg unit tests.
#pragma once
#include "debugreg/dr_rules.hpp"

namespace dbgkvm::debugreg::test
{

// A vCPU's debug-register state right after creation (init + reset).
inline State fresh()
{
	State s;
	init(s);
	return s;
}

} // namespace dbgkvm::debugreg::test
