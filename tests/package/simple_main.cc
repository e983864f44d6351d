// Uses txdir::simple: a Todo record to a row and back.
#include <txdir/simple_records.h>

#include <cstdio>
#include <string>

int main() {
  txdir::Todo todo;
  todo.id = "7";
  todo.description = "ship it";
  todo.line = 42;
  const txdir::Row row = txdir::RecordToRow(todo);
  txdir::Todo back;
  if (auto ok = txdir::RecordFromRow(row, back); !ok || !(back == todo)) {
    (void)std::fprintf(stderr, "txdir_package_simple_user: the record did not round-trip\n");
    return 1;
  }
  std::printf("a %s record of %zu fields round-tripped\n",
              std::string(txdir::RecordTraits<txdir::Todo>::kTable).c_str(), row.size());
  return 0;
}
