// Queued writers for the group-commit crash scenarios (txn/src/group_commit.h):
// background `txdir db insert` processes that queue while the lock is held
// and only wait for their outcome (TXDIR_GROUP_FOLLOW_ONLY, testing builds),
// so that the command under test is the holder that commits them.
#pragma once

#include <string>
#include <vector>

namespace txdir::crash {

// How many writers StartQueuedWriters queues.
inline constexpr int kQueuedWriters = 3;

// `dir`/repo must hold todo.sdn with a `todos |id, status|` table. Starts
// the writers in the background (each inserts record 10+i with status
// `queued` and writes its exit code to `dir`/rc.<i>) and returns once all
// are queued. Throws std::runtime_error if they do not queue.
void StartQueuedWriters(const std::string& dir);

// After an interrupted holder and the invariants: a plain `txdir db set`
// takes in whatever is still queued. The writers were alive and waiting
// throughout, so each must then have exited 0 with its record in the table
// exactly once (landed in the holder's generation, answered by recovery
// from the head, or queued again by recovery and taken in by the draining
// write), and no queued transaction may be named by two generations.
// Returns the violations.
std::vector<std::string> CheckQueuedWriters(const std::string& dir);

}  // namespace txdir::crash
