#!/usr/bin/env bash
# Times every console page on a running hookgate: the median and the slowest of 15 signed-in
# requests each (time to first byte on the same machine: server time, give or take a fraction
# of a millisecond). For the 1,000,000-event figures in bench/RESULTS.md: a scratch database
# filled by bench/stats_dataset.sql, sources stripe, github, shopify and slack and destinations
# billing and ledger configured, one bulk replay created through the admin API.
#   ADMIN=http://127.0.0.1:8081 TOKEN=dev-admin-token bench/console_pages.sh EVENT_ID REPLAY_ID
set -euo pipefail
admin=${ADMIN:-http://127.0.0.1:8081}
token=${TOKEN:?the admin token}
event=${1:?an event id}
replay=${2:?a replay id}

# A session cookie in the documented format (src/console/session.rs), valid for an hour.
cookie=$(TOKEN="$token" python3 - <<'PY'
import base64, hashlib, hmac, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = hmac.new(os.environ["TOKEN"].encode(), b"hookgate console session", hashlib.sha256).digest()
expiry, nonce = int(time.time()) + 3600, b64(os.urandom(16))
mac = hmac.new(key, f"session.{expiry}.{nonce}".encode(), hashlib.sha256).digest()
print(f"{expiry}.{nonce}.{b64(mac)}")
PY
)

pages=(
  "/" "/events" "/events?source=stripe&status=dead" "/events?provider_event_id=evt_500000"
  "/events/$event" "/dead-letters" "/dead-letters?destination=billing"
  "/dead-letters?source=stripe" "/dead-letters?destination=billing&source=stripe&since=7d"
  "/dead-letters?since=1h" "/replays" "/replays/$replay" "/sources" "/destinations"
)
for page in "${pages[@]}"; do
  times=()
  for _ in $(seq 15); do
    answer=$(curl -s -o /dev/null -w "%{http_code} %{time_starttransfer}" \
      -b "hookgate_session=$cookie" "$admin$page")
    [ "${answer% *}" = 200 ] || { echo "$page: HTTP ${answer% *}" >&2; exit 1; }
    times+=("$(awk -v s="${answer#* }" 'BEGIN { printf "%.1f", s * 1000 }')")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-58s median %6s ms  slowest %6s ms\n' "$page" \
    "$(sed -n 8p <<<"$sorted")" "$(tail -1 <<<"$sorted")"
done
