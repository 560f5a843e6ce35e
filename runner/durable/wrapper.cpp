#include "runner/durable/wrapper.hpp"

#include <string_view>

namespace kite::durable {
namespace {

constexpr std::string_view kBackgroundSuffix = ") >&- 2>&- &";

}  // namespace

bool is_wrapper_command(const std::vector<std::string>& argv) {
  if (argv.size() < 3 || argv.size() > 4) return false;
  if (argv.size() == 4 && argv[0] != "nohup") return false;
  const std::string& shell = argv[argv.size() - 3];
  const std::string& script = argv.back();
  return (shell == "sh" || shell.ends_with("/sh")) && argv[argv.size() - 2] == "-c" && script.starts_with("(") &&
         script.ends_with(kBackgroundSuffix) && script.find("jenkins-result.txt") != std::string::npos &&
         script.find("jsc=durable-") != std::string::npos;
}

bool foreground_wrapper(std::vector<std::string>& argv) {
  if (!is_wrapper_command(argv)) return false;
  std::string& script = argv.back();
  script.resize(script.size() - 2);  // ") >&- 2>&- &" becomes ") >&- 2>&-"
  return true;
}

}  // namespace kite::durable
