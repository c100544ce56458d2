#!/usr/bin/env bash
# Rampart's dpkg version comparison (rampart_core::version::deb::compare) against Debian's
# own libapt-pkg (debVS.CmpVersion), timed on the same pairs, printed side by side.
#
# The pairs come from this machine's installed packages (dpkg-query): each version
# against the version an advisory would name as fixed (its last number one higher), both
# ways, against its neighbour in sorted order, and every fourth one against itself.
# Without dpkg-query the Rust bench's generated list is used instead.
#
# Usage: bench/vercmp-vs-apt.sh [--criterion]
#   --criterion  also run the full criterion bench (deb, rpm and apk) on the same pairs
# Needs g++ and libapt-pkg-dev (installed by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

work="${TMPDIR:-/tmp}/rampart-vercmp-vs-apt"
mkdir -p "$work"
pairs="$work/pairs.tsv"

if command -v dpkg-query >/dev/null; then
  source="installed packages (dpkg-query)"
  dpkg-query -W -f '${Version}\n' | sort -u | awk '
    function bump(v,   rest, num) {
      if (!match(v, /[0-9]+[^0-9]*$/)) return v ".1"
      rest = substr(v, RSTART)
      match(rest, /^[0-9]+/)
      num = substr(rest, 1, RLENGTH)
      return substr(v, 1, length(v) - length(rest)) sprintf("%.0f", num + 1) substr(rest, RLENGTH + 1)
    }
    NF { versions[n++] = $0 }
    END {
      for (i = 0; i < n; i++) {
        v = versions[i]; fixed = bump(v)
        print v "\t" fixed
        print fixed "\t" v
        if (i + 1 < n) print v "\t" versions[i + 1]
        if (i % 4 == 0) print v "\t" v
      }
    }' >"$pairs"
else
  source="generated list (no dpkg-query here)"
  RAMPART_VERCMP_WRITE_PAIRS="$pairs" cargo bench -q -p rampart-core --bench version
fi
echo "pairs: $(wc -l <"$pairs") from $source, in $pairs"

g++ -O2 -std=c++17 -o "$work/vercmp-apt" bench/vercmp-apt/main.cc -lapt-pkg
apt_line=$("$work/vercmp-apt" "$pairs")
rust_line=$(RAMPART_VERCMP_PAIRS="$pairs" RAMPART_VERCMP_TIMING=deb cargo bench -q -p rampart-core --bench version |
  grep '^rampart deb::compare')

echo
echo "$apt_line"
echo "$rust_line"
apt_ns=$(sed -E 's/.*: ([0-9.]+) ns.*/\1/' <<<"$apt_line")
rust_ns=$(sed -E 's/.*: ([0-9.]+) ns.*/\1/' <<<"$rust_line")
apt_counts=$(grep -oE '<[0-9]+ =[0-9]+ >[0-9]+' <<<"$apt_line")
rust_counts=$(grep -oE '<[0-9]+ =[0-9]+ >[0-9]+' <<<"$rust_line")
echo
printf '%-28s %10s\n' "implementation" "ns/cmp"
printf '%-28s %10s\n' "libapt-pkg debVS.CmpVersion" "$apt_ns"
printf '%-28s %10s\n' "rampart deb::compare" "$rust_ns"
if [ "$apt_counts" != "$rust_counts" ]; then
  echo "the two disagree on the pairs: libapt-pkg $apt_counts, rampart $rust_counts" >&2
  exit 1
fi
echo "both order the pairs alike: $rust_counts"

if [ "${1:-}" = "--criterion" ]; then
  RAMPART_VERCMP_PAIRS="$pairs" cargo bench -p rampart-core --bench version
fi
