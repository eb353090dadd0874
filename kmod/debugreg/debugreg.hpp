// SPDX-License-Identifier: GPL-2.0
// The whole debug-register model, for the core and the backends. See README.md for the
// order of calls on ioctl, entry and exit.
#pragma once

#include "db_payload.hpp"
#include "debug_exit.hpp"
#include "dr_bits.hpp"
#include "dr_rules.hpp"
#include "dr_state.hpp"
#include "dr_switch.hpp"
#include "emulation_checks.hpp"
#include "guest_debug.hpp"
#include "knobs.hpp"
