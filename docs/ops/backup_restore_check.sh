#!/usr/bin/env bash
# Prove a backup restores: dump a Warden database (pg_dump, custom format), restore it into a
# fresh database on the same server, and compare the exact row count of every table (and that
# every sequence stands where new rows cannot reuse a key). Exit 0 when all match, 1 on any
# difference, 2 on bad usage. Safe on a live database: counts and dump share one snapshot.
#
#   docs/ops/backup_restore_check.sh postgres://user:pass@host:5432/warden [RESTORE_DB] [DUMP]
#
# RESTORE_DB (default: <db>_restore_check) must not exist: it is created, checked and dropped
# (set KEEP_RESTORE=1 to keep it). DUMP (default: a temporary file) is kept when given, so one
# run both takes tonight's backup and proves it restores. Needs pg_dump, pg_restore and psql of
# the server's major version or newer, and a role that may create databases.
set -euo pipefail

usage() { echo "usage: $0 POSTGRES_URL [RESTORE_DB] [DUMP_FILE]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
source_url="$1"
case "$source_url" in postgres://*|postgresql://*) ;; *) usage ;; esac

base="${source_url%%\?*}"          # the URL without ?options
query="${source_url#"$base"}"      # ?sslmode=… (or empty), reused for the restore
source_db="${base##*/}"
[ -n "$source_db" ] && [ "$source_db" != "$base" ] || { echo "$0: the URL names no database" >&2; exit 2; }
restore_db="${2:-${source_db}_restore_check}"
[[ "$restore_db" =~ ^[A-Za-z0-9_]+$ ]] || { echo "$0: RESTORE_DB must be letters, digits, _" >&2; exit 2; }
[ "$restore_db" != "$source_db" ] || { echo "$0: RESTORE_DB must differ from the source" >&2; exit 2; }
restore_url="${base%/*}/${restore_db}${query}"

workdir="$(mktemp -d)"
dump="${3:-$workdir/warden.dump}"
created=0
cleanup() {
  if [ "$created" = 1 ] && [ "${KEEP_RESTORE:-0}" != 1 ]; then
    psql "$source_url" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$restore_db\"" >/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

exists="$(psql "$source_url" -Atq -c "SELECT 1 FROM pg_database WHERE datname = '$restore_db'")"
if [ -n "$exists" ]; then
  echo "$0: database $restore_db already exists; drop it or name another" >&2
  exit 2
fi

# Exact counts of every table, and where every sequence stands, one line each: "kind name n".
SNAPSHOT_SQL="SELECT 'table', table_name,
       (xpath('/row/n/text()', query_to_xml(
          format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')
       ))[1]::text
  FROM information_schema.tables
 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'sequence', sequencename, coalesce(last_value, 0)::text
  FROM pg_sequences WHERE schemaname = 'public'
 ORDER BY 1, 2;"

started=$(date +%s)
# Count and dump the same instant, so the check can run against a live database: one session
# holds a repeatable-read transaction, exports its snapshot, counts inside it, and pg_dump
# reads that very snapshot.
coproc HOLD { psql "$source_url" -AtqX -F ' ' -v ON_ERROR_STOP=1; }
hold_in=${HOLD[1]} hold_out=${HOLD[0]}
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" >&"$hold_in"
read -r snapshot_id <&"$hold_out"
echo "$SNAPSHOT_SQL SELECT 'end-of-snapshot';" >&"$hold_in"
before=""
while read -r line <&"$hold_out"; do
  [ "$line" = "end-of-snapshot" ] && break
  before+="$line"$'\n'
done
pg_dump --format=custom --no-owner --no-privileges --snapshot="$snapshot_id" \
  --file="$dump" "$source_url"
echo "COMMIT;" >&"$hold_in"
exec {hold_in}>&-
wait "$HOLD_PID" 2>/dev/null || true
echo "dumped $source_db: $(wc -c <"$dump") bytes, $(grep -c '^table ' <<<"$before") tables"

psql "$source_url" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$restore_db\"" >/dev/null
created=1
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$restore_url" "$dump"
after="$(psql "$restore_url" -AtqX -F ' ' -v ON_ERROR_STOP=1 -c "$SNAPSHOT_SQL")"$'\n'

# Tables must hold exactly the rows of the snapshot. Sequences are not transactional (they
# move on outside any snapshot, and pg_dump reads them as it goes): a restored sequence must
# stand at or past the snapshot's value, so new rows never reuse a key.
report="$(awk '
  NR == FNR { want[$1 " " $2] = $3; next }
  { got[$1 " " $2] = $3 }
  END {
    for (k in want) {
      split(k, p, " ")
      if (!(k in got)) { print "missing from the restore: " k; bad = 1 }
      else if (p[1] == "table" && got[k] != want[k]) {
        print k ": " want[k] " rows in the source, " got[k] " restored"; bad = 1
      } else if (p[1] == "sequence" && got[k] + 0 < want[k] + 0) {
        print k ": at " want[k] " in the source, restored at " got[k]; bad = 1
      }
    }
    for (k in got) if (!(k in want)) { print "only in the restore: " k; bad = 1 }
    exit bad
  }' <(printf '%s' "$before") <(printf '%s' "$after"))" && ok=1 || ok=0

if [ "$ok" = 1 ]; then
  rows=$(awk '$1 == "table" { n += $3 } END { print n + 0 }' <<<"$before")
  echo "restored into $restore_db: every table and sequence matches ($rows rows) in $(( $(date +%s) - started ))s"
  exit 0
fi
echo "the restore differs from the source:" >&2
sort <<<"$report" >&2
exit 1
