#!/usr/bin/env bash
# Runs the libFuzzer targets one after the other for a bounded time each and prints what they
# reached (docs/reliability.md). Used by `make fuzz` and `make fuzz-smoke`.
#
#   tests/fuzz/run.sh <build-dir> <seconds-per-target> [target...]
#
# Each target starts from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/), so the
# corpus in the repository grows only when someone chooses to merge new inputs into it (see
# docs/reliability.md). The saved reproducers in tests/fuzz/regressions/<target>/ are read as a
# second corpus: every run replays them first. New inputs, crash artifacts and the full log of each
# target stay in <build-dir>/fuzz-work/<target>/. Exits non-zero when any target found a crash, a
# leak, a timeout or a violated invariant.
#
# Extra libFuzzer flags: FUZZ_ARGS="-only_ascii=1". One target runs at a time: the machines this
# runs on have two cores shared with the build and other work.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 <build-dir> <seconds-per-target> [target...]" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_targets=(cloudevent_structured cloudevent_batch cloudevent_binary cursor ws_frame ws_protocol
             log_recovery config event_record jwt proxy_request schema_verdict shared_records kafka_record
             http_server)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
work_root="$build_dir/fuzz-work"
mkdir -p "$work_root"

# Largest input per target. Segments and configuration files need more room than a header line;
# everything else keeps libFuzzer's default (4096, or the largest seed).
max_len_for() {
    case "$1" in
        log_recovery) echo 16384 ;;
        config) echo 8192 ;;
        http_server) echo 32768 ;;
        *) echo "" ;;
    esac
}

# libFuzzer flags particular to a target.
#  http_server runs the whole server in its process: the server's threads allocate and free while each input runs,
#  so libFuzzer's per-input malloc/free balance never matches and every input would set off a whole-heap leak scan
#  (leaks in the server are what the ASan suite finds, at each server's exit); and with the whole server
#  instrumented, the entropic schedule's feature bookkeeping took half the time of a run.
extra_args_for() {
    case "$1" in
        http_server) echo "-detect_leaks=0 -entropic=0" ;;
        *) echo "" ;;
    esac
}

# The dictionary of a target: dict/<target>.dict, or the one its family shares.
dict_for() {
    local name=$1
    case "$1" in
        cloudevent_structured | cloudevent_batch) name=cloudevent_json ;;
    esac
    if [ -f "$here/dict/$name.dict" ]; then echo "$here/dict/$name.dict"; fi
}

# A field of a libFuzzer status line ("cov", "ft", "corp"), and a -print_final_stats value.
status_field() { sed -nE "s/.* $1: ([^ ]+).*/\\1/p" <<<"$2"; }
final_stat() { sed -nE "s/^stat::$1:[[:space:]]+([0-9]+)/\\1/p" "$2" | tail -1; }

summary="$work_root/summary.md"
{
    echo "| target | result | seconds | execs | exec/s | cov | ft | corpus | peak RSS |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$summary"
failed=0

for t in "${targets[@]}"; do
    exe="$build_dir/fuzz/${t}_fuzz"
    if [ ! -x "$exe" ]; then
        echo "fuzz: $exe is missing (make fuzz-build)" >&2
        failed=1
        continue
    fi
    work="$work_root/$t"
    rm -rf "$work/corpus" "$work/artifacts"
    mkdir -p "$work/corpus" "$work/artifacts"
    if [ -d "$here/corpus/$t" ]; then cp -r "$here/corpus/$t/." "$work/corpus/"; fi
    corpora=("$work/corpus")
    if [ -d "$here/regressions/$t" ]; then corpora+=("$here/regressions/$t"); fi

    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
          -artifact_prefix="$work/artifacts/")
    dict=$(dict_for "$t")
    if [ -n "$dict" ]; then args+=(-dict="$dict"); fi
    # shellcheck disable=SC2207  # a list of flags
    args+=($(extra_args_for "$t"))
    max_len=$(max_len_for "$t")
    if [ -n "$max_len" ]; then args+=(-max_len="$max_len"); fi
    # shellcheck disable=SC2206  # FUZZ_ARGS is a list of flags, split on purpose
    args+=(${FUZZ_ARGS:-})

    echo "fuzz: $t for ${seconds}s"
    start=$(date +%s)
    "$exe" "${args[@]}" "${corpora[@]}" >"$work/log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))

    # libFuzzer's last status line ("#N DONE cov: C ft: F corp: K/B ...") and its final stats.
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -1)
    last_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$work/log" | tail -1)
    line=${done_line:-$last_line}
    cov=$(status_field cov "$line")
    ft=$(status_field ft "$line")
    corp=$(status_field corp "$line")
    execs=$(final_stat number_of_executed_units "$work/log")
    rate=$(final_stat average_exec_per_sec "$work/log")
    rss=$(final_stat peak_rss_mb "$work/log")
    if [ -z "$execs" ]; then execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line"); fi

    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc)"
        failed=1
        echo "fuzz: $t failed; log: $work/log" >&2
        grep -E 'ERROR: |fuzz invariant violated|SUMMARY: |Test unit written|^artifact_prefix' \
            "$work/log" | head -20 >&2
    fi
    echo "fuzz: $t: $result, ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}," \
         "corpus ${corp:-?}"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s MB |\n' "$t" "$result" "$elapsed" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" >>"$summary"
done

echo
cat "$summary"
echo
echo "fuzz: logs, new inputs and artifacts in $work_root"
exit $failed
