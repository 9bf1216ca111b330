// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz-replay: run inputs of the `races` target outside libFuzzer and print
 * the interleaving of a finding as a per-CPU timeline: which task read which
 * tid and freelist, where it was preempted, interrupted or migrated, which
 * CAS failed or succeeded, and the oracle's verdict.
 *
 *   fuzz-replay [--quiet] FILE...
 *
 * Exit status: 0 when no input produced a finding, 1 on the first finding,
 * 2 on a usage or I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "races/harness.h"

int main(int argc, char **argv)
{
	races::Options o;
	o.timeline = true;
	o.verbose = true;
	o.exit_on_finding = true;
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--quiet")) {
		o.timeline = false;
		first = 2;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s [--quiet] FILE...\n"
		       "Replays inputs of the races fuzz target; prints the per-CPU timeline of a finding.\n",
		       argv[0]);
		return 0;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--quiet] FILE...\n", argv[0]);
		return 2;
	}
	races::set_options(o);
	for (int i = first; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		std::vector<uint8_t> buf;
		unsigned char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf.insert(buf.end(), chunk, chunk + n);
		fclose(f);
		fprintf(stderr, "fuzz-replay: %s (%zu bytes)\n", argv[i], buf.size());
		races::run(buf.data(), buf.size());
	}
	return 0;
}
