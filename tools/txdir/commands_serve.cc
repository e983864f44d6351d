// Commands registered by AddXCommands; see cli.h for the list.
#include "tools/txdir/cli.h"

namespace txdir::cli {

void AddServeCommands(CLI::App& /*app*/, Globals& /*g*/, Runner* /*run*/) {}

}  // namespace txdir::cli
