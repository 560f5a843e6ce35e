#include "sandbox/mnt.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace kite::sandbox::mnt {

namespace fs = std::filesystem;

namespace {

// Mount point at which the new root is assembled before pivot_root. The
// host's /tmp is not touched, because the mount namespace is private by then.
constexpr const char* kStaging = "/tmp";
constexpr size_t kPathMax = 4096;

// Device nodes bound from the host; a user namespace cannot mknod them.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

int open_tree_raw(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}

int move_mount_raw(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

int mount_setattr_raw(int dirfd, const char* path, unsigned flags, mount_attr* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof(*attr)));
}

bool join(char (&out)[kPathMax], const char* a, const char* b, ChildFailure& f) {
  const int n = std::snprintf(out, sizeof out, "%s%s", a, b);
  if (n < 0 || static_cast<size_t>(n) >= sizeof out) return fail(f, "path", ENAMETOOLONG, "'%s%s'", a, b);
  return true;
}

// mkdir -p inside the new root; each component must be creatable, which
// holds only below a writable mount such as the private /tmp.
bool make_dirs(const char* path, ChildFailure& f) {
  char buf[kPathMax];
  std::snprintf(buf, sizeof buf, "%s", path);
  for (char* p = buf + 1; *p; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (::mkdir(buf, 0755) != 0 && errno != EEXIST) return fail(f, "mkdir", errno, "'%s', 0755", buf);
    *p = '/';
  }
  if (::mkdir(buf, 0755) != 0 && errno != EEXIST) return fail(f, "mkdir", errno, "'%s', 0755", buf);
  return true;
}

bool mount_fs(const char* source, const char* target, const char* type, unsigned long flags, const char* data,
              ChildFailure& f) {
  if (::mount(source, target, type, flags, data) != 0) {
    return fail(f, "mount", errno, "'%s', '%s', '%s', 0x%lx, '%s'", source, target, type, flags, data ? data : "");
  }
  return true;
}

bool setup_dev(const char* dev, ChildFailure& f) {
  if (!mount_fs("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m", f)) return false;
  char target[kPathMax];
  char source[64];
  for (const char* name : kDevices) {
    std::snprintf(source, sizeof source, "/dev/%s", name);
    if (!join(target, dev, source + 4, f)) return false;
    const int fd = ::open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return fail(f, "open", errno, "'%s', O_CREAT", target);
    ::close(fd);
    if (!mount_fs(source, target, nullptr, MS_BIND, nullptr, f)) return false;
  }
  if (!join(target, dev, "/pts", f)) return false;
  if (::mkdir(target, 0755) != 0) return fail(f, "mkdir", errno, "'%s'", target);
  if (!mount_fs("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", f)) {
    return false;
  }
  if (!join(target, dev, "/shm", f)) return false;
  if (::mkdir(target, 01777) != 0) return fail(f, "mkdir", errno, "'%s'", target);
  if (!mount_fs("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", f)) return false;

  struct Link {
    const char* target;
    const char* name;
  };
  constexpr Link links[] = {{"pts/ptmx", "/ptmx"},        {"/proc/self/fd", "/fd"},
                            {"/proc/self/fd/0", "/stdin"}, {"/proc/self/fd/1", "/stdout"},
                            {"/proc/self/fd/2", "/stderr"}};
  for (const auto& link : links) {
    if (!join(target, dev, link.name, f)) return false;
    if (::symlink(link.target, target) != 0) return fail(f, "symlink", errno, "'%s', '%s'", link.target, target);
  }
  // The tmpfs stays writable: steps create sockets and fifos in /dev/shm only,
  // but a read-only remount of /dev would also hide /dev/shm's own mount flags.
  return true;
}

}  // namespace

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.mount ? CLONE_NEWNS : 0; }

