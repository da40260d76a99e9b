# SPDX-License-Identifier: Apache-2.0
#
# Sourced by scripts/demo and the release tests: the savepoint story of
# examples/jobs/sums/ with the `weir` binary.
#
#   1. run the job (detached) on the first half of the purchases;
#   2. take a savepoint, then cancel the job;
#   3. change the job: version 2 adds an operator (the largest purchase per
#      user, which starts empty);
#   4. resume version 2 from the savepoint while the second half arrives;
#   5. stop it with a savepoint: the totals continued exactly where they
#      were, and equal the sums of the whole file.
#
# The caller sets WEIR to the command that runs `weir` (an array: the
# binary, or a wrapper that runs it in a chroot or under qemu) and calls
# story_prepare DIR then story_run in DIR. Every path given to weir is
# relative to DIR, which must be weir's working directory too.

# story_prepare DIR SOURCE_DIR: fills the empty DIR with the two job files
# from SOURCE_DIR (examples/jobs/sums), the configuration and the purchases.
story_prepare() {
  local dir=$1 src=$2
  cp "$src/sums.yaml" "$src/sums-v2.yaml" "$dir/"
  cat > "$dir/conf.yaml" <<'EOF'
rest.port: 0
state.backend.type: rocksdb
state.backend.local-dir: state
execution.checkpointing.dir: checkpoints
execution.checkpointing.interval: 1s
execution.checkpointing.savepoint-dir: savepoints
EOF
  # 4000 purchases of 12 users, deterministic; the job sees the first half,
  # then the rest.
  awk 'BEGIN { srand(7); for (i = 0; i < 4000; i++)
    printf "user%d,%d\n", int(rand() * 12), 1 + int(rand() * 100) }' \
    > "$dir/all.csv"
  head -n 2000 "$dir/all.csv" > "$dir/events.csv"
}

# Lines published under out/totals (staged and in-progress files start
# with a dot and are not counted).
story_published() { cat out/totals/part-* 2>/dev/null | wc -l; }

story_wait_published() {
  local _
  for _ in $(seq 600); do
    (($(story_published) >= $1)) && return 0
    sleep 0.1
  done
  echo "story: the job did not publish $1 lines in 60 s" >&2
  return 1
}

# The last total of each user in the published files.
story_totals() {
  cat out/totals/part-* |
    awk -F, '{t[$1] = $2} END {for (u in t) print u, t[u]}' | sort -V
}

story_job_id() {
  sed -n 's/^Job has been submitted with JobID \([0-9a-f]*\)$/\1/p' "$1"
}

# story_run [WEIR RUN ARGUMENT...]: tells the story in the current directory
# (prepared by story_prepare); the arguments go to both `weir run`s. Prints
# what happens; returns non-zero if a step fails or a purchase was lost or
# counted twice.
story_run() {
  local job job2 savepoint before expected
  echo "==> 1. weir run -d sums.yaml (version 1), on the first 2000 purchases"
  "${WEIR[@]}" run -d -c conf.yaml "$@" sums.yaml | tee run1.out
  job=$(story_job_id run1.out)
  [[ -n $job ]] || { echo "story: weir run printed no JobID" >&2; return 1; }
  story_wait_published 2000 || return 1
  echo "    $(story_published) totals published (a checkpoint every second)"

  echo
  echo "==> 2. weir savepoint $job, then weir cancel $job"
  "${WEIR[@]}" savepoint "$job" | tee savepoint.out
  savepoint=$(sed -n 's/^Savepoint completed\. Path: //p' savepoint.out)
  [[ -n $savepoint ]] || { echo "story: no savepoint path" >&2; return 1; }
  "${WEIR[@]}" cancel "$job" || return 1
  echo
  echo "    what the savepoint holds:"
  "${WEIR[@]}" savepoint info "$savepoint" | sed 's/^/    /'
  echo
  echo "    totals so far:"
  story_totals | pr -4 -t -w 72 | sed 's/^/      /'
  before=$(story_published)

  echo
  echo "==> 3-4. weir run -s SAVEPOINT sums-v2.yaml (adds 'largest'), while the"
  echo "         other 2000 purchases arrive"
  "${WEIR[@]}" run -d -c conf.yaml -s "$savepoint" "$@" sums-v2.yaml |
    tee run2.out
  job2=$(story_job_id run2.out)
  [[ -n $job2 ]] || { echo "story: weir run printed no JobID" >&2; return 1; }
  tail -n +2001 all.csv >> events.csv
  story_wait_published 4000 || return 1

  echo
  echo "==> 5. weir stop $job2 (savepoint, then the job finishes)"
  "${WEIR[@]}" stop "$job2" || return 1
  echo
  echo "    totals now (continued from the savepoint):"
  story_totals | pr -4 -t -w 72 | sed 's/^/      /'
  echo "    published lines: $before before the savepoint +" \
    "$(($(story_published) - before)) after = $(story_published)" \
    "(one per purchase)"

  expected=$(awk -F, '{t[$1] += $2} END {for (u in t) print u, t[u]}' all.csv |
    sort -V)
  if [[ "$(story_totals)" != "$expected" || $(story_published) -ne 4000 ]]; then
    echo "story: the totals differ from the sums of all.csv" >&2
    diff <(story_totals) <(echo "$expected") >&2
    return 1
  fi
  echo "    OK: every purchase counted exactly once, across the savepoint and the upgrade"
  echo
  echo "    the new operator started empty and saw only the second half:"
  cat out/largest/part-* | awk -F, '{m[$1] = $2} END {for (u in m) print u, m[u]}' |
    sort -V | pr -4 -t -w 72 | sed 's/^/      /'
}
