// Ant pattern matching, DirectoryScanner behaviour, FilePath.list(glob) and
// validateAntFileMask, checked against the matches Ant's manual documents.
#include <catch2/catch.hpp>

#include <filesystem>

#include "runner/filepath/ant_glob.hpp"
#include "runner/filepath/file_ops.hpp"
#include "test_support.hpp"

using namespace kite::filepath;
using kite::filepath::test::TempDir;
using kite::filepath::test::write_file;

namespace {

bool matches(const std::string& pattern, const std::string& path, bool case_sensitive = true) {
  auto parsed = AntPattern::parse(pattern);
  REQUIRE(parsed);
  return parsed->matches(path, case_sensitive);
}

}  // namespace

TEST_CASE("ant pattern table from the Ant manual", "[filepath][glob]") {
  struct Case {
    const char* pattern;
    const char* path;
    bool expected;
  };
  const Case cases[] = {
      {"**/CVS/*", "CVS/Repository", true},
      {"**/CVS/*", "org/apache/CVS/Entries", true},
      {"**/CVS/*", "org/apache/jakarta/tools/ant/CVS/Entries", true},
      {"**/CVS/*", "org/apache/CVS/foo/bar/Entries", false},
      {"org/apache/jakarta/**", "org/apache/jakarta/tools/ant/docs/index.html", true},
      {"org/apache/jakarta/**", "org/apache/jakarta/test.xml", true},
      {"org/apache/jakarta/**", "org/apache/xyz.java", false},
      {"org/apache/**/CVS/*", "org/apache/CVS/Entries", true},
      {"org/apache/**/CVS/*", "org/apache/jakarta/tools/ant/CVS/Entries", true},
      {"org/apache/**/CVS/*", "org/apache/CVS/foo/bar/Entries", false},
      {"**/test/**", "test/a.txt", true},
      {"**/test/**", "a/b/test/c/d.txt", true},
      {"**/test/**", "a/testing/d.txt", false},
      {"*.java", ".java", true},
      {"*.java", "x.java", true},
      {"*.java", "FooBar.java", true},
      {"*.java", "FooBar.xml", false},
      {"*.java", "dir/x.java", false},
      {"?.java", "x.java", true},
      {"?.java", "A.java", true},
      {"?.java", ".java", false},
      {"?.java", "xyz.java", false},
      {"**/*.java", "a.java", true},
      {"**/*.java", "a/b/c.java", true},
      {"test/", "test/a/b.txt", true},
      {"test\\*.txt", "test/a.txt", true},
      {"a//b", "a/b", true},
      {"**", "anything/at/all", true},
      {"a/**/b", "a/b", true},
      {"a/**/**/b", "a/x/y/b", true},
      {"/abs/*.txt", "abs/a.txt", false},
      {"*", "a/b", false},
  };
  for (const auto& c : cases) {
    INFO(c.pattern << " vs " << c.path);
    CHECK(matches(c.pattern, c.path) == c.expected);
  }
}

TEST_CASE("ant pattern case sensitivity", "[filepath][glob]") {
  CHECK_FALSE(matches("*.JAVA", "x.java", true));
  CHECK(matches("*.JAVA", "x.java", false));
  CHECK(matches("SRC/**", "src/a.c", false));
}

TEST_CASE("ant pattern bounds", "[filepath][glob]") {
  CHECK_FALSE(AntPattern::parse(std::string(kMaxPatternBytes + 1, 'a')));
  std::string deep;
  for (std::size_t i = 0; i <= kMaxPatternSegments; ++i) deep += "a/";
  deep += "b";
  CHECK_FALSE(AntPattern::parse(deep));
  // A star-heavy segment against a long name stays fast.
  CHECK_FALSE(matches(std::string(200, '*') + "b", std::string(4000, 'a')));
}

TEST_CASE("ant default excludes", "[filepath][glob]") {
  TempDir dir;
  for (const char* name : {".git/config", "a/.git/HEAD", "a/.gitignore", "foo~", "#foo#", ".#foo", "%x%", "._x",
                           "a/CVS/Entries", ".DS_Store", ".svn/entries", ".hg/store", "x/.bzrignore",
                           "keep/git/x", ".github/w.yml", "src/main.c"}) {
    write_file(dir / name, "x");
  }
  ScanOptions options;
  auto scan = ant_scan(dir.path(), options);
  REQUIRE(scan);
  CHECK(scan->files == std::vector<std::string>{".github/w.yml", "keep/git/x", "src/main.c"});

  options.default_excludes = false;
  scan = ant_scan(dir.path(), options);
  REQUIRE(scan);
  CHECK(scan->files.size() == 16);
  CHECK(ant_default_excludes().size() == 28);
}

