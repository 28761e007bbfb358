#!/bin/sh
# Makes the man pages from docs/ with pandoc: fieldgate(1) from docs/man/fieldgate.1.md, and
# fieldgate.toml(5) from docs/man/fieldgate.toml.5.md around docs/configuration.md, so the manual and the
# configuration reference cannot drift apart.
#
#   docs/man/make-man.sh OUTDIR VERSION
set -eu
out=$1
version=$2
here=$(cd "$(dirname "$0")" && pwd)
docs=$(dirname "$here")
mkdir -p "$out"

page() { # page NAME SECTION SOURCES...
  name=$1 section=$2
  shift 2
  pandoc --standalone --from markdown --to man --lua-filter "$here/man-tables.lua" \
    --metadata title="$(echo "$name" | tr a-z A-Z)" --metadata section="$section" \
    --metadata header="fieldgate manual" --metadata footer="fieldgate $version" \
    --metadata date="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)" \
    "$@" --output "$out/$name.$section.tmp"
  # Ragged right (.ad l) and no hyphenation (.nh, and pandoc's .hy dropped): the narrow columns of the
  # reference tables cannot be justified without gaps (groff warns "cannot adjust line"), and keys and
  # values such as client_id must not be split at a hyphen.
  sed -e '/^\.TH /a .ad l\n.nh' -e '/^\.hy$/d' "$out/$name.$section.tmp" >"$out/$name.$section"
  rm "$out/$name.$section.tmp"
}

page fieldgate 1 "$here/fieldgate.1.md"
page fieldgate.toml 5 "$here/fieldgate.toml.5.md" "$docs/configuration.md" "$here/fieldgate.toml.5-see-also.md"
