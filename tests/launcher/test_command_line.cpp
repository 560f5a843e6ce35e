// The "[ws] $ cmd" line of Launcher.printCommandLine.
#include <catch2/catch.hpp>

#include "runner/launcher/command_line.hpp"

using kite::launcher::format_command_line;
using kite::launcher::workdir_label;

TEST_CASE("workdir label is the last component", "[command_line]") {
  CHECK(workdir_label("/home/agent/workspace/job") == "job");
  CHECK(workdir_label("C:\\ws\\job") == "job");
  CHECK(workdir_label("/job") == "/job");        // needs a character before the separator
  CHECK(workdir_label("/home/ws/") == "");
  CHECK(workdir_label("job") == "job");
  CHECK(workdir_label("") == "");
  CHECK(workdir_label("/a/b\n/c/d") == "b\n/c/d");  // '.' stops at a line terminator
}

TEST_CASE("command line quoting and masks", "[command_line]") {
  auto line = format_command_line({"/bin/sh", "-xe", "/tmp/jenkins1.sh"}, std::nullopt, std::string("/ws/job"));
  REQUIRE(line.has_value());
  CHECK(*line == "[job] $ /bin/sh -xe /tmp/jenkins1.sh\n");

  line = format_command_line({"echo", "a b", "say \"hi\" now", "x\"y"}, std::nullopt, std::nullopt);
  REQUIRE(line.has_value());
  CHECK(*line == "$ echo \"a b\" 'say \"hi\" now' x\"y\n");

  line = format_command_line({"curl", "-u", "user:secret", "with space"},
                             std::vector<bool>{false, false, true, true}, std::string("/w"));
  REQUIRE(line.has_value());
  CHECK(*line == "[/w] $ curl -u ******** ********\n");

  line = format_command_line({"a", "b"}, std::vector<bool>{true}, std::nullopt);
  CHECK_FALSE(line.has_value());
}
