// HTML for `txdir serve`: escaping, the page frame, and SDN tables rendered
// as HTML tables, alone or as a record diff between two versions.
//
// Every piece of text that comes from a repository (file names, messages,
// authors, cells) goes through Escape; attribute values are always quoted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "txdir/sdn.h"

namespace txdir::serve {

// Escapes & < > " ' for text and quoted attribute values.
std::string Escape(std::string_view text);

// A complete HTML document: title, the shared style sheet, a navigation
// bar and `body` (already HTML).
std::string Page(std::string_view title, std::string_view body);

// One SDN table as <table class="sdn">, with its name as caption.
std::string RenderTable(const sdn::Table& table);

struct RecordDiffCounts {
  size_t added = 0, removed = 0, changed = 0, unchanged = 0;
};

// The record-level difference of two versions of an SDN file: for each
// table name, records are matched by their "id" column (else the first
// column; a repeated key is numbered by occurrence). Added rows get class
// "added", removed rows "removed", changed rows "changed" with each
// differing cell marked class "cell-changed" (old value in <del>, new in
// <ins>). Unchanged records are counted, not shown. Tables only in one
// version are shown whole as added or removed.
std::string RenderRecordDiff(const sdn::Document& before, const sdn::Document& after,
                             RecordDiffCounts* counts);

}  // namespace txdir::serve
