/* txdir-swapdir-publish: the least a durable whole-set publish can do, as a
 * baseline for whole-process publish timings (txdir-process-bench).
 *
 *   txdir-swapdir-publish SRC ROOT
 *
 * Copies every regular file of SRC into a new directory ROOT/g<N+1> (each
 * file fsynced, then the directory), points a new symlink at it and renames
 * it over ROOT/current, then fsyncs ROOT: readers of ROOT/current see the
 * old set or the new one. N is what ROOT/current names (0 when absent).
 * No history, no checksums, no locking, no clean-up: a floor, not a tool.
 * Plain C and libc only, so its start-up is as cheap as a process gets. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char* what, const char* path) {
  (void)fprintf(stderr, "txdir-swapdir-publish: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

static int fsync_path(const char* path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open", path);
  int rc = fsync(fd);
  close(fd);
  return rc == 0 ? 0 : fail("cannot fsync", path);
}

static int copy_file(int src_dir, int dst_dir, const char* name) {
  int in = openat(src_dir, name, O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail("cannot open", name);
  int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    close(in);
    return fail("cannot create", name);
  }
  char buf[65536];
  int rc = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0) {
      rc = fail("cannot read", name);
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0) {
        rc = fail("cannot write", name);
        break;
      }
      off += w;
    }
    if (rc) break;
  }
  if (rc == 0 && fsync(out) != 0) rc = fail("cannot fsync", name);
  close(in);
  if (close(out) != 0 && rc == 0) rc = fail("cannot close", name);
  return rc;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    (void)fprintf(stderr, "usage: txdir-swapdir-publish SRC ROOT\n");
    return 2;
  }
  const char* src = argv[1];
  const char* root = argv[2];
  char path[4096], target[256], gen[64];
  long n = 0;
  (void)snprintf(path, sizeof path, "%s/current", root);
  ssize_t len = readlink(path, target, sizeof target - 1);
  if (len > 1 && target[0] == 'g') {
    target[len] = '\0';
    n = strtol(target + 1, NULL, 10);
  }
  (void)snprintf(gen, sizeof gen, "g%ld", n + 1);
  (void)snprintf(path, sizeof path, "%s/%s", root, gen);
  if (mkdir(path, 0755) != 0) return fail("cannot create", path);

  DIR* in = opendir(src);
  if (!in) return fail("cannot open", src);
  int dst = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0) return fail("cannot open", path);
  struct dirent* e;
  while ((e = readdir(in)) != NULL) {
    struct stat st;
    if (fstatat(dirfd(in), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return fail("cannot stat", e->d_name);
    if (!S_ISREG(st.st_mode)) continue;
    if (copy_file(dirfd(in), dst, e->d_name) != 0) return 1;
  }
  closedir(in);
  if (fsync(dst) != 0) return fail("cannot fsync", path);
  close(dst);

  char link_tmp[4096], link_path[4096];
  (void)snprintf(link_tmp, sizeof link_tmp, "%s/current.tmp", root);
  (void)snprintf(link_path, sizeof link_path, "%s/current", root);
  (void)unlink(link_tmp);
  if (symlink(gen, link_tmp) != 0) return fail("cannot create", link_tmp);
  if (rename(link_tmp, link_path) != 0) return fail("cannot rename", link_tmp);
  return fsync_path(root);
}
