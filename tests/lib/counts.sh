# counts.sh - the counts of one suite's log (POSIX sh; run_all.sh and
# tests/package/run.sh source it).

# suite_counts LOG RC: prints "P F" from LOG's last "N passed, N failed"
# line; a suite that exited non-zero (RC) without counting a failure, or
# printed no such line, counts one failure.
suite_counts() {
    _line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    _p=$(echo "$_line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    _f=$(echo "$_line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    _p=${_p:-0}
    _f=${_f:-0}
    if [ "$2" -ne 0 ] && [ "$_f" -eq 0 ]; then
        _f=1
    fi
    echo "$_p $_f"
}
