// The single-file and directory operations of FilePath, including the
// failures and the Java exception each one maps to.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "runner/filepath/archive.hpp"
#include "runner/filepath/file_ops.hpp"
#include "test_support.hpp"

using namespace kite::filepath;
using kite::filepath::test::file_mode;
using kite::filepath::test::read_file;
using kite::filepath::test::run_shell;
using kite::filepath::test::run_unprivileged;
using kite::filepath::test::TempDir;
using kite::filepath::test::write_file;

namespace {

std::string as_text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

TEST_CASE("queries on present and missing files", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "f.txt", "hello");
  CHECK(exists(dir / "f.txt"));
  CHECK_FALSE(exists(dir / "missing"));
  CHECK(is_directory(dir.path()));
  CHECK_FALSE(is_directory(dir / "f.txt"));
  CHECK(length(dir / "f.txt") == 5);
  CHECK(length(dir / "missing") == 0);
  CHECK(last_modified(dir / "missing") == 0);
  CHECK(last_modified(dir / "f.txt") > 1'600'000'000'000);

  std::filesystem::create_symlink(dir / "missing", dir / "dangling");
  CHECK_FALSE(exists(dir / "dangling"));

  CHECK(total_disk_space(dir.path()) > 0);
  CHECK(usable_disk_space(dir.path()) > 0);
  CHECK(free_disk_space(dir.path()) >= usable_disk_space(dir.path()));
  CHECK(total_disk_space(dir / "missing") == 0);
}

TEST_CASE("absolutize joins the working directory", "[filepath][ops]") {
  const std::string cwd = std::filesystem::current_path().string();
  CHECK(absolutize("/a//b/") == "/a/b");
  CHECK(absolutize("x/../y") == cwd + "/x/../y");
  CHECK(absolutize("/") == "/");
}

TEST_CASE("mkdirs creates parents and reports failures", "[filepath][ops]") {
  TempDir dir;
  auto made = mkdirs(dir / "a/b/c");
  REQUIRE(made);
  CHECK(*made);
  CHECK(is_directory(dir / "a/b/c"));
  CHECK(*mkdirs(dir / "a/b/c"));

  write_file(dir / "file", "x");
  CHECK(*mkdirs(dir / "file"));  // something exists there: Java's Mkdirs returns true
  auto under_file = mkdirs(dir / "file/sub");
  REQUIRE_FALSE(under_file);
  CHECK(under_file.error().kind == JavaException::FileSystemException);
  CHECK(under_file.error().message == dir / "file/sub" + ": Not a directory");

  ::mkdir((dir / "locked").c_str(), 0555);
  const std::string target = dir / "locked/new";
  const int code = run_unprivileged([&] {
    auto result = mkdirs(target);
    if (result) return 1;
    if (result.error().kind != JavaException::AccessDeniedException) return 2;
    return result.error().message == target ? 0 : 3;
  });
  CHECK(code == 0);
}

TEST_CASE("touch chmod and mode", "[filepath][ops]") {
  TempDir dir;
  REQUIRE(touch(dir / "t", 1'500'000'000'123));
  CHECK(exists(dir / "t"));
  CHECK(last_modified(dir / "t") == 1'500'000'000'123);

  auto missing_parent = touch(dir / "no/t", 0);
  REQUIRE_FALSE(missing_parent);
  CHECK(missing_parent.error().kind == JavaException::NoSuchFileException);
  CHECK(missing_parent.error().java_class() == "java.nio.file.NoSuchFileException");

  REQUIRE(kite::filepath::chmod(dir / "t", 0750));
  CHECK(*mode(dir / "t") == 0750);
  REQUIRE(kite::filepath::chmod(dir / "t", 0100644));  // file type bits are ignored
  CHECK(*mode(dir / "t") == 0644);
  auto setuid = kite::filepath::chmod(dir / "t", 04755);
  REQUIRE_FALSE(setuid);
  CHECK(setuid.error().message == "Invalid mode: 2541");
  auto missing = kite::filepath::chmod(dir / "none", 0644);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == JavaException::NoSuchFileException);
  CHECK(missing.error().message == dir / "none");
  CHECK(mode(dir / "none").error().kind == JavaException::NoSuchFileException);
}

