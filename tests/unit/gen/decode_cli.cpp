// SPDX-License-Identifier: GPL-2.0
// Host tool for objdump_diff.py: reads hex instruction bytes, one instruction per line, and prints
// "<DecodeResult> <len> <Op>" for each. Built by the script, not by CMake.

#include <cstdio>
#include <cstring>

#include "emulate/decode.hpp"

using namespace dbgkvm::emulate;

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const CpuMode m = !strcmp(argv[1], "64")   ? CpuMode::Long64
			  : !strcmp(argv[1], "32") ? CpuMode::Prot32
						   : CpuMode::Prot16;
	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		uint8_t b[64];
		size_t n = 0;
		unsigned v;
		int off = 0, k;
		while (n < sizeof b && sscanf(line + off, "%2x%n", &v, &k) == 1) {
			b[n++] = static_cast<uint8_t>(v);
			off += k;
		}
		Insn in;
		const DecodeResult r = decode(b, n, m, &in);
		printf("%d %d %d\n", static_cast<int>(r), in.len, static_cast<int>(in.op));
	}
	return 0;
}
