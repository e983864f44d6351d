// txdir-serve: the web view behind `txdir serve`, in a program of its own
// so that only it loads the HTTP server's libraries (cli.h, ServeRunner).
// It parses the same command line as txdir and runs `serve` in-process.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "tools/serve/serve.h"
#include "tools/txdir/app.h"
#include "tools/txdir/cli.h"

namespace txdir::cli {

namespace {

// After a stop signal Run returns once the requests being answered are done
// (connections that only wait for their client notice at once). A request
// that takes longer (a diff of huge generations, a read of a huge file) must
// not keep the process alive: this long after the signal it exits anyway,
// abandoning the answer. Nothing is lost: serve only reads.
constexpr std::chrono::seconds kStopGrace{1};

int RunServe(const ServeArgs& a, const Globals& g) {
  auto options = serve::ParseAddress(a.addr, a.allow_public);
  if (!options) return UsageError(options.error().message);
  options->limits = a.limits;
  auto server = serve::Server::Open(a.dir, *options);
  if (!server) return Fail(server.error());

  // SIGINT/SIGTERM stop the server cleanly: blocked here (and so in the
  // HTTP threads created later), taken by one thread with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto port = (*server)->Bind();
  if (!port) return Fail(port.error());
  serve::Server* s = server->get();
  struct RunState {
    std::mutex mu;
    std::condition_variable cv;
    bool returned = false;  // Run has returned
  } state;
  std::thread stopper([stop_signals, s, &state] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    s->Stop();
    std::unique_lock<std::mutex> lock(state.mu);
    if (!state.cv.wait_for(lock, kStopGrace, [&] { return state.returned; })) std::_Exit(kExitOk);
  });
  // The stopper uses the server, so it must have finished before the server
  // is destroyed (a detached stopper could still be inside Stop() while the
  // server was freed: found by TSan). If Run ends without a signal, this
  // wakes it: the signals are blocked in every thread, so only its sigwait
  // takes the one sent here; after a signal it is gone or leaving.
  struct JoinStopper {
    std::thread& t;
    RunState& state;
    ~JoinStopper() {
      {
        std::lock_guard<std::mutex> lock(state.mu);
        state.returned = true;
      }
      state.cv.notify_all();
      // Not a kill: the stopper sigwait()s for exactly this signal (blocked
      // in every thread), so it returns and the thread ends normally.
      // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
      pthread_kill(t.native_handle(), SIGTERM);
      t.join();
    }
  } join_stopper{stopper, state};

  const std::string host =
      options->host.find(':') != std::string::npos ? "[" + options->host + "]" : options->host;
  Out(g, "serving " + a.dir + " at http://" + host + ":" + std::to_string(*port) +
             "/ (read-only; Ctrl-C stops)");
  // The line must be out before Run blocks (tests and scripts wait for it).
  // If our stdout is gone, serving is still what was asked for; the failed
  // write makes the exit code 7 when the server stops (output.h).
  std::cout.flush();
  auto st = (*server)->Run();
  if (!st) return Fail(st.error());
  return kExitOk;
}

}  // namespace

}  // namespace txdir::cli

int main(int argc, char** argv) {
  txdir::cli::SetServeRunner(&txdir::cli::RunServe);
  return txdir::cli::RunMain(argc, argv);
}
