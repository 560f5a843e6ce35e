// The SessionFactory that runs a remoting Channel with Kite's native
// callables on every connection the daemon opens.
#pragma once

#include <memory>

#include "runner/daemon/session.hpp"

namespace kite::callables {

std::unique_ptr<daemon::SessionFactory> make_channel_session_factory();

}  // namespace kite::callables
