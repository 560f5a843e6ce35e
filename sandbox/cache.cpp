#include "sandbox/cache.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

namespace kite::sandbox {

namespace fs = std::filesystem;

namespace {

struct CachedFile {
  fs::path path;
  uint64_t bytes;
  int64_t last_use_ns;  // the later of atime and mtime
};

std::expected<std::vector<CachedFile>, Error> scan(const fs::path& dir, uint64_t& total) {
  std::vector<CachedFile> files;
  std::error_code ec;
  // recursive_directory_iterator does not follow directory symlinks by default.
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return std::unexpected(Error{"opendir", "'" + dir.string() + "'", ec.value()});
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return std::unexpected(Error{"readdir", "'" + dir.string() + "'", ec.value()});
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // removed while scanning
    const uint64_t bytes = static_cast<uint64_t>(st.st_blocks) * 512;
    total += bytes;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    const int64_t atime = static_cast<int64_t>(st.st_atim.tv_sec) * 1000000000 + st.st_atim.tv_nsec;
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    files.push_back({it->path(), bytes, std::max(atime, mtime)});
  }
  return files;
}

void remove_empty_dirs(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  }
  // Deepest first, so a parent empties after its children.
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) { return a.native().size() > b.native().size(); });
  for (const auto& d : dirs) {
    if (fs::is_empty(d, ec)) fs::remove(d, ec);
  }
}

}  // namespace

std::expected<uint64_t, Error> cache_size(const fs::path& dir) {
  uint64_t total = 0;
  auto files = scan(dir, total);
  if (!files) return std::unexpected(files.error());
  return total;
}

std::expected<EvictionResult, Error> evict_cache(const fs::path& dir, uint64_t max_bytes) {
  EvictionResult result;
  auto files = scan(dir, result.size_before);
  if (!files) return std::unexpected(files.error());
  result.size_after = result.size_before;
  if (max_bytes == 0 || result.size_before <= max_bytes) return result;

  std::sort(files->begin(), files->end(), [](const CachedFile& a, const CachedFile& b) { return a.last_use_ns < b.last_use_ns; });
  for (const auto& f : *files) {
    if (result.size_after <= max_bytes) break;
    std::error_code ec;
    if (fs::remove(f.path, ec)) {
      result.size_after -= std::min(result.size_after, f.bytes);
      ++result.files_removed;
    } else if (ec) {
      spdlog::warn("sandbox: cache eviction could not remove {}: {}", f.path.string(), ec.message());
    }
  }
  remove_empty_dirs(dir);
  spdlog::info("sandbox: cache {} over its cap of {} bytes: removed {} least recently used files, {} -> {} bytes",
               dir.string(), max_bytes, result.files_removed, result.size_before, result.size_after);
  return result;
}

}  // namespace kite::sandbox