TEST_CASE("ant scan includes excludes and symlinks", "[filepath][glob]") {
  TempDir dir;
  write_file(dir / "src/a.c", "");
  write_file(dir / "src/b.h", "");
  write_file(dir / "src/sub/c.c", "");
  write_file(dir / "doc/readme.txt", "");
  std::filesystem::create_directory_symlink(dir / "src/sub", dir / "linked");
  std::filesystem::create_symlink(dir / "missing", dir / "dangling.c");
  std::filesystem::create_directory_symlink(dir.path(), dir / "src/loop");

  ScanOptions options;
  options.includes = *parse_pattern_list("**/*.c, doc/");
  options.excludes = *parse_pattern_list("src/sub/**");
  auto scan = ant_scan(dir.path(), options);
  REQUIRE(scan);
  // src/loop points back at the base directory, which is being scanned, so
  // it is not entered; src/sub is excluded as a whole, linked/ is not.
  CHECK(scan->files == std::vector<std::string>{"doc/readme.txt", "linked/c.c", "src/a.c"});
  CHECK(std::find(scan->directories.begin(), scan->directories.end(), "doc") != scan->directories.end());

  options.follow_symlinks = false;
  scan = ant_scan(dir.path(), options);
  REQUIRE(scan);
  CHECK(scan->files == std::vector<std::string>{"doc/readme.txt", "src/a.c"});
}

TEST_CASE("list glob returns absolute paths", "[filepath][glob]") {
  TempDir dir;
  write_file(dir / "a/x.txt", "");
  write_file(dir / "b/y.log", "");
  auto listed = list_glob(dir.path(), "**/*.txt,**/*.log", "b/**", true);
  REQUIRE(listed);
  CHECK(*listed == std::vector<std::string>{dir / "a/x.txt"});

  auto absolute = list_glob(dir.path(), "/etc/*", "", true);
  REQUIRE_FALSE(absolute);
  CHECK(absolute.error().message ==
        "Expecting Ant GLOB pattern, but saw '/etc/*'. See https://ant.apache.org/manual/Types/fileset.html for syntax");

  auto missing = list_glob(dir / "nope", "**", "", true);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == dir / "nope" + " does not exist.");
}

TEST_CASE("validate ant file mask messages", "[filepath][glob]") {
  TempDir dir;
  write_file(dir / "target/reports/TEST-a.xml", "");
  write_file(dir / "build/out/app.jar", "");

  auto ok = validate_ant_file_mask(dir.path(), "target/reports/*.xml, build/**/*.jar", kValidateAntFileMaskBound, true);
  REQUIRE(ok);
  CHECK_FALSE(ok->has_value());

  auto tilde = validate_ant_file_mask(dir.path(), "~/x", kValidateAntFileMaskBound, true);
  CHECK(tilde->value() == "\u2018~\u2019 is only supported in a Unix shell and nowhere else.");

  auto case_only = validate_ant_file_mask(dir.path(), "TARGET/reports/*.xml", kValidateAntFileMaskBound, true);
  CHECK(case_only->value() ==
        "\u2018TARGET/reports/*.xml\u2019 doesn\u2019t match anything because it is treated case sensitively. You can "
        "deactivate case sensitivity to get matches");

  auto spaces = validate_ant_file_mask(dir.path(), "target/reports/*.xml build/out/*.jar", kValidateAntFileMaskBound, true);
  CHECK(spaces->value() ==
        "Whitespace can no longer be used as the separator. Please Use \u2018,\u2019 as the separator instead.");

  auto too_long = validate_ant_file_mask(dir.path(), "ws/target/reports/*.xml", kValidateAntFileMaskBound, true);
  CHECK(too_long->value() ==
        "\u2018ws/target/reports/*.xml\u2019 doesn\u2019t match anything, but \u2018target/reports/*.xml\u2019 does. "
        "Perhaps that\u2019s what you mean?");

  auto too_short = validate_ant_file_mask(dir.path(), "reports/*.xml", kValidateAntFileMaskBound, true);
  CHECK(too_short->value() ==
        "\u2018reports/*.xml\u2019 doesn\u2019t match anything, but \u2018target/reports/*.xml\u2019 does. Perhaps "
        "that\u2019s what you mean?");

  auto portion = validate_ant_file_mask(dir.path(), "target/nothing/*.xml", kValidateAntFileMaskBound, true);
  CHECK(portion->value() ==
        "\u2018target/nothing/*.xml\u2019 doesn\u2019t match anything: \u2018target\u2019 exists but not "
        "\u2018target/nothing/*.xml\u2019");

  auto nothing = validate_ant_file_mask(dir.path(), "*.none", kValidateAntFileMaskBound, true);
  CHECK(nothing->value() == "\u2018*.none\u2019 doesn\u2019t match anything");

  auto even = validate_ant_file_mask(dir.path(), "zzz/*.none", kValidateAntFileMaskBound, true);
  CHECK(even->value() == "\u2018zzz/*.none\u2019 doesn\u2019t match anything: even \u2018zzz\u2019 doesn\u2019t exist");
}

TEST_CASE("validate ant file mask bound", "[filepath][glob]") {
  TempDir dir;
  for (int i = 0; i < 50; ++i) write_file(dir / ("d" + std::to_string(i) + "/f.txt"), "");
  auto bounded = validate_ant_file_mask(dir.path(), "**/*.none", 10, true);
  REQUIRE_FALSE(bounded);
  CHECK(bounded.error().kind == JavaException::FileMaskNoMatchesFoundException);
  CHECK(bounded.error().message == "no matches found within 10");
  CHECK(bounded.error().java_class() == "hudson.FilePath$FileMaskNoMatchesFoundException");
}
