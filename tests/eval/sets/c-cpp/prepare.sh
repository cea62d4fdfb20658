#!/usr/bin/env bash
# Builds this set's corpus from the pinned PyPI source distribution: ./prepare.sh OUTDIR
#   OUTDIR/original/  the included files as published
#   OUTDIR/corpus/    the same with XML documentation (`///` lines) removed (the corpus root that
#                     the queries' line numbers refer to)
# Needs python3 (standard library) and pip with access to PyPI.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$HERE/../tools/prepare.py" "$HERE" "${1:?usage: prepare.sh OUTDIR}"
