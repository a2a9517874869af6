# The scale phase of bench/run (BENCH_MODE=scale only; it needs ~25 GB of disk and minutes to
# build): sourced by bench/run, whose variables ($bin, $out, $db_url, $server_url, $drive,
# $source_url, $config) and functions (bench, start_hookgate, stop_hookgate) it uses.
# 1. builds BENCH_SCALE_EVENTS events (20,000,000) received over BENCH_SCALE_DAYS days (30),
#    each delivered at its first attempt, in the database hookgate_bench_scale, by SQL
#    (bench/scale_dataset.sql); with BENCH_SCALE_REUSE=1 a database left by an earlier run
#    that holds at least as many events is used as it is;
# 2. the table and index sizes, then for BENCH_SCALE_ROUNDS (2) rounds the ingest role, closed
#    loop, on an empty database, on the large one, and on the large one while hookgate's
#    retention purge (its own code, run by the bench) clears the events older than
#    BENCH_SCALE_PURGE_DAYS (28: the partly filled oldest day partition and the full day after
#    it): rate and CPU per event of each, the three taken in turn so the machine's swings fall
#    on all of them alike;
# 3. the purge alone until those days are gone or BENCH_SCALE_PURGE_SECS (300) have passed,
#    and the sizes again;
# 4. with BENCH_SCALE_CYCLES=N (0), N retention cycles as a live gateway goes through them, day
#    after day: the ingest role adds a day's worth of events (BENCH_SCALE_EVENTS /
#    BENCH_SCALE_DAYS, open loop over BENCH_SECS), retention purges one more day (the purge
#    alone, at most BENCH_SCALE_PURGE_SECS), and the sizes are read after each cycle, so
#    whether the space freed by retention is reused (autovacuum left to do its work) or the
#    tables keep growing shows in the series.
# shellcheck shell=bash

scale_events="${BENCH_SCALE_EVENTS:-20000000}"
scale_days="${BENCH_SCALE_DAYS:-30}"
scale_rounds="${BENCH_SCALE_ROUNDS:-2}"
scale_purge_days="${BENCH_SCALE_PURGE_DAYS:-28}"
scale_reuse="${BENCH_SCALE_REUSE:-0}"
scale_purge_secs="${BENCH_SCALE_PURGE_SECS:-300}"
scale_cycles="${BENCH_SCALE_CYCLES:-0}"
# The cycles' new events are the size of the dataset's (bench/scale_dataset.sql), so a day in
# takes the space a day purged gave back.
scale_body_bytes=300

# Starts `hookgate serve ARGS` like start_hookgate, on the large database, which it keeps.
start_hookgate_on_scale() {
  local name="$1"
  shift
  DATABASE_URL="$scale_db" REDIS_URL="" "$hookgate" serve --config "$config" "$@" \
    >"$out/hookgate-$name.log" 2>&1 &
  hookgate_pid=$!
  pids+=("$hookgate_pid")
  local _
  for _ in $(seq 600); do
    if curl -fsS "http://$admin/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$hookgate_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$out/hookgate-$name.log" >&2
  hg_die "hookgate ($name) did not become ready"
}

# Leaves the large database as a live gateway would have it after a run, so every run on it
# starts alike: the deliveries the ingest role left pending are marked delivered, as workers
# would have done, and vacuumed away (left pending, they piled up run after run, 3.5 million
# after a few, and every hookgate's queue gauge, which counts them every 5 s, came to cost more
# Postgres CPU than the ingest being measured); and the run's rows are counted into the stats
# rollup, as hookgate's background fold does a minute after they arrive (left to the next
# run's hookgate, its first fold read the previous run's ~200,000 events and deliveries back
# inside that run's measured seconds, which a run on the empty database never pays).
scale_settle() {
  psql -q "$scale_db" -c "UPDATE deliveries SET state = 'delivered', attempts = 1,
      lease_until = NULL, last_status = 200, updated_at = now()
    WHERE state IN ('pending', 'in_flight')" -c "VACUUM deliveries"
  bench fold-stats --database-url "$scale_db"
}

# The events the large database holds, or nothing when it does not exist.
scale_db_events() {
  psql -Atq "$scale_db" -c "SELECT count(*) FROM events" 2>/dev/null || true
}