TEST_CASE("read streams and read to string", "[filepath][ops]") {
  TempDir dir;
  std::string big(200'000, 'z');
  write_file(dir / "big", big);
  std::string collected;
  int blocks = 0;
  auto count = read(dir / "big", [&](std::span<const std::byte> bytes) -> Result<void> {
    collected += as_text(bytes);
    ++blocks;
    return {};
  });
  REQUIRE(count);
  CHECK(*count == big.size());
  CHECK(collected == big);
  CHECK(blocks > 1);

  auto aborted = read(dir / "big", [](std::span<const std::byte>) -> Result<void> {
    return std::unexpected(io_error("Pipe is already closed"));
  });
  REQUIRE_FALSE(aborted);
  CHECK(aborted.error().message == "Pipe is already closed");

  auto missing = read(dir / "none", [](std::span<const std::byte>) -> Result<void> { return {}; });
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == JavaException::NoSuchFileException);

  write_file(dir / "utf8", "h\xC3\xA9llo \xE2\x82\xAC");
  CHECK(*read_to_string(dir / "utf8") == "h\xC3\xA9llo \xE2\x82\xAC");
  write_file(dir / "latin1", "h\xE9llo");
  auto malformed = read_to_string(dir / "latin1");
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().java_class() == "java.nio.charset.MalformedInputException");
  // Java 17's decoder reports 3 for a three-byte lead followed by two more bytes.
  CHECK(malformed.error().message == "Input length = 3");
  write_file(dir / "latin1-end", "caf\xE9");
  auto at_end = read_to_string(dir / "latin1-end");
  REQUIRE_FALSE(at_end);
  CHECK(at_end.error().message == "Input length = 1");

  write_file(dir / "secret", "s");
  ::chmod((dir / "secret").c_str(), 0);  // unreadable for its owner too, unless root
  const std::string secret = dir / "secret";
  const int code = run_unprivileged([&] {
    auto result = read_to_string(secret);
    if (result) return 1;
    return result.error().kind == JavaException::AccessDeniedException && result.error().message == secret ? 0 : 2;
  });
  CHECK(code == 0);
}

TEST_CASE("write encodes in the Java charset", "[filepath][ops]") {
  TempDir dir;
  const std::string text = "h\xC3\xA9llo \xE2\x82\xAC";  // "héllo €"
  REQUIRE(write(dir / "sub/dir/u8", text, std::nullopt));
  CHECK(read_file(dir / "sub/dir/u8") == text);

  REQUIRE(write(dir / "l1", text, "ISO-8859-1"));
  CHECK(read_file(dir / "l1") == "h\xE9llo ?");
  REQUIRE(write(dir / "cp", text, "windows-1252"));
  CHECK(read_file(dir / "cp") == "h\xE9llo \x80");
  REQUIRE(write(dir / "u16", "A\xC3\xA9", "UTF-16"));
  CHECK(read_file(dir / "u16") == std::string("\xFE\xFF\x00\x41\x00\xE9", 6));
  REQUIRE(write(dir / "u16le", "A", "UTF-16LE"));
  CHECK(read_file(dir / "u16le") == std::string("\x41\x00", 2));
  REQUIRE(write(dir / "empty16", "", "UTF-16"));
  CHECK(read_file(dir / "empty16").empty());

  write_file(dir / "old", "previous contents");
  auto unknown = write(dir / "old", text, "no-such-charset");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().java_class() == "java.io.UnsupportedEncodingException");
  CHECK(unknown.error().message == "no-such-charset");
  CHECK(read_file(dir / "old").empty());  // Java truncates before it looks up the charset
}

TEST_CASE("write matches the JDK encoders", "[filepath][ops][jdk]") {
  if (run_shell("command -v java >/dev/null 2>&1") != 0) {
    WARN("java not found: skipping the JDK comparison");
    return;
  }
  TempDir dir;
  const std::string text = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // Aé€😀z
  write_file(dir / "Encode.java",
             "import java.nio.file.*;\n"
             "public class Encode { public static void main(String[] a) throws Exception {\n"
             "  String s = \"A\\u00e9\\u20ac\\ud83d\\ude00z\";\n"
             "  for (String c : a) Files.write(Paths.get(\"" + dir.path() + "/jdk-\" + c), s.getBytes(c)); } }\n");
  const std::vector<std::string> charsets = {"UTF-8",  "ISO-8859-1", "US-ASCII", "UTF-16",     "UTF-16BE",
                                             "UTF-16LE", "UTF-32",   "windows-1252", "Shift_JIS", "GB18030"};
  std::string command = "java " + dir / "Encode.java";
  for (const auto& c : charsets) command += " " + c;
  REQUIRE(run_shell(command) == 0);
  for (const auto& charset : charsets) {
    INFO(charset);
    REQUIRE(write(dir / ("kite-" + charset), text, charset));
    CHECK(read_file(dir / ("kite-" + charset)) == read_file(dir / ("jdk-" + charset)));
  }
}

