// Tar and zip transfers: round trips, interoperability with GNU tar, unzip,
// zip and the JDK's jar, and the extraction safety checks.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "runner/filepath/archive.hpp"
#include "runner/filepath/file_ops.hpp"
#include "test_support.hpp"

using namespace kite::filepath;
using kite::filepath::test::file_mode;
using kite::filepath::test::read_file;
using kite::filepath::test::run_shell;
using kite::filepath::test::TempDir;
using kite::filepath::test::write_file;

namespace {

ByteSink string_sink(std::string& out) {
  return [&out](std::span<const std::byte> bytes) -> Result<void> {
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return {};
  };
}

// Yields `data` in blocks of at most 1000 bytes, like chunks off the channel.
ByteSource string_source(const std::string& data) {
  auto offset = std::make_shared<std::size_t>(0);
  return [&data, offset](std::span<std::byte> buffer) -> Result<std::size_t> {
    const std::size_t n = std::min({buffer.size(), data.size() - *offset, std::size_t{1000}});
    std::memcpy(buffer.data(), data.data() + *offset, n);
    *offset += n;
    return n;
  };
}

Result<ExtractStats> extract_string(const std::string& data, ArchiveFormat format, const std::string& target,
                                    const ExtractLimits& limits = {}) {
  return extract_archive(string_source(data), format, target, "test-archive", limits);
}

const std::string kLongName = std::string(60, 'd') + "/" + std::string(70, 'f') + ".txt";
const std::string kUtf8Name = "caf\xC3\xA9-\xE6\x97\xA5\xE6\x9C\xAC.txt";

// A tree with the cases a round trip must keep: modes, an empty directory,
// a symbolic link, a long name and a non-ASCII name.
void make_tree(const TempDir& dir, const std::string& base) {
  write_file(dir / (base + "/bin/run.sh"), "#!/bin/sh\necho hi\n");
  ::chmod((dir / (base + "/bin/run.sh")).c_str(), 0755);
  write_file(dir / (base + "/secret.txt"), "s");
  ::chmod((dir / (base + "/secret.txt")).c_str(), 0600);
  write_file(dir / (base + "/" + kLongName), "long");
  write_file(dir / (base + "/" + kUtf8Name), "utf8");
  std::filesystem::create_directories(dir / (base + "/empty"));
  std::filesystem::create_symlink("bin/run.sh", dir / (base + "/link"));
  REQUIRE(touch(dir / (base + "/secret.txt"), 1'234'567'890'000));
}

// `links_as_links` is false for a zip Kite wrote: Jenkins' ZipArchiver stores
// the file a symbolic link points to, not the link.
void check_tree(const std::string& root, bool links_as_links = true) {
  CHECK(read_file(root + "/bin/run.sh") == "#!/bin/sh\necho hi\n");
  CHECK(file_mode(root + "/bin/run.sh") == 0755);
  CHECK(file_mode(root + "/secret.txt") == 0600);
  CHECK(last_modified(root + "/secret.txt") == 1'234'567'890'000);
  CHECK(read_file(root + "/" + kLongName) == "long");
  CHECK(read_file(root + "/" + kUtf8Name) == "utf8");
  CHECK(is_directory(root + "/empty"));
  if (links_as_links) {
    CHECK(*read_link(root + "/link") == std::optional<std::string>("bin/run.sh"));
  } else {
    CHECK(*read_link(root + "/link") == std::nullopt);
    CHECK(read_file(root + "/link") == "#!/bin/sh\necho hi\n");
  }
}

// Builds an archive with Python's tarfile/zipfile (hostile names included).
std::string python_archive(const TempDir& dir, const std::string& script) {
  write_file(dir / "make.py", script);
  REQUIRE(run_shell("cd '" + dir.path() + "' && python3 make.py") == 0);
  return read_file(dir / "out.bin");
}

}  // namespace

TEST_CASE("tar gzip round trip keeps modes links and empty dirs", "[filepath][archive]") {
  TempDir dir;
  make_tree(dir, "ws");
  std::string archive;
  auto count = write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::TarGzip, string_sink(archive));
  REQUIRE(count);
  CHECK(*count == 9);  // ws, bin, bin/run.sh, secret.txt, long dir, long file, utf8, empty, link

  auto stats = extract_string(archive, ArchiveFormat::TarGzip, dir / "out");
  REQUIRE(stats);
  CHECK(stats->entries == static_cast<std::uint64_t>(*count));
  check_tree(dir / "out/ws");
}

