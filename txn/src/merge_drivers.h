// The merge drivers a repository handle consults (merge_driver.h), and the
// built-in one for SDN tables. Internal; not installed.
#pragma once

#include <memory>
#include <vector>

#include "txdir/merge_driver.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

using MergeDrivers = std::vector<std::shared_ptr<const MergeDriver>>;

// Merges "*.sdn" (sdn::IsTablesPath) record by record (MergeDocument of
// record_merge.h). Its Cache keeps each side parsed, by blob id, parse
// errors included. One instance for the process; it has no state.
const std::shared_ptr<const MergeDriver>& SdnTablesDriver();

// `r`'s drivers in the order a merge consults them: those AddMergeDriver
// added, then SdnTablesDriver.
MergeDrivers MergeDriversOf(const Repository::Impl& r);

}  // namespace txdir::internal
