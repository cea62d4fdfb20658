#!/usr/bin/env bash
# C# find-usages against the compiler: NUnit 2.6.4's framework library (164
# files, 21.6k lines; Debian's nunit source package), its references read
# out of Mono's build of it (tests/eval/cs_oracle.sh), then scored by
# tests/eval/oracle_usages.py (precision and recall per kind of definition).
#   tests/eval/csharp_usages.sh [WORK] [--dowse BIN]     (WORK: .eval-csharp-usages)
# Needs apt-get (Debian's archive: the source package, and Mono:
# apt-get install mono-mcs libmono-cecil-private-cil
# libmono-compilerservices-symbolwriter4.0-cil libmono-system-web4.0-cil) and a release build of dowse.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mkdir -p "${1:-$repo/.eval-csharp-usages}" && cd "${1:-$repo/.eval-csharp-usages}" && pwd)"
shift || true
tarball=nunit_2.6.4+dfsg.orig.tar.bz2
sha256=daebaa04b4a4ccd2ecf120e8d6f315ef51092d06a6aa42223a12fc2cee3dd361
if [ ! -d "$work/corpus" ]; then
    mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/dl"
    cat > "$work/apt/parts/debian-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/apt/parts"
         -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache")
    apt-get "${apt[@]}" update -qq
    # Only the upstream tarball is used (Debian's packaging files are not,
    # and may fail to come: the checksum below is what counts).
    (cd "$work/dl" && apt-get "${apt[@]}" source --download-only -qq nunit=2.6.4+dfsg-1.1) \
        > "$work/apt.log" 2>&1 || true
    echo "$sha256  $work/dl/$tarball" | sha256sum --check --quiet
    tar -xjf "$work/dl/$tarball" -C "$work/dl"
    cp -r "$work/dl/nunit-2.6.4/src/NUnitFramework/framework" "$work/corpus"
fi
# The build NUnit's own project files describe: .NET 4 with generics.
"$repo/tests/eval/cs_oracle.sh" "$work/corpus" -r:System.Configuration -r:System.Web \
    -define:CLR_4_0 -define:NET_4_0 > "$work/targets.jsonl" 2> "$work/build.log"
python3 "$repo/tests/eval/oracle_usages.py" "$work/corpus" "$work/targets.jsonl" \
    --json "$work/usages-report.json" "$@"