TEST_CASE("glob selection archives included files only", "[filepath][archive]") {
  TempDir dir;
  make_tree(dir, "ws");
  write_file(dir / "ws/.git/HEAD", "ref");
  write_file(dir / "ws/build.log", "log");
  std::string archive;
  GlobSelection glob{"**/*.txt, bin/**, link", std::string("**/secret*"), true, true};
  auto count = write_archive(dir / "ws", DirSelection{glob}, ArchiveFormat::Tar, string_sink(archive));
  REQUIRE(count);
  CHECK(*count == 4);  // bin/run.sh, long name, utf8 name, link
  REQUIRE(extract_string(archive, ArchiveFormat::Tar, dir / "out"));
  CHECK(exists(dir / "out/bin/run.sh"));
  CHECK_FALSE(exists(dir / "out/secret.txt"));
  CHECK_FALSE(exists(dir / "out/.git/HEAD"));
  CHECK_FALSE(exists(dir / "out/build.log"));
  CHECK(read_link(dir / "out/link")->has_value());

  std::string empty;
  GlobSelection none{"*.none", std::nullopt, true, true};
  CHECK(*write_archive(dir / "ws", DirSelection{none}, ArchiveFormat::TarGzip, string_sink(empty)) == 0);
  CHECK(*write_archive(dir / "missing", DirSelection{none}, ArchiveFormat::TarGzip, string_sink(empty)) == 0);
}

TEST_CASE("explicit selection renames entries", "[filepath][archive]") {
  TempDir dir;
  write_file(dir / "ws/target/app.jar", "jar");
  write_file(dir / "ws/README", "readme");
  ExplicitSelection files{{{"artifacts/app.jar", "target/app.jar"}, {"README", "README"}}};
  std::string archive;
  auto count = write_archive(dir / "ws", DirSelection{files}, ArchiveFormat::TarGzip, string_sink(archive));
  REQUIRE(count);
  CHECK(*count == 2);
  REQUIRE(extract_string(archive, ArchiveFormat::TarGzip, dir / "out"));
  CHECK(read_file(dir / "out/artifacts/app.jar") == "jar");
  CHECK(read_file(dir / "out/README") == "readme");
}

TEST_CASE("tar dialect uses GNU long names", "[filepath][archive]") {
  TempDir dir;
  make_tree(dir, "ws");
  std::string archive;
  REQUIRE(write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::Tar, string_sink(archive)));
  CHECK(archive.find("././@LongLink") != std::string::npos);
  CHECK(archive.size() % 512 == 0);
  // The link's mode is the mode of the file it points to, as TarArchiver writes it.
  write_file(dir / "ours.tar", archive);
  const std::string listing = dir / "listing.txt";
  REQUIRE(run_shell("tar -tvf '" + dir / "ours.tar" + "' > '" + listing + "'") == 0);
  CHECK(read_file(listing).find("lrwxr-xr-x") != std::string::npos);
}

TEST_CASE("GNU tar reads what Kite writes", "[filepath][archive][interop]") {
  TempDir dir;
  make_tree(dir, "ws");
  std::string archive;
  REQUIRE(write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::TarGzip, string_sink(archive)));
  write_file(dir / "ours.tgz", archive);
  REQUIRE(mkdirs(dir / "gnu"));
  REQUIRE(run_shell("tar -xzpf '" + dir / "ours.tgz" + "' -C '" + dir / "gnu" + "'") == 0);
  check_tree(dir / "gnu/ws");
}

TEST_CASE("Kite reads what GNU tar writes", "[filepath][archive][interop]") {
  TempDir dir;
  make_tree(dir, "ws");
  for (const char* format : {"gnu", "posix", "ustar"}) {
    INFO(format);
    const std::string file = dir / (std::string("gnu-") + format + ".tgz");
    // ustar cannot store the 135-byte name, so that format gets no long name.
    const std::string exclude = std::string(format) == "ustar" ? " --exclude='ws/ddd*'" : "";
    REQUIRE(run_shell("cd '" + dir.path() + "' && tar --format=" + format + exclude + " -czf '" + file + "' ws") == 0);
    const std::string target = dir / (std::string("out-") + format);
    auto stats = extract_string(read_file(file), ArchiveFormat::TarGzip, target);
    REQUIRE(stats);
    CHECK(file_mode(target + "/ws/bin/run.sh") == 0755);
    CHECK(*read_link(target + "/ws/link") == std::optional<std::string>("bin/run.sh"));
    CHECK(is_directory(target + "/ws/empty"));
  }
}

TEST_CASE("zip round trip and unzip interop", "[filepath][archive][interop]") {
  TempDir dir;
  make_tree(dir, "ws");
  std::string archive;
  auto count = write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::Zip, string_sink(archive));
  REQUIRE(count);
  auto stats = extract_string(archive, ArchiveFormat::Zip, dir / "out");
  REQUIRE(stats);
  check_tree(dir / "out/ws", false);

  write_file(dir / "ours.zip", archive);
  REQUIRE(mkdirs(dir / "unzipped"));
  REQUIRE(run_shell("unzip -q '" + dir / "ours.zip" + "' -d '" + dir / "unzipped" + "'") == 0);
  CHECK(read_file(dir / "unzipped/ws/bin/run.sh") == "#!/bin/sh\necho hi\n");
  CHECK(file_mode(dir / "unzipped/ws/bin/run.sh") == 0755);
  CHECK(read_file(dir / ("unzipped/ws/" + kLongName)) == "long");
  CHECK(is_directory(dir / "unzipped/ws/empty"));
}