TEST_CASE("file writer copy from and copy to", "[filepath][ops]") {
  TempDir dir;
  auto writer = FileWriter::open(dir / "deep/w.bin");
  REQUIRE(writer);
  const std::string part = "chunk";
  REQUIRE(writer->write(std::as_bytes(std::span(part.data(), part.size()))));
  REQUIRE(writer->close());
  CHECK(read_file(dir / "deep/w.bin") == "chunk");

  std::string input(100'000, 'q');
  std::size_t offset = 0;
  auto copied = copy_from(dir / "from/c.bin", [&](std::span<std::byte> buffer) -> Result<std::size_t> {
    const std::size_t n = std::min(buffer.size(), input.size() - offset);
    std::memcpy(buffer.data(), input.data() + offset, n);
    offset += n;
    return n;
  });
  REQUIRE(copied);
  CHECK(*copied == input.size());
  CHECK(read_file(dir / "from/c.bin") == input);

  std::string out;
  REQUIRE(copy_to(dir / "from/c.bin", [&](std::span<const std::byte> bytes) -> Result<void> {
    out += as_text(bytes);
    return {};
  }));
  CHECK(out == input);

  ::chmod((dir / "from/c.bin").c_str(), 0640);
  REQUIRE(touch(dir / "from/c.bin", 1'000'000'000'000));
  REQUIRE(copy_to_with_permission(dir / "from/c.bin", dir / "to/nested/c.bin"));
  CHECK(read_file(dir / "to/nested/c.bin") == input);
  CHECK(file_mode(dir / "to/nested/c.bin") == 0640);
  CHECK(last_modified(dir / "to/nested/c.bin") == 1'000'000'000'000);
}

TEST_CASE("digest is lowercase md5", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "abc", "abc");
  CHECK(*digest(dir / "abc") == "900150983cd24fb0d6963f7d28e17f72");
  write_file(dir / "empty", "");
  CHECK(*digest(dir / "empty") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(digest(dir / "none").error().kind == JavaException::NoSuchFileException);
}

TEST_CASE("list and list directories", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "b.txt", "");
  write_file(dir / "a/x", "");
  std::filesystem::create_directory_symlink(dir / "a", dir / "link");
  CHECK(list(dir.path()) == std::vector<std::string>{dir / "a", dir / "b.txt", dir / "link"});
  CHECK(list_directories(dir.path()) == std::vector<std::string>{dir / "a", dir / "link"});
  CHECK(list(dir / "b.txt").empty());
  CHECK(list(dir / "none").empty());
}

TEST_CASE("delete file and its failures", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "f", "x");
  REQUIRE(delete_file(dir / "f"));
  CHECK_FALSE(exists(dir / "f"));
  CHECK(delete_file(dir / "f"));  // missing is fine

  write_file(dir / "full/x", "");
  auto not_empty = delete_file(dir / "full");
  REQUIRE_FALSE(not_empty);
  CHECK(not_empty.error().message ==
        "Unable to delete '" + dir / "full" + "'. Tried 3 times (of a maximum of 3) waiting 0.1 sec between attempts.");
  REQUIRE(not_empty.error().cause);
  CHECK(not_empty.error().cause->message ==
        "Unable to remove directory " + dir / "full" + " with directory contents: [" + dir / "full/x" + "]");
  REQUIRE(not_empty.error().cause->cause);
  CHECK(not_empty.error().cause->cause->kind == JavaException::DirectoryNotEmptyException);

  // A read-only file in a writable directory goes away.
  write_file(dir / "ro", "");
  ::chmod((dir / "ro").c_str(), 0444);
  REQUIRE(delete_file(dir / "ro"));
}

