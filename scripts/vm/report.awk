# Turns the test machine's serial log into the human report and the counts.
# Runs on the host (busybox awk, so that it behaves the same everywhere), on the
# log as it grows, so that a slow machine (Bochs) shows results as they come.
#
# Input protocol (written by scripts/vm/init.sh):
#   vmtest: run NAME              test binary NAME starts; its output follows
#   vmtest: exit NAME rc=N [timeout=T] [stuck]
#   vmtest: complaint: TEXT       kernel log/taint complaint (one failure each)
#   vmtest: FAILED: TEXT          setup failure (module load, device, ...)
#   vmtest: ===== end of run =====
# Kernel console lines ("[   12.345678] ...") are skipped: the guest reports
# what matters in them as complaints, and they stay in the saved serial log.
#
# Variables: demo=1 prints the demo's output verbatim; stats=FILE receives
# "passed failed skipped complaints endseen booted" at the end.

function out(s) {
	print s
	fflush()
}

function finalize(msg,    rc, name) {
	name = cur
	cur = ""
	rc = msg
	sub(/.* rc=/, "", rc)
	sub(/ .*/, "", rc)
	rc = rc + 0
	if (demo) {
		if (msg ~ / timeout=/) {
			failed++
			out("demo: timed out")
		} else if (rc != 0) {
			failed++
			out("demo: exited with status " rc)
		} else
			passed++
		return
	}
	passed += n_ok
	failed += n_notok
	skipped += n_skip
	if (msg ~ / timeout=/) {
		failed++
		t = msg
		sub(/.* timeout=/, "", t)
		sub(/ .*/, "", t)
		out(name ": not ok - vmtest: timed out after " t " s" (msg ~ / stuck/ ? ", stuck in the kernel (unkillable): remaining tests not run" : ""))
	} else if (rc != 0 && n_notok == 0) {
		if (rc == 4 && n_ok == 0) {
			# kselftest's KSFT_SKIP for the whole binary
			skipped++
			out(name ": ok - vmtest: whole binary # SKIP (exit status 4)")
		} else {
			failed++
			out(name ": not ok - vmtest: exited with status " rc (rc > 128 ? " (signal " rc - 128 ")" : "") " without a 'not ok' line")
		}
	} else if (plan >= 0 && n_ok + n_notok + n_skip < plan && n_notok == 0) {
		failed++
		out(name ": not ok - vmtest: planned " plan " tests, reported " n_ok + n_notok + n_skip)
	}
}

{ sub(/\r$/, "") }

/^vmtest: / {
	msg = substr($0, 9)
	if (msg ~ /^run /) {
		cur = substr(msg, 5)
		n_ok = n_notok = n_skip = 0
		plan = -1
	} else if (msg ~ /^exit /) {
		if (cur != "")
			finalize(msg)
	} else if (msg ~ /^complaint: /) {
		complaints++
		out("complaint: " substr(msg, 12))
	} else if (msg ~ /^FAILED: /) {
		failed++
		out("not ok - vmtest: " substr(msg, 9))
	} else if (msg == "===== end of run =====") {
		endseen = 1
	} else {
		if (msg ~ /^boot done/)
			booted = 1
		out("# " msg)
	}
	next
}

/^\[ *[0-9]+\.[0-9]+\]/ { next }

cur != "" {
	if (demo) {
		out($0)
		next
	}
	out(cur ": " $0)
	if ($0 ~ /^(not )?ok [0-9]+/) {
		if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
			n_skip++
		else if ($0 ~ /^ok/)
			n_ok++
		else
			n_notok++
	} else if ($0 ~ /^1\.\.[0-9]+/) {
		plan = substr($0, 4)
		sub(/[^0-9].*/, "", plan)
		plan = plan + 0
	}
}

END {
	if (cur != "") {
		passed += n_ok
		failed += n_notok + 1
		skipped += n_skip
		out(cur ": not ok - vmtest: did not finish (the machine stopped or crashed)")
	}
	if (stats != "")
		print passed + 0, failed + 0, skipped + 0, complaints + 0, endseen + 0, booted + 0 >stats
}