TEST_CASE("Kite reads zip and jar archives", "[filepath][archive][interop]") {
  TempDir dir;
  make_tree(dir, "ws");
  REQUIRE(run_shell("cd '" + dir.path() + "' && zip -qry made.zip ws") == 0);
  auto from_zip = extract_string(read_file(dir / "made.zip"), ArchiveFormat::Zip, dir / "from-zip");
  REQUIRE(from_zip);
  check_tree(dir / "from-zip/ws");

  if (run_shell("command -v jar >/dev/null 2>&1") != 0) {
    WARN("jar not found: skipping the JDK jar check");
    return;
  }
  write_file(dir / "j/pkg/A.class", "classbytes");
  write_file(dir / "j/" + kUtf8Name, "utf8");
  REQUIRE(run_shell("cd '" + dir / "j" + "' && jar cf ../made.jar .") == 0);
  auto from_jar = extract_string(read_file(dir / "made.jar"), ArchiveFormat::Zip, dir / "from-jar");
  REQUIRE(from_jar);
  CHECK(read_file(dir / "from-jar/pkg/A.class") == "classbytes");
  CHECK(read_file(dir / "from-jar/" + kUtf8Name) == "utf8");
  CHECK(exists(dir / "from-jar/META-INF/MANIFEST.MF"));
}

TEST_CASE("extraction rejects path traversal", "[filepath][archive][security]") {
  TempDir dir;
  const std::string dotdot = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('ok.txt'); i.size = 2; t.addfile(i, io.BytesIO(b'ok'))
    i = tarfile.TarInfo('a/../../evil.txt'); i.size = 4; t.addfile(i, io.BytesIO(b'evil'))
)");
  auto escaped = extract_string(dotdot, ArchiveFormat::Tar, dir / "out");
  REQUIRE_FALSE(escaped);
  CHECK(escaped.error().message == "Failed to extract test-archive");
  REQUIRE(escaped.error().cause);
  CHECK(escaped.error().cause->message ==
        "Tar test-archive contains entry that escapes destination directory: a/../../evil.txt");
  CHECK_FALSE(exists(dir / "evil.txt"));
  CHECK(exists(dir / "out/ok.txt"));

  const std::string absolute = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('/tmp/kite-absolute-evil.txt'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
)");
  auto rooted = extract_string(absolute, ArchiveFormat::Tar, dir / "out2");
  REQUIRE_FALSE(rooted);
  CHECK(rooted.error().cause->message.find("/tmp/kite-absolute-evil.txt") != std::string::npos);
  CHECK_FALSE(exists("/tmp/kite-absolute-evil.txt"));

  const std::string zip = python_archive(dir, R"(
import zipfile
with zipfile.ZipFile('out.bin', 'w') as z:
    z.writestr('../zip-evil.txt', 'evil')
)");
  auto zipped = extract_string(zip, ArchiveFormat::Zip, dir / "out3");
  REQUIRE_FALSE(zipped);
  CHECK(zipped.error().message == "Zip test-archive contains illegal file name that breaks out of the target directory: ../zip-evil.txt");
  CHECK_FALSE(exists(dir / "zip-evil.txt"));
}

