// SPDX-License-Identifier: GPL-2.0
#include "db_payload.hpp"

#include "dr_rules.hpp"

namespace dbgkvm::debugreg
{

uint32_t deliver_db(State &s, uint64_t payload)
{
	uint32_t push = PUSH_DR6;

	s.dr6 = merge_db_payload(s.dr6, payload);
	if (s.dr7 & DR7_GD) {
		s.dr7 &= ~DR7_GD;
		push |= update_dr7(s);
	}
	return push;
}

} // namespace dbgkvm::debugreg