scale_build() {
  local held
  held="$(scale_db_events)"
  if [ "$scale_reuse" = 1 ] && [ -n "$held" ] && [ "$held" -ge "$scale_events" ]; then
    hg_log "scale: reusing hookgate_bench_scale ($held events)"
    return
  fi
  hg_log "scale: building $scale_events events over $scale_days days (bench/scale_dataset.sql)"
  bench db-create "$scale_db"
  DATABASE_URL="$scale_db" "$hookgate" migrate --config "$config" >/dev/null
  local started
  started="$(date +%s)"
  psql -q "$scale_db" -v events="$scale_events" -v days="$scale_days" -f bench/scale_dataset.sql
  printf '{"events": %s, "days": %s, "secs": %s}\n' "$scale_events" "$scale_days" \
    "$(($(date +%s) - started))" >"$out/scale-build.json"
}

scale_phase() {
  scale_db="${server_url%/*}/hookgate_bench_scale"
  hg_ensure_psql
  scale_build
  scale_settle
  bench sizes --database-url "$scale_db" --label "before retention" \
    --out "$out/scale-sizes-before.json"
  local round
  for round in $(seq "$scale_rounds"); do
    hg_log "scale: ingest role on an empty database, round $round"
    start_hookgate "scale-empty-$round" --role ingest
    bench load --url "$source_url" "${drive[@]}" --watch-pid "$hookgate_pid" \
      --out "$out/scale-empty-$round.json"
    stop_hookgate
    hg_log "scale: ingest role on the large database, round $round"
    start_hookgate_on_scale "scale-full-$round" --role ingest
    bench load --url "$source_url" "${drive[@]}" --watch-pid "$hookgate_pid" \
      --out "$out/scale-full-$round.json"
    stop_hookgate
    scale_settle
    hg_log "scale: ingest role on the large database while retention purges (older than $scale_purge_days days), round $round"
    start_hookgate_on_scale "scale-retention-$round" --role ingest
    bench purge --database-url "$scale_db" --days "$scale_purge_days" --secs "$secs" \
      --out "$out/scale-purge-during-$round.json" &
    local purge_pid=$!
    pids+=("$purge_pid")
    bench load --url "$source_url" "${drive[@]}" --watch-pid "$hookgate_pid" \
      --out "$out/scale-retention-$round.json"
    wait "$purge_pid"
    stop_hookgate
    scale_settle
  done
  hg_log "scale: retention alone (older than $scale_purge_days days), at most $scale_purge_secs s"
  bench purge --database-url "$scale_db" --days "$scale_purge_days" --secs "$scale_purge_secs" \
    --out "$out/scale-purge-rest.json"
  bench sizes --database-url "$scale_db" --label "after retention" \
    --out "$out/scale-sizes-after.json"
  scale_retention_cycles
}

# Step 4: BENCH_SCALE_CYCLES days of a live gateway, each adding a day's events and purging
# the oldest day left (scale-cycle-load-N.json, scale-cycle-purge-N.json,
# scale-cycle-sizes-N.json).
scale_retention_cycles() {
  local cycle days_kept
  local per_day="$((scale_events / scale_days))"
  local rate="$((per_day / secs > 0 ? per_day / secs : 1))"
  for cycle in $(seq "$scale_cycles"); do
    days_kept="$((scale_purge_days - cycle))"
    if [ "$days_kept" -lt 1 ]; then break; fi
    hg_log "scale: retention cycle $cycle: $per_day new events at $rate/s, then purging all older than $days_kept days"
    start_hookgate_on_scale "scale-cycle-$cycle" --role ingest
    bench load --url "$source_url" "${common[@]}" --connections "$connections" \
      --duration-secs "$secs" --rate "$rate" --body-bytes "$scale_body_bytes" \
      --watch-pid "$hookgate_pid" --out "$out/scale-cycle-load-$cycle.json"
    stop_hookgate
    scale_settle
    bench purge --database-url "$scale_db" --days "$days_kept" --secs "$scale_purge_secs" \
      --out "$out/scale-cycle-purge-$cycle.json"
    bench sizes --database-url "$scale_db" --label "after retention cycle $cycle" \
      --out "$out/scale-cycle-sizes-$cycle.json"
  done
}
