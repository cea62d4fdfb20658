#!/usr/bin/env bash
# Usages targets for C#, Mono's C# compiler as the oracle (tests/eval/CsOracle.cs):
#   tests/eval/cs_oracle.sh CORPUS_DIR [MCS_OPTION...] > targets.jsonl
# Builds the corpus's .cs files into one library with debugging information
# (MCS_OPTIONS: the references it needs, e.g. -r:System.Configuration), then
# reads the references out of it. Needs Debian's Mono: apt-get install
# mono-mcs libmono-cecil-private-cil libmono-compilerservices-symbolwriter4.0-cil
# (the compiler, Mono.Cecil 0.11 and the reader of mcs's symbol files).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$(cd "${1:?usage: cs_oracle.sh CORPUS_DIR [MCS_OPTION...]}" && pwd)"
shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cecil=(/usr/lib/mono/gac/Mono.Cecil/0.11.*/Mono.Cecil.dll)
# mcs reports errors on stdout, which is the targets' here.
mcs -nologo -r:"${cecil[0]}" -r:Mono.CompilerServices.SymbolWriter -out:"$work/oracle.exe" \
    "$here/CsOracle.cs" >&2
# AssemblyInfo.cs only holds assembly attributes, whose key files and
# versions come from the build around the sources.
find "$corpus" -name '*.cs' ! -name AssemblyInfo.cs -print0 | sort -z > "$work/files"
xargs -0 mcs -nologo -target:library -debug -nowarn:1699,618,612,414,169,649,219,168,3021 \
    -out:"$work/corpus.dll" "$@" < "$work/files" >&2
# The symbols the build defined decide which `#if` branches were compiled.
defines=()
for option in "$@"; do
    case "$option" in
        -define:*|-d:*) IFS=';,' read -r -a more <<< "${option#*:}"; defines+=("${more[@]}") ;;
    esac
done
mono "$work/oracle.exe" "$corpus" "$work/corpus.dll" "${defines[@]}"
