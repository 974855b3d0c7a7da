#!/usr/bin/env bash
# Rebuilds ../src/libbzip2.wasm: libbzip2 1.0.8 and bzip2-shim.c compiled to one standalone
# WebAssembly module (no libc, no imports). The module is committed, so installs and CI never
# need a C compiler; run this only to change the shim or the library.
#
# Needs clang and lld (`apt-get install -y clang lld`). The libbzip2 sources come from
# $BZIP2_SOURCE (a directory holding bzlib.c and the rest), or else from `apt-get source bzip2`
# (Debian's package, with deb-src enabled in /etc/apt/sources.list.d; needs dpkg-dev).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
output="$here/../src/libbzip2.wasm"
source_dir=${BZIP2_SOURCE:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if [ -z "$source_dir" ]; then
  (cd "$scratch" && apt-get source bzip2 >/dev/null 2>&1)
  source_dir=$(echo "$scratch"/bzip2-*/)
fi
# The shim and the committed module are written against this version.
grep -q '#define BZ_VERSION  "1.0.8' "$source_dir/bzlib_private.h" || { echo "build.sh: $source_dir is not libbzip2 1.0.8" >&2; exit 1; }

objects=()
for unit in blocksort huffman crctable randtable compress decompress bzlib; do
  clang --target=wasm32 -O2 -nostdlib -ffreestanding -mbulk-memory -DBZ_NO_STDIO -I "$here/include" \
    -Wno-everything -c "$source_dir/$unit.c" -o "$scratch/$unit.o"
  objects+=("$scratch/$unit.o")
done
clang --target=wasm32 -O2 -nostdlib -ffreestanding -mbulk-memory -DBZ_NO_STDIO -I "$here/include" -I "$source_dir" \
  -Wall -Wextra -Werror -c "$here/bzip2-shim.c" -o "$scratch/shim.o"
wasm-ld --no-entry --strip-all --export-dynamic "${objects[@]}" "$scratch/shim.o" -o "$output"
echo "build.sh: wrote $output ($(wc -c < "$output") bytes)"