TEST_CASE("delete recursive never follows links", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "outside/keep.txt", "keep");
  write_file(dir / "tree/a/b/c.txt", "");
  write_file(dir / "tree/ro/inner.txt", "");
  std::filesystem::create_directory_symlink(dir / "outside", dir / "tree/link");
  std::filesystem::create_symlink(dir / "outside/keep.txt", dir / "tree/a/file-link");
  ::chmod((dir / "tree/ro").c_str(), 0555);
  ::chmod((dir / "tree/ro/inner.txt").c_str(), 0444);
  ::chmod((dir / "tree/a/b").c_str(), 0);

  REQUIRE(delete_recursive(dir / "tree"));
  CHECK_FALSE(exists(dir / "tree"));
  CHECK(read_file(dir / "outside/keep.txt") == "keep");
  CHECK(delete_recursive(dir / "tree"));  // missing is fine

  std::filesystem::create_directory_symlink(dir / "outside", dir / "top-link");
  REQUIRE(delete_recursive(dir / "top-link"));
  CHECK(exists(dir / "outside/keep.txt"));
}

TEST_CASE("delete recursive as an unprivileged user", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "box/mine/ro/inner.txt", "");
  write_file(dir / "root-owned/file", "");
  ::chmod((dir / "root-owned").c_str(), 0755);
  if (geteuid() == 0) {
    for (const char* owned : {"box", "box/mine", "box/mine/ro", "box/mine/ro/inner.txt"}) {
      REQUIRE(::chown((dir / owned).c_str(), 65534, 65534) == 0);
    }
  }
  ::chmod((dir / "box/mine/ro").c_str(), 0555);
  const std::string mine = dir / "box/mine";
  const std::string root_owned = dir / "root-owned";
  const std::string dir_path = dir.path();
  const int code = run_unprivileged([&] {
    // A read-only directory of one's own is made writable and removed.
    if (!delete_recursive(mine)) return 1;
    auto denied = delete_recursive(root_owned);
    if (denied) return 2;
    if (denied.error().message.rfind("Unable to delete '" + root_owned + "'", 0) != 0) return 3;
    return denied.error().cause && denied.error().cause->cause &&
                   denied.error().cause->cause->kind == JavaException::AccessDeniedException
               ? 0
               : 4;
  });
  if (geteuid() == 0) {
    CHECK(code == 0);
    CHECK_FALSE(exists(dir / "box/mine"));
    CHECK(exists(dir / "root-owned/file"));
  }
  (void)dir_path;
}

TEST_CASE("delete contents keeps the directory", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "d/x/y", "");
  write_file(dir / "d/z", "");
  REQUIRE(delete_contents(dir / "d"));
  CHECK(is_directory(dir / "d"));
  CHECK(list(dir / "d").empty());
}

TEST_CASE("rename to and move all children", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "a", "A");
  REQUIRE(rename_to(dir / "a", dir / "b"));
  CHECK(read_file(dir / "b") == "A");

  write_file(dir / "c", "C");
  auto taken = rename_to(dir / "c", dir / "b");
  REQUIRE_FALSE(taken);
  CHECK(taken.error().kind == JavaException::FileAlreadyExistsException);
  CHECK(taken.error().message == dir / "b");

  auto missing = rename_to(dir / "none", dir / "x");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == JavaException::NoSuchFileException);

  std::filesystem::create_symlink("b", dir / "link");
  REQUIRE(rename_to(dir / "link", dir / "link2"));
  CHECK(*read_link(dir / "link2") == std::optional<std::string>("b"));

  // The child named like its parent is the case JENKINS-16846 fixed.
  write_file(dir / "ws/ws/inner.txt", "i");
  write_file(dir / "ws/top.txt", "t");
  REQUIRE(move_all_children_to(dir / "ws", dir.path()));
  CHECK(read_file(dir / "ws/inner.txt") == "i");
  CHECK(read_file(dir / "top.txt") == "t");
  CHECK_FALSE(exists(dir / "ws.__rename"));

  auto no_source = move_all_children_to(dir / "gone", dir.path());
  REQUIRE_FALSE(no_source);
  CHECK(no_source.error().message.rfind("Failed to rename " + dir / "gone" + " to ", 0) == 0);
}

