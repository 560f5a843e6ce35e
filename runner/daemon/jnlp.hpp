// -jnlpUrl: agent.jar's older way to start, which downloads the agent's .jnlp
// file from the controller and takes its connection arguments from the
// <argument> elements of <application-desc>.
#pragma once

#include <atomic>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/transport/http_client.hpp"
#include "runner/daemon/agent_options.hpp"

namespace kite::daemon {

// Returns the text of every <argument> element, in document order, with XML
// entities and CDATA sections decoded. Bounded: at most 1 MiB of input and
// 256 arguments.
std::expected<std::vector<std::string>, std::string> parse_jnlp_arguments(std::string_view xml);

// Decrypts the body of "<jnlpUrl>?encrypt=true": a 16-byte IV followed by
// AES-128/CFB8 ciphertext keyed with the first 32 hex digits of the secret.
std::expected<std::string, std::string> decrypt_jnlp(std::string_view payload, std::string_view secret);

// Applies the arguments of a .jnlp file to `command_line` as agent.jar does
// (secret, name, -url, -webSocket, -workDir, -internalDir, -tunnel).
std::expected<void, std::string> apply_jnlp_arguments(AgentCommandLine& command_line,
                                                      const std::vector<std::string>& arguments);

// Downloads and applies the .jnlp file of `command_line.jnlp_url`. Retries
// every 10 s while `stop` stays false, unless -noReconnect was given.
std::expected<void, std::string> resolve_jnlp(AgentCommandLine& command_line, const transport::NetOptions& net,
                                              const std::atomic<bool>& stop);

}  // namespace kite::daemon
