#!/bin/bash
# version.sh: dbgkvm's version, a valid Debian (and DKMS) version string.
# VERSION holds the release; in a git checkout the commit follows it, as
# 0.1.0+git20251202.1845.d95514a (the commit's UTC time, then its hash): later commits
# sort higher, also in a shallow clone. Outside git: VERSION alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=$(tr -d '[:space:]' <"$root/VERSION")
if stamp=$(TZ=UTC0 git -C "$root" log -1 --format='%cd.%h' --date=format-local:%Y%m%d.%H%M 2>/dev/null) &&
	[ -n "$stamp" ]; then
	echo "$base+git$stamp"
else
	echo "$base"
fi