std::expected<Plan, Error> plan(const Policy& policy, const fs::path& workspace,
                                const std::vector<fs::path>& writable_paths, const std::vector<CacheMount>& caches,
                                const fs::path& cwd) {
  Plan p;
  std::error_code ec;
  const fs::path root = fs::canonical(policy.root, ec);
  if (ec) return std::unexpected(Error{"realpath", "root '" + policy.root + "'", ec.value()});
  if (!fs::is_directory(root)) return std::unexpected(plain_error("invalid policy", "root '" + root.string() + "' is not a directory"));
  p.root = root.string();
  p.tmp_size_mib = policy.tmp_size_mib;

  auto add_same_path = [&](const fs::path& path, const char* what) -> std::expected<void, Error> {
    if (!path.is_absolute()) return std::unexpected(plain_error("invalid path", fmt::format("{} '{}' must be absolute", what, path.string())));
    const fs::path real = fs::canonical(path, ec);
    if (ec) return std::unexpected(Error{"realpath", fmt::format("{} '{}'", what, path.string()), ec.value()});
    if (!fs::is_directory(real)) return std::unexpected(plain_error("invalid path", fmt::format("{} '{}' is not a directory", what, real.string())));
    p.binds.push_back({real.string(), real.string()});
    return {};
  };
  if (!workspace.empty()) {
    if (auto r = add_same_path(workspace, "workspace"); !r) return std::unexpected(r.error());
  }
  for (const auto& w : policy.writable) {
    if (auto r = add_same_path(w, "policy writable path"); !r) return std::unexpected(r.error());
  }
  for (const auto& w : writable_paths) {
    if (auto r = add_same_path(w, "writable path"); !r) return std::unexpected(r.error());
  }
  for (const auto& c : caches) {
    fs::create_directories(c.host_dir, ec);
    if (ec) return std::unexpected(Error{"mkdir", "cache directory '" + c.host_dir.string() + "'", ec.value()});
    if (!c.target.is_absolute()) return std::unexpected(plain_error("invalid path", "cache target '" + c.target.string() + "' must be absolute"));
    const fs::path target = c.target.lexically_normal();
    // The mount point must exist in the read-only root. Creating it on the
    // host is what the build tool would do on first use without a sandbox.
    const fs::path in_root = root / target.relative_path();
    if (!fs::exists(in_root, ec) && !target.string().starts_with("/tmp/")) {
      fs::create_directories(in_root, ec);
      if (ec) {
        return std::unexpected(Error{"mkdir", fmt::format("cache mount point '{}' (create it on the host or choose another target)", in_root.string()), ec.value()});
      }
      spdlog::info("sandbox: created cache mount point {}", in_root.string());
    }
    p.binds.push_back({fs::canonical(c.host_dir).string(), target.string()});
  }
  std::stable_sort(p.binds.begin(), p.binds.end(), [](const WritableBind& a, const WritableBind& b) {
    return std::count(a.target.begin(), a.target.end(), '/') < std::count(b.target.begin(), b.target.end(), '/');
  });
  for (const auto& b : p.binds) {
    if (b.target.size() + std::strlen(kStaging) + 1 >= kPathMax) {
      return std::unexpected(plain_error("invalid path", "mount target too long: " + b.target));
    }
  }
  if (!cwd.empty()) {
    p.cwd = cwd.string();
  } else if (!workspace.empty()) {
    p.cwd = fs::canonical(workspace).string();
  } else {
    p.cwd = "/";
  }
  return p;
}

bool setup(const Plan& p, ChildFailure& f) {
  // Stop mount events from propagating back to the host (mount_namespaces(7)).
  if (!mount_fs("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr, f)) return false;

  // Detached copies of the root and of every writable source, taken before
  // anything is mounted over /tmp, so sources below the host's /tmp still resolve.
  const unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
  const int root_fd = open_tree_raw(AT_FDCWD, p.root.c_str(), tree_flags);
  if (root_fd < 0) return fail(f, "open_tree", errno, "'%s', OPEN_TREE_CLONE|AT_RECURSIVE", p.root.c_str());
  mount_attr ro{};
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (mount_setattr_raw(root_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro) != 0) {
    return fail(f, "mount_setattr", errno, "'%s', AT_RECURSIVE, MOUNT_ATTR_RDONLY|NOSUID|NODEV", p.root.c_str());
  }

  constexpr size_t kMaxBinds = 256;
  if (p.binds.size() > kMaxBinds) return fail(f, "plan", E2BIG, "%zu writable paths, at most %zu", p.binds.size(), kMaxBinds);
  int bind_fds[kMaxBinds];
  mount_attr rw{};
  rw.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  for (size_t i = 0; i < p.binds.size(); ++i) {
    bind_fds[i] = open_tree_raw(AT_FDCWD, p.binds[i].source.c_str(), tree_flags);
    if (bind_fds[i] < 0) return fail(f, "open_tree", errno, "'%s', OPEN_TREE_CLONE|AT_RECURSIVE", p.binds[i].source.c_str());
    if (mount_setattr_raw(bind_fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, &rw) != 0) {
      return fail(f, "mount_setattr", errno, "'%s', MOUNT_ATTR_NOSUID|NODEV", p.binds[i].source.c_str());
    }
  }

  if (move_mount_raw(root_fd, "", AT_FDCWD, kStaging, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return fail(f, "move_mount", errno, "'%s' -> '%s'", p.root.c_str(), kStaging);
  }
  ::close(root_fd);

  char path[kPathMax];
  if (!join(path, kStaging, "/proc", f)) return false;
  if (!mount_fs("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, f)) return false;
  if (!join(path, kStaging, "/dev", f)) return false;
  if (!setup_dev(path, f)) return false;
  if (!join(path, kStaging, "/tmp", f)) return false;
  char tmp_options[64];
  std::snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%llum",
                static_cast<unsigned long long>(p.tmp_size_mib ? p.tmp_size_mib : 1024));
  if (!mount_fs("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, tmp_options, f)) return false;

  for (size_t i = 0; i < p.binds.size(); ++i) {
    if (!join(path, kStaging, p.binds[i].target.c_str(), f)) return false;
    struct stat st {};
    if (::stat(path, &st) != 0 && !make_dirs(path, f)) return false;
    if (move_mount_raw(bind_fds[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      return fail(f, "move_mount", errno, "'%s' -> '%s'", p.binds[i].source.c_str(), p.binds[i].target.c_str());
    }
    ::close(bind_fds[i]);
  }

  // pivot_root(".", ".") stacks the old root on the new one; detaching it
  // leaves only the new root visible (pivot_root(2), NOTES).
  if (::chdir(kStaging) != 0) return fail(f, "chdir", errno, "'%s'", kStaging);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return fail(f, "pivot_root", errno, "'.', '.' in '%s'", kStaging);
  if (::umount2(".", MNT_DETACH) != 0) return fail(f, "umount2", errno, "'.', MNT_DETACH");
  if (::chdir(p.cwd.c_str()) != 0) return fail(f, "chdir", errno, "'%s' (working directory inside the sandbox)", p.cwd.c_str());
  return true;
}

}  // namespace kite::sandbox::mnt
