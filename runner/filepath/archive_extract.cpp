// Extracting tar, tar.gz and zip streams into a directory ($UntarRemote,
// $UntarFrom, $UnzipRemote, $UnzipFrom, $ReadFromTar) with libarchive
// reading and descriptor-relative writes that never follow a symbolic link.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "runner/filepath/archive.hpp"
#include "runner/filepath/fd.hpp"

namespace kite::filepath {
namespace {

using detail::UniqueFd;

constexpr std::size_t kReadBlockBytes = 64 * 1024;

struct ReadDeleter {
  void operator()(struct archive* archive) const { archive_read_free(archive); }
};

// State shared with libarchive's read callback.
struct SourceContext {
  const ByteSource* source = nullptr;
  std::vector<std::byte> buffer = std::vector<std::byte>(kReadBlockBytes);
  std::optional<Error> error;
};

la_ssize_t read_callback(struct archive* archive, void* data, const void** block) {
  auto* context = static_cast<SourceContext*>(data);
  auto got = (*context->source)(context->buffer);
  if (!got) {
    context->error = got.error();
    archive_set_error(archive, EIO, "input stream failed: %s", got.error().message.c_str());
    return -1;
  }
  *block = context->buffer.data();
  return static_cast<la_ssize_t>(*got);
}

// A directory whose mode and mtime are applied after everything inside it
// was written (a read-only directory would otherwise block its own contents).
struct DeferredDirectory {
  std::vector<std::string> components;
  mode_t permissions = 0;
  std::int64_t mtime = 0;
};

class Extractor {
 public:
  Extractor(ArchiveFormat format, std::string name, const ExtractLimits& limits)
      : format_(format), name_(std::move(name)), limits_(limits) {}

  Result<ExtractStats> run(struct archive* reader, const std::string& target_dir) {
    auto made = mkdirs(target_dir);
    if (!made) return std::unexpected(made.error());
    root_.reset(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_.valid()) return std::unexpected(nio_error(errno, target_dir));
    target_dir_ = target_dir;

    while (true) {
      archive_entry* entry = nullptr;
      const int status = archive_read_next_header(reader, &entry);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return std::unexpected(reader_failure(reader));
      auto extracted = extract_entry(reader, entry);
      if (!extracted) return std::unexpected(extracted.error());
    }
    apply_deferred_directories();
    return stats_;
  }

  Error reader_failure(struct archive* reader) const {
    if (source_error) return *source_error;
    const char* text = archive_error_string(reader);
    return io_error(std::string(text != nullptr ? text : "unreadable archive"), name_, archive_errno(reader));
  }

  std::optional<Error> source_error;

 private:
  std::string kind() const { return format_ == ArchiveFormat::Zip ? "Zip" : "Tar"; }

  // Jenkins' readFromTar and unzip word an escaping entry differently.
  std::string escape_text() const {
    return format_ == ArchiveFormat::Zip ? "contains illegal file name that breaks out of the target directory"
                                         : "contains entry that escapes destination directory";
  }

  Error reject(const std::string& entry_name, const std::string& why) const {
    return io_error(kind() + " " + name_ + " " + why + ": " + entry_name, target_dir_);
  }

  // Splits an entry name into components, resolving "." and "..". Fails
  // when the name is absolute, empty, or climbs out of the target.
  Result<std::vector<std::string>> components_of(const std::string& entry_name) const {
    if (entry_name.size() > limits_.max_path_bytes) {
      return std::unexpected(reject(entry_name.substr(0, 200) + "...",
                                    "contains an entry name longer than " + std::to_string(limits_.max_path_bytes) +
                                        " bytes"));
    }
    if (!entry_name.empty() && (entry_name.front() == '/' || entry_name.front() == '\\')) {
      return std::unexpected(reject(entry_name, escape_text()));
    }
    if (entry_name.find('\0') != std::string::npos) {
      return std::unexpected(reject(entry_name, "contains an entry name with a NUL byte"));
    }
    std::vector<std::string> components;
    std::size_t start = 0;
    while (start <= entry_name.size()) {
      std::size_t end = entry_name.find('/', start);
      if (end == std::string::npos) end = entry_name.size();
      const std::string part = entry_name.substr(start, end - start);
      if (part == "..") {
        if (components.empty()) {
          return std::unexpected(reject(entry_name, escape_text()));
        }
        components.pop_back();
      } else if (!part.empty() && part != ".") {
        components.push_back(part);
      }
      start = end + 1;
    }
    return components;
  }

  // Opens (creating when `create`) each directory of `components` below the
  // target without following symbolic links.
  Result<UniqueFd> open_directory(const std::vector<std::string>& components, std::size_t count,
                                  const std::string& entry_name, bool create) const {
    UniqueFd current(::dup(root_.get()));
    if (!current.valid()) return std::unexpected(nio_error(errno, target_dir_));
    for (std::size_t i = 0; i < count; ++i) {
      const char* part = components[i].c_str();
      UniqueFd next(openat(current.get(), part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid() && errno == ENOENT && create) {
        if (mkdirat(current.get(), part, 0777) != 0 && errno != EEXIST) {
          return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name));
        }
        next.reset(openat(current.get(), part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!next.valid()) {
        struct stat part_stat {};
        if (fstatat(current.get(), part, &part_stat, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(part_stat.st_mode)) {
          return std::unexpected(reject(entry_name, "attempts to write to file with symlink in path"));
        }
        return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name));
      }
      current = std::move(next);
    }
    return current;
  }

