/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioctl validation: one iteration opens the device, creates VMs and vCPUs and calls
 * every ioctl with valid, boundary and invalid arguments. Each answer is checked
 * against what KVM's ABI allows for it (SlotModel, the vCPU id rules, EFAULT for every
 * bad pointer, EINVAL for reserved flags and incoherent state, round trips), and, when
 * `trace` is given, written down for the differential test. The random choices never
 * depend on the answers, so two devices given the same sub-seed get the same calls.
 */
#ifndef SELFTESTS_FUZZ_VALIDATE_H
#define SELFTESTS_FUZZ_VALIDATE_H

#include "ctx.h"
#include "device.h"

#include <string>
#include <vector>

namespace fz
{

/*
 * One call in a trace: `label` says what was asked (the same on every device: it never
 * names a device's limits by value), `value` what came back (compared), `info` why the
 * model expected it (shown, not compared).
 */
struct TraceLine {
	std::string label, value, info;
};
using Trace = std::vector<TraceLine>;

void validation_iteration(Ctx &c, Device &d, Trace *trace);

/* "ok", "ok 5" or "-1/EINVAL": how a result is written in a trace. */
std::string result_str(long ret, int err, bool with_value = false);

} // namespace fz

#endif
