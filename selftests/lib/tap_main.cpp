// SPDX-License-Identifier: GPL-2.0
/* main() of every TAP test binary: run the TESTs registered by its .cpp. */
#include "tap.h"

int main(int argc, char **argv)
{
	return tap::run_all(argc, argv);
}