  Result<void> extract_entry(struct archive* reader, archive_entry* entry) {
    if (++stats_.entries > limits_.max_entries) {
      return std::unexpected(io_error(kind() + " " + name_ + " has more than " + std::to_string(limits_.max_entries) +
                                          " entries, the limit for one extraction",
                                      target_dir_));
    }
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr) raw_name = archive_entry_pathname_utf8(entry);
    if (raw_name == nullptr) return std::unexpected(reject("#" + std::to_string(stats_.entries), "has an entry without a usable name"));
    const std::string entry_name = raw_name;
    auto components = components_of(entry_name);
    if (!components) return std::unexpected(components.error());

    const mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (components->empty()) {
      if (type == AE_IFDIR) return {};
      return std::unexpected(reject(entry_name, "contains non-directory entry that resolves to base directory"));
    }

    const std::size_t parents = components->size() - 1;
    auto parent = open_directory(*components, parents, entry_name, true);
    if (!parent) return std::unexpected(parent.error());
    const std::string& leaf = components->back();
    const auto permissions = static_cast<mode_t>(archive_entry_perm(entry) & 0777);
    const std::int64_t mtime = archive_entry_mtime(entry);

    if (hardlink != nullptr) return extract_hardlink(*parent, leaf, entry_name, hardlink);

    switch (type) {
      case AE_IFDIR: {
        if (mkdirat(parent->get(), leaf.c_str(), 0777) != 0 && errno != EEXIST) {
          return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name));
        }
        deferred_.push_back({*components, permissions, mtime});
        return {};
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (target == nullptr) return std::unexpected(reject(entry_name, "contains a symbolic link without a target"));
        remove_existing(parent->get(), leaf);
        if (symlinkat(target, parent->get(), leaf.c_str()) != 0) {
          return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name));
        }
        return {};
      }
      case AE_IFREG:
        return extract_file(reader, entry, parent->get(), leaf, entry_name, permissions, mtime);
      default:
        return std::unexpected(reject(entry_name, "contains an unsupported entry type (device, FIFO or socket)"));
    }
  }

  void remove_existing(int dir_fd, const std::string& leaf) const {
    if (unlinkat(dir_fd, leaf.c_str(), 0) != 0 && (errno == EISDIR || errno == EPERM)) {
      unlinkat(dir_fd, leaf.c_str(), AT_REMOVEDIR);
    }
  }

  Result<void> extract_hardlink(const UniqueFd& parent, const std::string& leaf, const std::string& entry_name,
                                const std::string& link_target) {
    auto source = components_of(link_target);
    if (!source || source->empty()) {
      return std::unexpected(reject(entry_name, "contains a hard link that escapes destination directory"));
    }
    auto source_dir = open_directory(*source, source->size() - 1, entry_name, false);
    if (!source_dir) return std::unexpected(source_dir.error());
    remove_existing(parent.get(), leaf);
    // Without AT_SYMLINK_FOLLOW a link to a symbolic link stays a link to the link itself.
    if (linkat(source_dir->get(), source->back().c_str(), parent.get(), leaf.c_str(), 0) != 0) {
      return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name, target_dir_ + "/" + link_target));
    }
    return {};
  }

  Result<void> extract_file(struct archive* reader, archive_entry* entry, int dir_fd, const std::string& leaf,
                            const std::string& entry_name, mode_t permissions, std::int64_t mtime) {
    if (archive_entry_size_is_set(entry) &&
        static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0)) >
            limits_.max_total_bytes - stats_.bytes) {
      return std::unexpected(size_limit_error(entry_name));
    }
    UniqueFd fd(openat(dir_fd, leaf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!fd.valid()) {
      if (errno == ELOOP) {
        return std::unexpected(io_error(kind() + " '" + name_ + "' entry '" + entry_name +
                                            "' would write through existing symlink: " + target_dir_ + "/" + entry_name,
                                        target_dir_));
      }
      return std::unexpected(nio_error(errno, target_dir_ + "/" + entry_name));
    }

    const void* block = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    std::uint64_t written_end = 0;
    while (true) {
      const int status = archive_read_data_block(reader, &block, &size, &offset);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return std::unexpected(reader_failure(reader));
      const std::uint64_t end = static_cast<std::uint64_t>(offset) + size;
      if (end > written_end) {
        stats_.bytes += end - written_end;
        written_end = end;
      }
      if (stats_.bytes > limits_.max_total_bytes) return std::unexpected(size_limit_error(entry_name));
      const char* data = static_cast<const char*>(block);
      std::size_t left = size;
      auto position = static_cast<off_t>(offset);
      while (left > 0) {
        const ssize_t put = pwrite(fd.get(), data, left, position);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return std::unexpected(io_error(std::strerror(errno), target_dir_ + "/" + entry_name, errno));
        data += put;
        left -= static_cast<std::size_t>(put);
        position += put;
      }
    }
    // Sparse entries end in a hole; give the file its full size.
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > static_cast<la_int64_t>(written_end)) {
      if (ftruncate(fd.get(), archive_entry_size(entry)) != 0) {
        return std::unexpected(io_error(std::strerror(errno), target_dir_ + "/" + entry_name, errno));
      }
    }
    if (permissions != 0) fchmod(fd.get(), permissions);
    const struct timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(mtime), 0}};
    futimens(fd.get(), times);
    return {};
  }

  Error size_limit_error(const std::string& entry_name) const {
    return io_error(kind() + " " + name_ + " expands to more than " + std::to_string(limits_.max_total_bytes) +
                        " bytes, the limit for one extraction, at entry: " + entry_name,
                    target_dir_);
  }

  void apply_deferred_directories() {
    for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it) {
      auto dir = open_directory(it->components, it->components.size(), "", false);
      if (!dir) continue;
      if (it->permissions != 0) fchmod(dir->get(), it->permissions);
      const struct timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(it->mtime), 0}};
      futimens(dir->get(), times);
    }
  }

  ArchiveFormat format_;
  std::string name_;
  const ExtractLimits& limits_;
  UniqueFd root_;
  std::string target_dir_;
  ExtractStats stats_;
  std::vector<DeferredDirectory> deferred_;
};