TEST_CASE("extraction rejects writes through symlinks", "[filepath][archive][security]") {
  TempDir dir;
  REQUIRE(mkdirs(dir / "outside"));
  const std::string through_link = python_archive(dir, R"(
import tarfile, io, os
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('link'); i.type = tarfile.SYMTYPE; i.linkname = os.path.abspath('outside'); t.addfile(i)
    i = tarfile.TarInfo('link/planted.txt'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
)");
  auto planted = extract_string(through_link, ArchiveFormat::Tar, dir / "out");
  REQUIRE_FALSE(planted);
  CHECK(planted.error().cause->message ==
        "Tar test-archive attempts to write to file with symlink in path: link/planted.txt");
  CHECK_FALSE(exists(dir / "outside/planted.txt"));

  const std::string file_link = python_archive(dir, R"(
import tarfile, io, os
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('f'); i.type = tarfile.SYMTYPE; i.linkname = os.path.abspath('outside/victim'); t.addfile(i)
    i = tarfile.TarInfo('f'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
)");
  auto overwritten = extract_string(file_link, ArchiveFormat::Tar, dir / "out2");
  REQUIRE_FALSE(overwritten);
  CHECK(overwritten.error().cause->message.find("would write through existing symlink") != std::string::npos);
  CHECK_FALSE(exists(dir / "outside/victim"));

  const std::string hard = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('passwd'); i.type = tarfile.LNKTYPE; i.linkname = '../../../../etc/passwd'; t.addfile(i)
)");
  auto hard_linked = extract_string(hard, ArchiveFormat::Tar, dir / "out3");
  REQUIRE_FALSE(hard_linked);
  CHECK(hard_linked.error().cause->message ==
        "Tar test-archive contains a hard link that escapes destination directory: passwd");
  CHECK_FALSE(exists(dir / "out3/passwd"));

  const std::string inside = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('a.txt'); i.size = 1; t.addfile(i, io.BytesIO(b'a'))
    i = tarfile.TarInfo('b.txt'); i.type = tarfile.LNKTYPE; i.linkname = 'a.txt'; t.addfile(i)
)");
  REQUIRE(extract_string(inside, ArchiveFormat::Tar, dir / "out4"));
  CHECK(read_file(dir / "out4/b.txt") == "a");

  const std::string device = python_archive(dir, R"(
import tarfile
with tarfile.open('out.bin', 'w') as t:
    i = tarfile.TarInfo('null'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
)");
  auto special = extract_string(device, ArchiveFormat::Tar, dir / "out5");
  REQUIRE_FALSE(special);
  CHECK(special.error().cause->message.find("unsupported entry type") != std::string::npos);
}

TEST_CASE("extraction bounds size and entry count", "[filepath][archive][security]") {
  TempDir dir;
  // 64 MiB of zeros compress to about 64 KiB.
  const std::string bomb = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w:gz') as t:
    data = bytes(64 << 20)
    i = tarfile.TarInfo('zeros'); i.size = len(data); t.addfile(i, io.BytesIO(data))
)");
  CHECK(bomb.size() < (1 << 20));
  ExtractLimits limits;
  limits.max_total_bytes = 1 << 20;
  auto exploded = extract_string(bomb, ArchiveFormat::TarGzip, dir / "out", limits);
  REQUIRE_FALSE(exploded);
  CHECK(exploded.error().cause->message ==
        "Tar test-archive expands to more than 1048576 bytes, the limit for one extraction, at entry: zeros");

  const std::string many = python_archive(dir, R"(
import tarfile, io
with tarfile.open('out.bin', 'w') as t:
    for n in range(50):
        i = tarfile.TarInfo('f%d' % n); t.addfile(i, io.BytesIO(b''))
)");
  ExtractLimits few;
  few.max_entries = 10;
  auto crowded = extract_string(many, ArchiveFormat::Tar, dir / "out2", few);
  REQUIRE_FALSE(crowded);
  CHECK(crowded.error().cause->message == "Tar test-archive has more than 10 entries, the limit for one extraction");

  ExtractLimits small_zip;
  small_zip.max_archive_bytes = 100;
  std::string archive;
  make_tree(dir, "ws");
  REQUIRE(write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::Zip, string_sink(archive)));
  auto spooled = extract_string(archive, ArchiveFormat::Zip, dir / "out3", small_zip);
  REQUIRE_FALSE(spooled);
  CHECK(spooled.error().message == "Zip test-archive is larger than 100 bytes, the limit for one extraction");
}

TEST_CASE("corrupt streams give typed errors", "[filepath][archive]") {
  TempDir dir;
  auto garbage = extract_string(std::string(3000, 'x'), ArchiveFormat::TarGzip, dir / "out");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().message == "Failed to extract test-archive");

  std::string archive;
  make_tree(dir, "ws");
  std::string noise;
  std::mt19937 random(42);
  for (int i = 0; i < 200'000; ++i) noise += static_cast<char>(random());
  write_file(dir / "ws/noise.bin", noise);
  REQUIRE(write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::TarGzip, string_sink(archive)));
  auto truncated = extract_string(archive.substr(0, archive.size() / 2), ArchiveFormat::TarGzip, dir / "out2");
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().cause->message.find("runcated") != std::string::npos);

  auto failing_source = extract_archive(
      [](std::span<std::byte>) -> Result<std::size_t> { return std::unexpected(io_error("channel closed")); },
      ArchiveFormat::Tar, dir / "out3", "pipe");
  REQUIRE_FALSE(failing_source);
  REQUIRE(failing_source.error().cause);
  CHECK(failing_source.error().cause->message == "channel closed");

  auto failing_sink = write_archive(dir / "ws", DirSelection{FullSelection{}}, ArchiveFormat::Tar,
                                    [](std::span<const std::byte>) -> Result<void> {
                                      return std::unexpected(io_error("Pipe is already closed"));
                                    });
  REQUIRE_FALSE(failing_sink);
  CHECK(failing_sink.error().message == "Pipe is already closed");
}
