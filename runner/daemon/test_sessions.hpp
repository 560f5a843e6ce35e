// Sessions for checking a connection without the remoting channel
// (kite --session echo|count): they exercise the transport end to end.
#pragma once

#include <memory>
#include <string>

#include "runner/daemon/session.hpp"

namespace kite::daemon {

// Sends every received command back unchanged.
std::unique_ptr<SessionFactory> make_echo_session_factory();

// Logs the size of every received command and sends nothing.
std::unique_ptr<SessionFactory> make_count_session_factory();

}  // namespace kite::daemon
