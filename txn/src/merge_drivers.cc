// Merge drivers (merge_driver.h): the registration on a repository handle
// and the built-in driver for SDN tables.
#include "txn/src/merge_drivers.h"

#include <map>
#include <utility>

#include "txdir/record_merge.h"
#include "txdir/sdn.h"

namespace txdir {

MergeSide::MergeSide(std::string id, std::function<Result<std::string>()> read)
    : id_(std::move(id)), read_(std::move(read)) {}

Result<std::string_view> MergeSide::bytes() const {
  if (!bytes_) bytes_ = read_();
  if (!*bytes_) return tl::unexpected(bytes_->error());
  return std::string_view(**bytes_);
}

Status AddMergeDriver(Repository& repo, std::shared_ptr<const MergeDriver> driver) {
  if (!driver) return MakeError(Code::kInvalidArgument, "no merge driver given");
  internal::ImplOf(repo).merge_drivers.push_back(std::move(driver));
  return Ok();
}

namespace internal {
namespace {

using DocPtr = std::shared_ptr<const sdn::Document>;

// Every side parsed in one commit, by blob id; a parse error is kept too,
// as it would be the same again.
class ParsedSides : public MergeDriver::Cache {
 public:
  Result<DocPtr> Parse(const MergeSide& side) {
    if (auto it = parsed_.find(side.id()); it != parsed_.end()) return it->second;
    const std::string_view text = TXDIR_TRY(side.bytes());
    Result<DocPtr> doc = sdn::Parse(text).map(
        [](sdn::Document d) { return std::make_shared<const sdn::Document>(std::move(d)); });
    parsed_.emplace(side.id(), doc);
    return doc;
  }

 private:
  std::map<std::string, Result<DocPtr>> parsed_;
};

class SdnTablesMergeDriver : public MergeDriver {
 public:
  bool Handles(const std::string& path) const override { return sdn::IsTablesPath(path); }

  std::unique_ptr<Cache> NewCache() const override { return std::make_unique<ParsedSides>(); }

  Result<MergeOutput> Merge(const MergeInput& in, Cache* cache) const override {
    ParsedSides own;  // called without the cache NewCache made: this merge's alone
    ParsedSides& parsed = cache ? static_cast<ParsedSides&>(*cache) : own;
    const DocPtr b = in.base ? TXDIR_TRY(ParseSide(parsed, in.path, *in.base, "the base"))
                             : std::make_shared<const sdn::Document>();
    const DocPtr o = TXDIR_TRY(ParseSide(parsed, in.path, in.ours, "this transaction's"));
    const DocPtr t = TXDIR_TRY(ParseSide(parsed, in.path, in.theirs, "the published"));
    auto merged = MergeDocument(*b, *o, *t, MergeOptions{.strategy = in.strategy});
    if (!merged) {
      Error e = merged.error();
      e.path = in.path;
      return tl::unexpected(e);
    }
    MergeOutput out;
    out.record_conflicts = std::move(merged->conflicts);
    out.renumbered = std::move(merged->renumbered);
    if (out.record_conflicts.empty()) out.bytes = sdn::Write(merged->document);
    return out;
  }

 private:
  // One side parsed; a text that is not SDN is InvalidArgument naming the side.
  static Result<DocPtr> ParseSide(ParsedSides& parsed, const std::string& path,
                                  const MergeSide& side, const char* name) {
    auto doc = parsed.Parse(side);
    if (!doc && doc.error().code == Code::kInvalidArgument)
      return MakeError(Code::kInvalidArgument,
                       std::string("cannot merge: ") + name +
                           " version is not valid SDN: " + doc.error().message,
                       path);
    return doc;
  }
};

}  // namespace

const std::shared_ptr<const MergeDriver>& SdnTablesDriver() {
  static const std::shared_ptr<const MergeDriver> driver =
      std::make_shared<const SdnTablesMergeDriver>();
  return driver;
}

MergeDrivers MergeDriversOf(const Repository::Impl& r) {
  MergeDrivers drivers = r.merge_drivers;
  drivers.push_back(SdnTablesDriver());
  return drivers;
}

}  // namespace internal
}  // namespace txdir
