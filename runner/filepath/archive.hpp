// Tar and zip transfers of a directory selection (FilePath.archive, stash,
// copyRecursiveTo, untar, unzip) built on libarchive.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "runner/filepath/error.hpp"
#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {

// hudson.util.DirScanner$Glob: Ant includes/excludes, comma-separated.
// Empty includes and no excludes select the whole tree as DirScanner$Full.
struct GlobSelection {
  std::string includes;
  std::optional<std::string> excludes;
  bool use_default_excludes = true;
  bool follow_symlinks = true;  // false when the openOptions carry NOFOLLOW_LINKS
};

// hudson.FilePath$ExplicitlySpecifiedDirScanner: archive path -> workspace
// path, both relative and '/'-separated.
struct ExplicitSelection {
  std::map<std::string, std::string> files;
};

// hudson.util.DirScanner$Full: the base directory itself (named by its last
// component), every directory, file and link below it.
struct FullSelection {};

struct DirSelection {
  std::variant<GlobSelection, ExplicitSelection, FullSelection> scanner;
};

// One entry a scanner visits: the file on disk and its name in the archive.
struct SelectedEntry {
  std::string absolute_path;
  std::string archive_path;
};

// Lists what `selection` visits below `base`, in archive order, as Jenkins'
// DirScanner.scan does (Glob: included files only; Full: directories too).
Result<std::vector<SelectedEntry>> select_entries(const std::string& base, const DirSelection& selection);

enum class ArchiveFormat { Tar, TarGzip, Zip };

// Writes an archive of the selection to `sink`, in the dialect of Jenkins'
// TarArchiver (GNU long names, base-256 big numbers, mode and mtime, a
// directory or symbolic link as its own entry) or ZipArchiver (Unix mode in
// the external attributes, zip64 when needed). Returns the entry count
// (Archiver.countEntries).
Result<int> write_archive(const std::string& base, const DirSelection& selection, ArchiveFormat format,
                          const ByteSink& sink);

// Bounds on what one extraction may create; exceeding one aborts it with an
// IOException naming the limit and the entry.
struct ExtractLimits {
  std::uint64_t max_total_bytes = std::uint64_t{64} << 30;  // 64 GiB of file data
  std::uint64_t max_entries = 1'000'000;
  std::uint64_t max_archive_bytes = std::uint64_t{64} << 30;  // zip spool size
  std::size_t max_path_bytes = 4096;
};

// What extract_archive did.
struct ExtractStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};

// Extracts a tar, tar.gz or zip read from `source` into `target_dir`
// (created when missing). `name` names the archive in messages, as Jenkins'
// "Failed to extract <name>". Rejects, naming the entry: absolute names,
// names with "..", entries that would write through a symbolic link (one
// already there or one the archive created), hard links whose target lies
// outside `target_dir`, and device or FIFO entries. Restores permission bits
// of files and directories, mtimes, empty directories and symbolic links.
Result<ExtractStats> extract_archive(const ByteSource& source, ArchiveFormat format, const std::string& target_dir,
                                     const std::string& name, const ExtractLimits& limits = {});

}  // namespace kite::filepath
