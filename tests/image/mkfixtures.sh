#!/bin/sh
# Build the kernel-image fixtures for tests/image into DIR (default
# $PVBOOT_CACHE/fixtures, or build/cache/fixtures): small Xen ELF kernels
# assembled from tests/image/fixture.S, and bzImages wrapping the main one
# in each compression, made as Linux's build makes them (compress, then
# append the uncompressed size as a little-endian u32, except for gzip whose
# ISIZE already is one) behind a synthetic boot-protocol 2.15 setup header.
#
# Usage: tests/image/mkfixtures.sh [DIR]   (run from the repository root)
set -eu

src=tests/image/fixture.S
out=${1:-${PVBOOT_CACHE:-build/cache}/fixtures}
mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# lds NAME LMA PHDRS: a linker script linking at 0xffffffff81000000 (or
# 0xc1000000 for i386) with physical load address LMA.  PHDRS "note" gives
# a PT_NOTE segment for the notes; "nonote" keeps them in sections only;
# "note200" has 200 PT_NOTE segments all covering the same notes.
lds() {
	case $1 in
	*32*) fmt=elf32-i386 vma=0xc1000000 ;;
	*) fmt=elf64-x86-64 vma=0xffffffff81000000 ;;
	esac
	phdrs="text PT_LOAD FLAGS(7);"
	notes=":text"
	case $3 in
	note) n=1 ;;
	note200) n=200 ;;
	*) n=0 ;;
	esac
	while [ "$n" -gt 0 ]; do
		phdrs="$phdrs note$n PT_NOTE FLAGS(4);"
		notes="$notes :note$n"
		n=$((n - 1))
	done
	cat >"$tmp/$1.lds" <<EOF
OUTPUT_FORMAT("$fmt")
ENTRY(startup_xen)
PHDRS { $phdrs }
SECTIONS
{
	. = $vma;
	.text : AT($2) { *(.text) } :text
	.data : { *(.data) } :text
	.notes : { *(.note.*) } $notes
	. = ALIGN(0x1000);
	.bss : { *(.bss) . = ALIGN(0x1000); } :text
	__xen_guest 0 : { *(__xen_guest) } :NONE
	/DISCARD/ : { *(.note.GNU-stack) *(.comment) *(.note.gnu.property) }
}
EOF
}

# elf NAME LMA PHDRS [gcc flags...]: assemble and link one variant.
elf() {
	name=$1 lma=$2 ph=$3
	shift 3
	lds "$name" "$lma" "$ph"
	case $name in
	*32*) as32=-m32 ld32="-m elf_i386" ;;
	*) as32= ld32="-m elf_x86_64" ;;
	esac
	gcc $as32 -c "$@" "$src" -o "$tmp/$name.o"
	# shellcheck disable=SC2086
	ld $ld32 -static -nostdlib --build-id=none -z max-page-size=0x1000 \
		-z noseparate-code -z noexecstack --no-warn-rwx-segments -T "$tmp/$name.lds" "$tmp/$name.o" \
		-o "$tmp/$name.elf"
}

elf xen 0x1000000 note
elf shdr 0x1000000 nonote
elf legacy 0xffffffff81000000 nonote -DLEGACY
elf nonotes 0x1000000 note -DNO_NOTES
elf noversion 0x1000000 note -DNO_XEN_VERSION
elf bsdsyms 0x1000000 note -DBSD_SYMTAB
elf baddesc 0x1000000 note -DBAD_DESCSZ
elf badname 0x1000000 note -DBAD_NAMESZ
elf xen32 0x1000000 note -DBITS32
elf manynotes 0x1000000 note -DMANY_NOTES
elf overlap 0x1000000 note200

# Linux's size_append: the uncompressed size, 4 bytes little-endian.
size_append() {
	python3 -c 'import os, struct, sys
sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1])))' "$1"
}

# The commands of Linux's scripts/Makefile.lib (cmd_gzip, cmd_bzip2,
# cmd_xzkern via xz_wrap.sh for x86, cmd_lzma, cmd_lzo, cmd_lz4, cmd_zstd22).
compress() {
	in=$1
	case $2 in
	gzip) gzip -n -f -9 <"$in" ;;
	bzip2) { bzip2 -9 <"$in"; size_append "$in"; } ;;
	xz) { xz --check=crc32 --x86 --lzma2=,dict=32MiB <"$in"; size_append "$in"; } ;;
	lzma) { lzma -9 <"$in"; size_append "$in"; } ;;
	lzo) { lzop -9 <"$in"; size_append "$in"; } ;;
	lz4) { lz4 -l -12 --favor-decSpeed -c <"$in"; size_append "$in"; } ;;
	zstd) { zstd -q -22 --ultra <"$in"; size_append "$in"; } ;;
	esac
}

# bzimage PAYLOAD OUT: a setup header (setup_sects 3, protocol 2.15,
# payload 0x40 bytes into the protected-mode code), the payload, then 0x100
# bytes standing in for the rest of the decompressor.
bzimage() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
payload = open(sys.argv[1], "rb").read()
setup_sects = 3
setup = bytearray((setup_sects + 1) * 512)
setup[0x1f1] = setup_sects
setup[0x1fe:0x200] = b"\x55\xaa"
setup[0x202:0x206] = b"HdrS"
struct.pack_into("<H", setup, 0x206, 0x020f)
struct.pack_into("<II", setup, 0x248, 0x40, len(payload))
pm = b"\x90" * 0x40 + payload + b"\xcc" * 0x100
open(sys.argv[2], "wb").write(bytes(setup) + pm)
EOF
}

for c in gzip bzip2 xz lzma lzo lz4 zstd; do
	compress "$tmp/xen.elf" $c >"$tmp/xen.$c.payload"
	bzimage "$tmp/xen.$c.payload" "$tmp/xen.$c.bzImage"
done
rm -f "$tmp"/*.payload "$tmp"/*.o "$tmp"/*.lds

for f in "$tmp"/*; do
	mv -f "$f" "$out/"
done
echo "$out"
