// Daemon configuration: one or more nodes, each its own connection to a
// controller, from the command line (one node) or a JSON file (several).
#pragma once

#include <chrono>
#include <expected>
#include <string_view>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kite::daemon {

struct NodeConfig {
  std::string url;     // controller root URL, normalized to end with '/'
  std::string name;    // agent name as configured on the controller
  std::string secret;  // never logged
  std::filesystem::path work_dir;        // empty: no work directory
  std::string internal_dir = "remoting";
  bool fail_if_work_dir_missing = false;
  std::vector<std::string> labels;       // informational, from the JSON file
  std::string sandbox_policy;            // policy name handed to the session
  std::vector<std::pair<std::string, std::string>> websocket_headers;
  std::vector<std::string> certificates_pem;  // extra trusted CAs
  bool no_certificate_check = false;
  std::string proxy_credentials;         // user:password, never logged
  bool no_reconnect = false;
  std::chrono::milliseconds ping_interval{20000};
  std::chrono::milliseconds pong_timeout{10000};
};

struct DaemonConfig {
  std::vector<NodeConfig> nodes;
  std::string log_file;          // empty: stderr only
  std::string log_level = "info";
  std::string session = "channel";  // "channel", or "echo"/"count" for transport diagnostics
};

// Returns `url` with a trailing '/', or an error for a URL that is not http(s).
std::expected<std::string, std::string> normalize_controller_url(std::string_view url);

}  // namespace kite::daemon
