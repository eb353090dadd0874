// SPDX-License-Identifier: GPL-2.0
// The event of the next entry, the same for both vendors (core/arch.hpp). Out of line: an
// inline function that the compiler emits in several objects ends up in a COMDAT group,
// which the kernel's __mcount_loc and ORC tables cannot refer to across `ld -r`.
#include "core/arch.hpp"

namespace dbgkvm
{

void ArchVcpu::queue_exception(u8 vector, bool has_error, u32 error)
{
	if (event_pending())
		return;
	set_event({events::hw_exception_info(vector, has_error), error, false});
}

void ArchVcpu::set_event(events::ArchEvent e)
{
	if (!protected_mode())
		e.info &= ~events::INFO_ERROR_VALID;
	load_event(e);
}

} // namespace dbgkvm
