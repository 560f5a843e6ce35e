// The daemon process: one NodeRunner thread per node, and a signal thread
// (SIGTERM/SIGINT stop cleanly with WebSocket close frames, SIGHUP reopens
// the log file).
#pragma once

#include "runner/daemon/node_config.hpp"
#include "runner/daemon/session.hpp"

namespace kite::daemon {

// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread; call it before
// any thread starts so every thread inherits the mask.
void block_daemon_signals();

// Runs every node until all have ended or a stop signal arrives. Returns the
// process exit status: the highest status of the nodes.
int run_daemon(const DaemonConfig& config, SessionFactory& factory);

}  // namespace kite::daemon
