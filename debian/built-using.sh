#!/bin/sh
# Prints the Built-Using value for the static archives given as arguments: the Debian source
# package and version each one came from, as "src (= version)", comma-separated, each source once.
# Debian Policy 7.8: a package that links static libraries names their sources, so that their
# licences and security fixes can be traced to the binary.
set -eu
for archive in "$@"; do
  package=$(dpkg-query --search "$(realpath "$archive")" | sed 's/: .*//' | head -n1)
  dpkg-query --show --showformat='${source:Package} (= ${source:Version})\n' "$package"
done | sort -u | paste -sd, - | sed 's/,/, /g'
