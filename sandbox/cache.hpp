// Persistent per-node cache directories (Maven ~/.m2, npm, Go, ccache) and
// their size cap with least-recently-used eviction.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>

#include "sandbox/error.hpp"

namespace kite::sandbox {

struct EvictionResult {
  uint64_t size_before = 0;   // bytes on disk (st_blocks * 512) before eviction
  uint64_t size_after = 0;
  uint64_t files_removed = 0;
};

// Removes the least recently used regular files (by the later of atime and
// mtime) from `dir` until it uses at most `max_bytes`, then removes the
// directories that became empty. Call after a step ends. Never follows
// symlinks out of `dir`.
std::expected<EvictionResult, Error> evict_cache(const std::filesystem::path& dir, uint64_t max_bytes);

// Returns the bytes `dir` uses on disk, not following symlinks.
std::expected<uint64_t, Error> cache_size(const std::filesystem::path& dir);

}  // namespace kite::sandbox