// Copies the whole zip into an unlinked temporary file, as Jenkins spools a
// zip to "tmpzip" before reading it, so libarchive can use the central directory.
Result<UniqueFd> spool_to_temporary_file(const ByteSource& source, const std::string& name,
                                         const ExtractLimits& limits) {
  UniqueFd fd(::open(kJavaTmpDir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    std::string pattern = std::string(kJavaTmpDir) + "/tmpzipXXXXXX";
    fd.reset(mkstemp(pattern.data()));
    if (!fd.valid()) return std::unexpected(io_error(std::strerror(errno), pattern, errno));
    ::unlink(pattern.c_str());
  }
  std::vector<std::byte> buffer(kReadBlockBytes);
  std::uint64_t total = 0;
  while (true) {
    auto got = source(buffer);
    if (!got) return std::unexpected(got.error());
    if (*got == 0) break;
    total += *got;
    if (total > limits.max_archive_bytes) {
      return std::unexpected(io_error("Zip " + name + " is larger than " + std::to_string(limits.max_archive_bytes) +
                                      " bytes, the limit for one extraction"));
    }
    const std::byte* data = buffer.data();
    std::size_t left = *got;
    while (left > 0) {
      const ssize_t put = ::write(fd.get(), data, left);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return std::unexpected(io_error(std::strerror(errno), kJavaTmpDir, errno));
      data += put;
      left -= static_cast<std::size_t>(put);
    }
  }
  if (lseek(fd.get(), 0, SEEK_SET) != 0) return std::unexpected(io_error(std::strerror(errno), kJavaTmpDir, errno));
  return fd;
}

}  // namespace

Result<ExtractStats> extract_archive(const ByteSource& source, ArchiveFormat format, const std::string& target_dir,
                                     const std::string& name, const ExtractLimits& limits) {
  const detail::ScopedUtf8Locale utf8_names;
  std::unique_ptr<struct archive, ReadDeleter> reader(archive_read_new());
  if (!reader) return std::unexpected(io_error("libarchive: out of memory"));
  Extractor extractor(format, name, limits);
  SourceContext context;
  context.source = &source;
  UniqueFd spooled;

  int status = ARCHIVE_OK;
  if (format == ArchiveFormat::Zip) {
    auto fd = spool_to_temporary_file(source, name, limits);
    if (!fd) return std::unexpected(fd.error());
    spooled = std::move(*fd);
    status = archive_read_support_format_zip_seekable(reader.get());
    if (status == ARCHIVE_OK) status = archive_read_open_fd(reader.get(), spooled.get(), kReadBlockBytes);
  } else {
    status = archive_read_support_format_tar(reader.get());
    if (status == ARCHIVE_OK && format == ArchiveFormat::TarGzip) status = archive_read_support_filter_gzip(reader.get());
    if (status == ARCHIVE_OK) status = archive_read_open(reader.get(), &context, nullptr, read_callback, nullptr);
  }

  Result<ExtractStats> result = [&]() -> Result<ExtractStats> {
    if (status != ARCHIVE_OK) {
      extractor.source_error = context.error;
      return std::unexpected(extractor.reader_failure(reader.get()));
    }
    auto ran = extractor.run(reader.get(), target_dir);
    if (!ran && context.error) return std::unexpected(*context.error);
    return ran;
  }();

  if (!result) {
    spdlog::warn("filepath: extracting {} into {} failed: {}", name, target_dir, result.error().describe());
    // Jenkins wraps every untar failure this way; unzip failures are not wrapped.
    if (format != ArchiveFormat::Zip) {
      return std::unexpected(wrap(JavaException::IOException, "Failed to extract " + name, result.error()));
    }
  }
  return result;
}

}  // namespace kite::filepath
