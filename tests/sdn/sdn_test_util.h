// Helpers shared by the tests that check the edit guarantee on whole files
// (sdn_edit_test.cc on the fixtures, sdn_corpus_test.cc on a corpus named at
// run time): reading files, diffing by line, and an independent seal.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace txdir::sdn::testutil {

namespace fs = std::filesystem;

inline std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every *.sdn file under `dir`, sorted; none when `dir` is absent.
inline std::vector<fs::path> FilesUnder(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".sdn") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The lines of `after` that differ from `before`, once the common first and
// last lines are set aside: {removed, added}.
inline std::pair<std::vector<std::string>, std::vector<std::string>> ChangedLines(
    const std::string& before, const std::string& after) {
  auto a = Lines(before), b = Lines(after);
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  return {{a.begin() + head, a.end() - tail}, {b.begin() + head, b.end() - tail}};
}

// The seal line zlib's crc32 gives `text`'s body (everything after the first
// line's '\n'): a check of txdir's CRC-32 that shares none of its code.
inline std::string ZlibSealOf(const std::string& text) {
  std::string body = text.substr(text.find('\n') + 1);
  uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return "#sdn-crc32:" + std::to_string(crc);
}

// `text` without its first line when that line is a seal, so diffs of two
// writes of a sealed file compare bodies only.
inline std::string Body(const std::string& text, bool sealed) {
  return sealed ? text.substr(text.find('\n')) : text;
}

}  // namespace txdir::sdn::testutil
