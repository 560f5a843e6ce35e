// Recognising the shell wrapper BourneShellScript launches:
//   nohup sh -c "(cp ...; { while ...; done } & jsc=durable-...; JENKINS_SERVER_COOKIE=$jsc ... ; wait) >&- 2>&- &"
// The outer sh exits at once and leaves the subshell running in the
// background. Kite runs the subshell in the foreground instead (dropping the
// final '&') and detached from itself: inside a sandbox the step's init ends
// when its first process ends, which would kill a backgrounded wrapper.
// The controller never joins this process and reads nothing from it, so the
// difference is not visible to it.
#pragma once

#include <string>
#include <vector>

namespace kite::durable {

// True for argv of the shell wrapper (after the launcher's $$ expansion).
bool is_wrapper_command(const std::vector<std::string>& argv);

// Drops the trailing " &" of the wrapper's script; returns false (and
// leaves argv alone) for any other command.
bool foreground_wrapper(std::vector<std::string>& argv);

}  // namespace kite::durable
