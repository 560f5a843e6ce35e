// Feeds arbitrary bytes as a tar, tar.gz or zip stream (chosen by the first
// byte) into extract_archive, extracting into a scratch directory that is
// emptied after each input. Extraction must fail cleanly or stay inside it.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "runner/filepath/archive.hpp"
#include "runner/filepath/file_ops.hpp"

namespace {

const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string pattern = "/tmp/kite-fuzz-extract-XXXXXX";
    const char* made = mkdtemp(pattern.data());
    return std::string(made != nullptr ? made : "/tmp");
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kite::filepath;
  if (size == 0) return 0;
  const ArchiveFormat format = data[0] % 3 == 0   ? ArchiveFormat::Tar
                               : data[0] % 3 == 1 ? ArchiveFormat::TarGzip
                                                  : ArchiveFormat::Zip;
  std::size_t offset = 1;
  ByteSource source = [&](std::span<std::byte> buffer) -> Result<std::size_t> {
    const std::size_t n = std::min(buffer.size(), size - offset);
    std::memcpy(buffer.data(), data + offset, n);
    offset += n;
    return n;
  };
  ExtractLimits limits;
  limits.max_total_bytes = 4 << 20;
  limits.max_entries = 1000;
  limits.max_archive_bytes = 4 << 20;
  const std::string target = scratch_dir() + "/out";
  (void)extract_archive(source, format, target, "fuzz-input", limits);
  (void)delete_recursive(target);
  return 0;
}
