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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char* what, const char* path) {
  (void)fprintf(stderr, "txdir-swapdir-publish: %s %s: %m\n", what, path);
  return 1;
}

static int copy_file(int src_dir, int dst_dir, const char* name) {
  int in = openat(src_dir, name, O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail("cannot open", name);
  int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    (void)close(in);
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
  (void)close(in);
  if (close(out) != 0 && rc == 0) rc = fail("cannot close", name);
  return rc;
}

/* "g" and the decimal digits of n, into out (at least 24 bytes). */
static void gen_name(long n, char* out) {
  char digits[21];
  int len = 0;
  do {
    digits[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0 && len < 20);
  out[0] = 'g';
  for (int i = 0; i < len; ++i) out[1 + i] = digits[len - 1 - i];
  out[1 + len] = '\0';
}

int main(int argc, char** argv) {
  if (argc != 3) {
    (void)fputs("usage: txdir-swapdir-publish SRC ROOT\n", stderr);
    return 2;
  }
  const char* src = argv[1];
  const char* root_path = argv[2];
  int root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return fail("cannot open", root_path);
  char target[64], gen[24];
  long n = 0;
  ssize_t len = readlinkat(root, "current", target, sizeof target - 1);
  if (len > 1 && target[0] == 'g') {
    target[len] = '\0';
    n = strtol(target + 1, NULL, 10);
  }
  gen_name(n + 1, gen);
  if (mkdirat(root, gen, 0755) != 0) return fail("cannot create", gen);

  DIR* in = opendir(src);
  if (!in) return fail("cannot open", src);
  int dst = openat(root, gen, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0) return fail("cannot open", gen);
  struct dirent* e;
  while ((e = readdir(in)) != NULL) {
    struct stat st;
    if (fstatat(dirfd(in), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return fail("cannot stat", e->d_name);
    if (!S_ISREG(st.st_mode)) continue;
    if (copy_file(dirfd(in), dst, e->d_name) != 0) return 1;
  }
  (void)closedir(in);
  if (fsync(dst) != 0) return fail("cannot fsync", gen);
  (void)close(dst);

  (void)unlinkat(root, "current.tmp", 0);
  if (symlinkat(gen, root, "current.tmp") != 0) return fail("cannot create", "current.tmp");
  if (renameat(root, "current.tmp", root, "current") != 0)
    return fail("cannot rename", "current.tmp");
  if (fsync(root) != 0) return fail("cannot fsync", root_path);
  return 0;
}
