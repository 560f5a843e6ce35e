// Writing tar and zip archives of a DirScanner selection ($Archive,
// $CopyRecursiveRemoteToLocal, $WriteToTar), with libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "runner/filepath/ant_glob.hpp"
#include "runner/filepath/archive.hpp"
#include "runner/filepath/fd.hpp"

namespace kite::filepath {
namespace {

using detail::UniqueFd;

constexpr std::size_t kCopyBlockBytes = 64 * 1024;

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// DirScanner$Full: the base directory under its own name, then everything
// below it. Unlike Java, a symbolic link to a directory is archived as a
// link and not also descended into (Java emits both, and its own untar then
// rejects the second).
void scan_full(const std::string& absolute, const std::string& relative, std::vector<SelectedEntry>& entries) {
  if (::access(absolute.c_str(), R_OK) != 0) return;
  entries.push_back({absolute, relative});
  struct stat link_stat {};
  if (lstat(absolute.c_str(), &link_stat) != 0 || !S_ISDIR(link_stat.st_mode)) return;
  for (const auto& child : list(absolute)) {
    const std::string name = child.substr(child.find_last_of('/') + 1);
    scan_full(child, relative + "/" + name, entries);
  }
}

struct ArchiveDeleter {
  void operator()(struct archive* archive) const { archive_write_free(archive); }
};
struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

// State shared with libarchive's write callback.
struct SinkContext {
  const ByteSink* sink = nullptr;
  std::optional<Error> error;
};

la_ssize_t write_callback(struct archive* archive, void* data, const void* buffer, std::size_t length) {
  auto* context = static_cast<SinkContext*>(data);
  auto sent = (*context->sink)(std::span<const std::byte>(static_cast<const std::byte*>(buffer), length));
  if (!sent) {
    context->error = sent.error();
    archive_set_error(archive, EIO, "output stream failed: %s", sent.error().message.c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

std::string current_user_name() {
  const passwd* user = getpwuid(geteuid());
  return user != nullptr ? user->pw_name : "";
}

class ArchiveWriter {
 public:
  ArchiveWriter(ArchiveFormat format, const ByteSink& sink) : format_(format), archive_(archive_write_new()) {
    context_.sink = &sink;
  }

  Result<void> open() {
    struct archive* a = archive_.get();
    if (a == nullptr) return std::unexpected(io_error("libarchive: out of memory"));
    int status = ARCHIVE_OK;
    if (format_ == ArchiveFormat::Zip) {
      status = archive_write_set_format_zip(a);
      if (status == ARCHIVE_OK) status = archive_write_set_format_option(a, "zip", "hdrcharset", "UTF-8");
    } else {
      // GNU format: ././@LongLink entries for long names and links, base-256
      // numbers for sizes and ids too large for octal, as Ant's
      // TarOutputStream writes with LONGFILE_GNU and BIGNUMBER_STAR.
      status = archive_write_set_format_gnutar(a);
      if (status == ARCHIVE_OK) status = archive_write_set_format_option(a, "gnutar", "hdrcharset", "UTF-8");
      if (status == ARCHIVE_OK && format_ == ArchiveFormat::TarGzip) status = archive_write_add_filter_gzip(a);
    }
    // Write each block as soon as it is full instead of padding to 10 KiB records.
    if (status == ARCHIVE_OK) status = archive_write_set_bytes_per_block(a, format_ == ArchiveFormat::Zip ? 0 : 10240);
    if (status == ARCHIVE_OK) status = archive_write_open(a, &context_, nullptr, write_callback, nullptr);
    if (status != ARCHIVE_OK) return std::unexpected(failure("open archive"));
    return {};
  }

  Result<void> add(const SelectedEntry& selected) {
    struct stat link_stat {};
    if (lstat(selected.absolute_path.c_str(), &link_stat) != 0) {
      return std::unexpected(nio_error(errno, selected.absolute_path));
    }
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    std::string name = selected.archive_path;
    archive_entry_set_mtime(entry.get(), link_stat.st_mtim.tv_sec, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_copy_uname(entry.get(), user_name_.c_str());

    // Jenkins' ZipArchiver does not understand symbolic links, so a zip stores
    // what a link points to; only TarArchiver writes link entries.
    if (S_ISLNK(link_stat.st_mode) && format_ != ArchiveFormat::Zip) {
      std::vector<char> target(PATH_MAX + 1);
      const ssize_t size = ::readlink(selected.absolute_path.c_str(), target.data(), target.size());
      if (size < 0) return std::unexpected(nio_error(errno, selected.absolute_path));
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      // TarArchiver gives a link the mode of the file it points to.
      struct stat target_stat {};
      const mode_t permissions = stat(selected.absolute_path.c_str(), &target_stat) == 0
                                     ? (target_stat.st_mode & 0777)
                                     : 0777;
      archive_entry_set_perm(entry.get(), permissions);
      archive_entry_copy_symlink(entry.get(), std::string(target.data(), static_cast<std::size_t>(size)).c_str());
      archive_entry_copy_pathname(entry.get(), name.c_str());
      return write_header(entry.get(), selected);
    }

    // Everything else is visited through the link, as Java's Files.readAttributes does.
    struct stat file_stat {};
    if (stat(selected.absolute_path.c_str(), &file_stat) != 0) {
      return std::unexpected(nio_error(errno, selected.absolute_path));
    }
    archive_entry_set_mtime(entry.get(), file_stat.st_mtim.tv_sec, 0);
    archive_entry_set_perm(entry.get(), file_stat.st_mode & 0777);
    if (S_ISDIR(file_stat.st_mode)) {
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_copy_pathname(entry.get(), (name + "/").c_str());
      archive_entry_set_size(entry.get(), 0);
      return write_header(entry.get(), selected);
    }

    // Open the file before its header so an unreadable file leaves no partial entry.
    UniqueFd fd(::open(selected.absolute_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::unexpected(nio_error(errno, selected.absolute_path));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), file_stat.st_size);
    auto header = write_header(entry.get(), selected);
    if (!header) return header;

    // Copy at most the size in the header; a file that shrank is padded by libarchive.
    auto remaining = static_cast<std::uint64_t>(file_stat.st_size);
    std::vector<char> buffer(kCopyBlockBytes);
    while (remaining > 0) {
      const ssize_t got = ::read(fd.get(), buffer.data(), std::min<std::uint64_t>(buffer.size(), remaining));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        return std::unexpected(wrap(JavaException::IOException,
                                    "Error writing to tar file from: " + selected.absolute_path,
                                    io_error(std::strerror(errno), selected.absolute_path, errno)));
      }
      if (got == 0) break;
      if (archive_write_data(archive_.get(), buffer.data(), static_cast<std::size_t>(got)) < 0) {
        return std::unexpected(failure("write " + selected.archive_path));
      }
      remaining -= static_cast<std::uint64_t>(got);
    }
    if (archive_write_finish_entry(archive_.get()) != ARCHIVE_OK) {
      return std::unexpected(failure("write " + selected.archive_path));
    }
    return {};
  }

  Result<void> close() {
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) return std::unexpected(failure("close archive"));
    return {};
  }

 private:
  Result<void> write_header(archive_entry* entry, const SelectedEntry& selected) {
    const int status = archive_write_header(archive_.get(), entry);
    if (status < ARCHIVE_WARN) return std::unexpected(failure("write header of " + selected.archive_path));
    if (status == ARCHIVE_WARN) {
      spdlog::warn("filepath: archive entry {}: {}", selected.archive_path, archive_error_string(archive_.get()));
    }
    return {};
  }

  // The sink's own error when it caused the failure, else libarchive's message.
  Error failure(const std::string& what) {
    if (context_.error) return *context_.error;
    const char* text = archive_error_string(archive_.get());
    return io_error("Failed to " + what + ": " + (text != nullptr ? text : "unknown libarchive error"), {},
                    archive_errno(archive_.get()));
  }

  ArchiveFormat format_;
  std::unique_ptr<struct archive, ArchiveDeleter> archive_;
  SinkContext context_;
  std::string user_name_ = current_user_name();
};

}  // namespace

Result<std::vector<SelectedEntry>> select_entries(const std::string& base, const DirSelection& selection) {
  const std::string root = strip_trailing_slashes(base);
  std::vector<SelectedEntry> entries;

  if (const auto* glob = std::get_if<GlobSelection>(&selection.scanner)) {
    if (glob->includes.empty() && !glob->excludes) {
      return select_entries(base, DirSelection{FullSelection{}});
    }
    if (!exists(root)) return entries;
    ScanOptions options;
    auto includes = parse_pattern_list(glob->includes);
    if (!includes) return std::unexpected(includes.error());
    auto excludes = parse_pattern_list(glob->excludes.value_or(""));
    if (!excludes) return std::unexpected(excludes.error());
    options.includes = std::move(*includes);
    options.excludes = std::move(*excludes);
    options.default_excludes = glob->use_default_excludes;
    options.follow_symlinks = glob->follow_symlinks;
    auto scan = ant_scan(root, options);
    if (!scan) return std::unexpected(scan.error());
    for (const auto& file : scan->files) entries.push_back({root + "/" + file, file});
    return entries;
  }

  if (const auto* explicit_files = std::get_if<ExplicitSelection>(&selection.scanner)) {
    for (const auto& [archive_path, workspace_path] : explicit_files->files) {
      entries.push_back({root + "/" + workspace_path, archive_path});
    }
    return entries;
  }

  const std::string name = root.substr(root.find_last_of('/') + 1);
  scan_full(root, name, entries);
  return entries;
}

Result<int> write_archive(const std::string& base, const DirSelection& selection, ArchiveFormat format,
                          const ByteSink& sink) {
  auto entries = select_entries(base, selection);
  if (!entries) return std::unexpected(entries.error());

  const detail::ScopedUtf8Locale utf8_names;
  ArchiveWriter writer(format, sink);
  auto opened = writer.open();
  if (!opened) return std::unexpected(opened.error());
  int count = 0;
  for (const auto& entry : *entries) {
    auto added = writer.add(entry);
    if (!added) {
      spdlog::warn("filepath: archiving {} failed at {}: {}", base, entry.absolute_path, added.error().describe());
      return std::unexpected(added.error());
    }
    ++count;
  }
  auto closed = writer.close();
  if (!closed) return std::unexpected(closed.error());
  return count;
}

}  // namespace kite::filepath
