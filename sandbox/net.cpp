#include "sandbox/net.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace kite::sandbox::net {

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.net ? CLONE_NEWNET : 0; }

bool bring_up_loopback(ChildFailure& f) {
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return fail(f, "socket", errno, "AF_INET, SOCK_DGRAM");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock, SIOCGIFFLAGS, &request) != 0) {
    const int err = errno;
    ::close(sock);
    return fail(f, "ioctl", err, "SIOCGIFFLAGS, 'lo'");
  }
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock, SIOCSIFFLAGS, &request) != 0) {
    const int err = errno;
    ::close(sock);
    return fail(f, "ioctl", err, "SIOCSIFFLAGS, 'lo', IFF_UP");
  }
  ::close(sock);
  return true;
}

}  // namespace kite::sandbox::net
