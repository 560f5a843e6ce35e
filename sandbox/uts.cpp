#include "sandbox/uts.hpp"

#include <sched.h>
#include <unistd.h>

namespace kite::sandbox::uts {

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.uts ? CLONE_NEWUTS : 0; }

bool set_hostname(const std::string& hostname, ChildFailure& f) {
  if (::sethostname(hostname.data(), hostname.size()) != 0) return fail(f, "sethostname", errno, "'%s'", hostname.c_str());
  return true;
}

}  // namespace kite::sandbox::uts
