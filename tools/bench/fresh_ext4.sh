#!/bin/bash
# Runs one benchmark program in a file system nobody has used yet: an ext4
# image made for the run on the same disk, loop-mounted, removed afterwards.
#
#   sudo tools/bench/fresh_ext4.sh [--journal|--no-journal] [--size 4G] -- PROGRAM [ARGS...]
#
# PROGRAM gets `--dir MOUNT_POINT` appended (every txdir-*-bench takes it).
# Why: on an ext4 without a journal every file creation scans past the
# inodes deleted in the last minutes (docs/performance.md, "Creating files
# on this machine"), so figures taken on a disk that other work has just
# used swing by 2-3x. A fresh image removes that history and nothing else:
# same kind of file system (by default with a journal exactly when the file
# system holding the image has one), same disk, same flushes (a loop device
# passes each flush on as an fsync of the image file).
#
# Needs root (mkfs, mount). The image goes to $TXDIR_FRESH_IMAGE_DIR
# (default /var/tmp).
set -euo pipefail

usage() {
  sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

journal=auto
size=4G
while [ $# -gt 0 ]; do
  case "$1" in
    --journal) journal=yes ;;
    --no-journal) journal=no ;;
    --size) size=${2:?--size needs a value}; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "fresh_ext4.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done
[ $# -ge 1 ] || usage
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh_ext4.sh: needs root (it makes and mounts a file system)" >&2
  exit 2
fi

image_dir=${TXDIR_FRESH_IMAGE_DIR:-/var/tmp}
if [ "$journal" = auto ]; then
  # jbd2 lists each journal it runs as /proc/fs/jbd2/<device>-8.
  dev=$(stat -c '%Hd:%Ld' "$image_dir")
  name=$(basename "$(readlink "/sys/dev/block/$dev")")
  if [ -d "/proc/fs/jbd2/$name-8" ]; then journal=yes; else journal=no; fi
fi

image=$(mktemp "$image_dir/txdir-fresh-ext4.XXXXXX")
mnt=$(mktemp -d /tmp/txdir-fresh-mnt.XXXXXX)
cleanup() {
  umount "$mnt" 2>/dev/null || true
  rmdir "$mnt" 2>/dev/null || true
  rm -f "$image"
}
trap cleanup EXIT

truncate -s "$size" "$image"
if [ "$journal" = yes ]; then
  mkfs.ext4 -q -F "$image"
else
  mkfs.ext4 -q -F -O ^has_journal "$image"
fi
mount -o loop "$image" "$mnt"
chmod 1777 "$mnt"
echo "fresh_ext4.sh: $size ext4 ($( [ "$journal" = yes ] && echo journal || echo no journal )) at $mnt, image $image" >&2
"$@" --dir "$mnt"