TEST_CASE("temporary files use Java naming", "[filepath][ops]") {
  TempDir dir;
  auto name = create_temp_file(dir.path(), "jenkins", ".sh");
  REQUIRE(name);
  CHECK(std::regex_match(*name, std::regex("jenkins[0-9]+\\.sh")));
  CHECK(exists(dir / *name));
  CHECK(std::regex_match(*create_temp_file(dir.path(), "abc", std::nullopt), std::regex("abc[0-9]+\\.tmp")));

  auto short_prefix = create_temp_file(dir.path(), "ab", ".x");
  REQUIRE_FALSE(short_prefix);
  CHECK(short_prefix.error().java_class() == "java.lang.IllegalArgumentException");
  CHECK(short_prefix.error().message == "Prefix string \"ab\" too short: length must be at least 3");

  auto no_dir = create_temp_file(dir / "none", "abc", ".x");
  REQUIRE_FALSE(no_dir);
  CHECK(no_dir.error().kind == JavaException::IOException);
  CHECK(no_dir.error().message == "No such file or directory");

  auto text = create_text_temp_file(dir / "ws", false, "jenkins", ".sh", "echo hi\n", dir / "tmp");
  REQUIRE_FALSE(text);  // dir/tmp does not exist
  CHECK(text.error().message == "Failed to create a temporary directory in " + dir / "tmp");
  REQUIRE(mkdirs(dir / "tmp"));
  text = create_text_temp_file(dir / "ws", false, "jenkins", ".sh", "echo hi\n", dir / "tmp");
  REQUIRE(text);
  CHECK(std::regex_match(*text, std::regex(dir / "tmp/jenkins[0-9]+\\.sh")));
  CHECK(read_file(*text) == "echo hi\n");
  text = create_text_temp_file(dir / "ws/new", true, "script", ".sh", "x", dir / "tmp");
  REQUIRE(text);
  CHECK(text->rfind(dir / "ws/new/script", 0) == 0);

  const mode_t old_mask = ::umask(022);
  auto temp_dir = create_temp_dir(dir.path(), "build.tmp");
  ::umask(old_mask);
  REQUIRE(temp_dir);
  CHECK(std::regex_match(*temp_dir, std::regex("build\\.tmp[0-9]+")));
  CHECK(file_mode(dir / *temp_dir) == 0755);
  CHECK(create_temp_dir(dir.path(), "a/b").error().kind == JavaException::IllegalArgumentException);
  CHECK(create_temp_dir(dir / "none", "x").error().kind == JavaException::NoSuchFileException);
}

TEST_CASE("symlink to and read link", "[filepath][ops]") {
  TempDir dir;
  REQUIRE(symlink_to(dir / "l", "../target"));
  CHECK(*read_link(dir / "l") == std::optional<std::string>("../target"));
  REQUIRE(symlink_to(dir / "l", "/abs"));  // replaces the existing link
  CHECK(*read_link(dir / "l") == std::optional<std::string>("/abs"));
  write_file(dir / "plain", "");
  CHECK_FALSE(read_link(dir / "plain")->has_value());
  CHECK_FALSE(read_link(dir / "none")->has_value());
  auto no_parent = symlink_to(dir / "none/l", "x");
  REQUIRE_FALSE(no_parent);
  CHECK(no_parent.error().kind == JavaException::NoSuchFileException);
}

TEST_CASE("copy recursive local", "[filepath][ops]") {
  TempDir dir;
  write_file(dir / "src/a/x.txt", "x");
  write_file(dir / "src/b.log", "b");
  write_file(dir / "src/.git/config", "c");
  ::chmod((dir / "src/a/x.txt").c_str(), 0700);
  std::filesystem::create_symlink("a/x.txt", dir / "src/link.txt");

  DirSelection selection{GlobSelection{"**/*.txt", std::nullopt, true, true}};
  auto count = copy_recursive_local(dir / "src", dir / "dst", selection);
  REQUIRE(count);
  CHECK(*count == 2);
  CHECK(read_file(dir / "dst/a/x.txt") == "x");
  CHECK(file_mode(dir / "dst/a/x.txt") == 0700);
  CHECK(*read_link(dir / "dst/link.txt") == std::optional<std::string>("a/x.txt"));
  CHECK_FALSE(exists(dir / "dst/b.log"));

  CHECK(*copy_recursive_local(dir / "none", dir / "dst2", selection) == 0);
}
