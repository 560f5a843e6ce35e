// Native implementations of the operations hudson.FilePath runs on an agent
// through its FileCallables. Each function mirrors the Java callable's
// semantics (what counts as success, what a missing file returns) and reports
// failures as the Java exception the controller expects (see error.hpp).
// Paths are agent paths as the controller sends them (FilePath.remote).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runner/filepath/error.hpp"

namespace kite::filepath {

// Receives the next block of bytes; returns an error to abort the transfer.
using ByteSink = std::function<Result<void>(std::span<const std::byte>)>;
// Fills the buffer with the next bytes and returns how many were read, 0 at
// the end of the stream.
using ByteSource = std::function<Result<std::size_t>(std::span<std::byte>)>;

// ---- Queries ($Exists, $IsDirectory, $Length, $LastModified, $Mode, disk space)

bool exists(const std::string& path);        // java.io.File.exists: follows links
bool is_directory(const std::string& path);  // java.io.File.isDirectory
std::int64_t length(const std::string& path);         // bytes, 0 when missing
std::int64_t last_modified(const std::string& path);  // ms since the epoch, 0 when missing
// Permission bits (0777) of the file a link points to, as IOUtils.mode.
Result<int> mode(const std::string& path);
// File.getTotalSpace / getFreeSpace / getUsableSpace: bytes, 0 when missing.
std::int64_t total_disk_space(const std::string& path);
std::int64_t free_disk_space(const std::string& path);
std::int64_t usable_disk_space(const std::string& path);
// File.getAbsolutePath: joins a relative path to the working directory and
// removes duplicate and trailing separators; ".." is kept as Java keeps it.
std::string absolutize(const std::string& path);

// ---- Changes to one file ($Mkdirs, $Touch, $Chmod, $SymlinkTo, $ReadLink)

// $Mkdirs: creates the directory and its parents (Files.createDirectories);
// true when something exists at `path` afterwards. A failing mkdir gives the
// java.nio exception of the component that failed.
Result<bool> mkdirs(const std::string& path);
// Creates the file when missing, then sets its modification time; failure
// gives "Failed to set the timestamp of <path> to <ms>".
Result<void> touch(const std::string& path, std::int64_t timestamp_ms);
// $SetLastModified: File.setLastModified, and on failure (a missing file
// included) "Failed to set the timestamp of <path> to <ms>".
Result<void> set_last_modified(const std::string& path, std::int64_t timestamp_ms);
// Sets the permission bits; bits outside 07777 are ignored and setuid,
// setgid or sticky bits give "Invalid mode: <n>", as Util.modeToPermissions.
Result<void> chmod(const std::string& path, int mask);
// Util.createSymlink: replaces whatever is at `path` by a symbolic link to
// `target`. Java prints failures to the task listener instead of throwing;
// this returns them.
Result<void> symlink_to(const std::string& path, const std::string& target);
// Util.resolveSymlink: the link text, or nothing when `path` is not a link.
Result<std::optional<std::string>> read_link(const std::string& path);

// ---- Contents ($Read, $ReadToString, $Write, $WritePipe, $CopyTo, $Digest)

// Streams the file to `sink` in blocks of at most 64 KiB; returns the byte count.
Result<std::uint64_t> read(const std::string& path, const ByteSink& sink);
// The file as text in UTF-8 (the agent's default charset); bytes that are not
// valid UTF-8 give MalformedInputException, as Files.readString does.
Result<std::string> read_to_string(const std::string& path);
// Encodes `content_utf8` in the Java charset `encoding` (UTF-8 when empty)
// and writes it, creating parent directories. Characters the charset cannot
// represent become '?', as OutputStreamWriter does. An unknown charset gives
// UnsupportedEncodingException after the file was truncated, as in Java.
Result<void> write(const std::string& path, std::string_view content_utf8, std::optional<std::string_view> encoding);
// Converts UTF-8 text to the Java charset `encoding` (the bytes Java's
// String.getBytes(encoding) would give).
Result<std::string> encode_text(std::string_view content_utf8, std::string_view encoding);

// A file opened for writing, as FilePath.write() returns it: parents are
// created, the file is truncated. The descriptor closes with the object.
class FileWriter {
 public:
  static Result<FileWriter> open(const std::string& path);
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  Result<void> write(std::span<const std::byte> bytes);
  Result<void> close();
  const std::string& path() const { return path_; }

 private:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// FilePath.copyFrom(InputStream): writes everything `source` yields into the
// file; returns the byte count.
Result<std::uint64_t> copy_from(const std::string& path, const ByteSource& source);
// $CopyTo: streams the file to `sink` (same as read()).
Result<std::uint64_t> copy_to(const std::string& path, const ByteSink& sink);
// $CopyToWithPermission (local): copies contents, mode and mtime, creating
// the target's parents.
Result<void> copy_to_with_permission(const std::string& path, const std::string& target);
// Util.getDigestOf: lowercase hex MD5 of the contents.
Result<std::string> digest(const std::string& path);

// ---- Directories ($ListFilter, $DeleteRecursive, ...)

// Absolute paths of the children (File.listFiles order is unspecified; these
// are sorted). Empty when `path` is not a readable directory.
std::vector<std::string> list(const std::string& path);
// Children that are directories (following links), as DirectoryFilter.
std::vector<std::string> list_directories(const std::string& path);

// Util.deleteFile: removes a file, link or empty directory; a missing path is
// not an error. A failure is retried after making the file and its parent
// writable, up to three attempts 100 ms apart, and then gives "Unable to
// delete '<path>'. Tried 3 times (of a maximum of 3) waiting 0.1 sec between
// attempts." with the cause.
Result<void> delete_file(const std::string& path);
// Util.deleteRecursive: removes the tree without following symbolic links,
// making read-only directories writable when needed.
Result<void> delete_recursive(const std::string& path);
// Util.deleteContentsRecursive: empties the directory, keeps it.
Result<void> delete_contents(const std::string& path);
// $DeleteSuffixesRecursive: delete_recursive on every sibling named like
// `path` followed by '@' (the workspace@tmp, workspace@2 ... directories
// Jenkins' WorkspaceList makes). Nothing happens when the parent is missing.
Result<void> delete_suffixes_recursive(const std::string& path);
// Files.move(source, target, NOFOLLOW_LINKS) fails with
// FileAlreadyExistsException when the target exists. Across file systems a
// file or link is copied and removed, and a non-empty directory gives
// DirectoryNotEmptyException.
Result<void> rename_to(const std::string& path, const std::string& target);
// $MoveAllChildrenTo: renames `path` to `<path>.__rename`, moves each child
// into `target`, removes the emptied directory.
Result<void> move_all_children_to(const std::string& path, const std::string& target);

// ---- Containment ($IsDescendant, $HasSymlink)

// $IsDescendant: whether `child` (relative to `parent`) stays inside the real
// path of `parent` at every step, following symbolic links. A missing parent
// gives false. From the first missing name on, the lexical path decides. An
// absolute `child` gives IllegalArgumentException.
Result<bool> is_descendant(const std::string& parent, const std::string& child);
// $HasSymlink: with LinkOption.NOFOLLOW_LINKS requested, whether `path` or an
// ancestor below `verification_root` is a symbolic link. Always false without
// that option.
bool has_symlink(const std::string& path, const std::optional<std::string>& verification_root, bool no_follow_links);

// ---- Temporary files ($CreateTempFile, $CreateTextTempFile, $CreateTempDir)

// java.io.tmpdir of a Java agent on Linux.
inline constexpr const char* kJavaTmpDir = "/tmp";

// File.createTempFile(prefix, suffix, dir): creates "<prefix><random
// unsigned long><suffix>" (suffix ".tmp" when absent) exclusively with mode
// 0666 minus umask; returns the file name. A prefix shorter than three
// characters gives IllegalArgumentException.
Result<std::string> create_temp_file(const std::string& dir, std::string_view prefix,
                                     std::optional<std::string_view> suffix);
// $CreateTextTempFile: in `dir` (created when missing) or, when
// `in_this_directory` is false, in `temp_dir`; writes `contents` as UTF-8;
// returns the absolute path.
Result<std::string> create_text_temp_file(const std::string& dir, bool in_this_directory, std::string_view prefix,
                                          std::optional<std::string_view> suffix, std::string_view contents,
                                          const std::string& temp_dir = kJavaTmpDir);
// Files.createTempDirectory(dir, name) with all permissions requested:
// creates "<name><random unsigned long>" with mode 0777 minus umask; returns
// the directory name.
Result<std::string> create_temp_dir(const std::string& dir, std::string_view name);

// ---- Copy with a selection ($CopyRecursiveLocal)

struct DirSelection;  // archive.hpp
// Copies the selected files (with mode and mtime) and symbolic links (as
// links) from `base` into `target`; returns how many were copied. A missing
// base copies nothing.
Result<int> copy_recursive_local(const std::string& base, const std::string& target, const DirSelection& selection);

// ---- validateAntFileMask

inline constexpr int kValidateAntFileMaskBound = 10000;
// FilePath.validateAntFileMask: nothing when every comma-separated mask
// matches a file or directory, else Jenkins' explanation (same texts as
// hudson.Messages). When a scan visits more than `bound` entries, or runs
// for five seconds, without a match it gives FileMaskNoMatchesFoundException
// "no matches found within <bound>".
Result<std::optional<std::string>> validate_ant_file_mask(const std::string& dir, std::string_view file_masks,
                                                          int bound, bool case_sensitive);

}  // namespace kite::filepath
