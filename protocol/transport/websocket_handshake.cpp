// Opening the connection and the HTTP/1.1 upgrade to <controller>/wsagents/.
#include <poll.h>

#include <algorithm>
#include <cctype>

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "protocol/transport/capability.hpp"
#include "protocol/transport/websocket_transport.hpp"
#include "protocol/transport/websocket_transport_impl.hpp"

namespace kite::transport {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxResponseHeader = 16 * 1024;
constexpr std::size_t kMaxErrorBody = 16 * 1024;
constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60000));
}

// Waits for the socket; false on time-out.
bool wait_socket(curl_socket_t socket, short events, Clock::time_point deadline) {
  pollfd fd{socket, events, 0};
  for (;;) {
    const int timeout = remaining_ms(deadline);
    const int ready = ::poll(&fd, 1, timeout);
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

ConnectError network_error(std::string message) { return ConnectError{ConnectFailure::kNetwork, std::move(message), 0}; }

std::expected<void, ConnectError> send_all(CURL* curl, curl_socket_t socket, std::string_view data,
                                           Clock::time_point deadline) {
  std::size_t sent_total = 0;
  while (sent_total < data.size()) {
    size_t sent = 0;
    const CURLcode code = curl_easy_send(curl, data.data() + sent_total, data.size() - sent_total, &sent);
    if (code == CURLE_AGAIN) {
      if (!wait_socket(socket, POLLOUT, deadline)) return std::unexpected(network_error("timed out sending the upgrade request"));
      continue;
    }
    if (code != CURLE_OK) {
      return std::unexpected(network_error(fmt::format("sending the upgrade request failed: {}", curl_easy_strerror(code))));
    }
    sent_total += sent;
  }
  return {};
}

// Reads more bytes into `buffer`. Returns the count, 0 at end of stream.
std::expected<std::size_t, ConnectError> receive_some(CURL* curl, curl_socket_t socket, std::string& buffer,
                                                      Clock::time_point deadline) {
  char chunk[4096];
  for (;;) {
    size_t received = 0;
    const CURLcode code = curl_easy_recv(curl, chunk, sizeof chunk, &received);
    if (code == CURLE_AGAIN) {
      if (!wait_socket(socket, POLLIN, deadline)) {
        return std::unexpected(ConnectError{ConnectFailure::kNetwork, "timed out waiting for the upgrade response", 0});
      }
      continue;
    }
    if (code != CURLE_OK) {
      return std::unexpected(network_error(fmt::format("reading the upgrade response failed: {}", curl_easy_strerror(code))));
    }
    buffer.append(chunk, received);
    return received;
  }
}

struct ParsedResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

std::expected<ParsedResponse, std::string> parse_response_head(std::string_view head) {
  ParsedResponse response;
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.")) {
    return std::unexpected(fmt::format("the answer does not start with an HTTP/1.x status line: '{}'",
                                       status_line.substr(0, std::min<std::size_t>(status_line.size(), 60))));
  }
  const auto space = status_line.find(' ');
  if (space == std::string_view::npos || status_line.size() < space + 4) return std::unexpected("malformed HTTP status line");
  for (std::size_t i = space + 1; i < space + 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(status_line[i]))) return std::unexpected("malformed HTTP status code");
  }
  response.status = std::stoi(std::string(status_line.substr(space + 1, 3)));
  response.reason = std::string(trim(status_line.substr(std::min(status_line.size(), space + 4))));

  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    line_end = head.find("\r\n", pos);
    if (line_end == std::string_view::npos) line_end = head.size();
    const std::string_view line = head.substr(pos, line_end - pos);
    pos = line_end + 2;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    response.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return response;
}

// Decodes a chunked body as far as it goes; enough for an error message.
std::string dechunk(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size() && out.size() < kMaxErrorBody) {
    const auto line_end = body.find("\r\n", pos);
    if (line_end == std::string_view::npos) break;
    std::size_t size = 0;
    try {
      size = std::stoul(std::string(body.substr(pos, line_end - pos)), nullptr, 16);
    } catch (const std::exception&) {
      break;
    }
    if (size == 0) break;
    pos = line_end + 2;
    out.append(body.substr(pos, std::min(size, body.size() - pos)));
    pos += size + 2;
  }
  return out;
}

bool body_complete(const ParsedResponse& response, std::string_view body) {
  if (auto length = response.header("content-length")) {
    try {
      return body.size() >= std::stoul(*length);
    } catch (const std::exception&) {
      return false;
    }
  }
  if (auto encoding = response.header("transfer-encoding"); encoding && lower(*encoding).find("chunked") != std::string::npos) {
    return body.find("\r\n0\r\n") != std::string_view::npos || body.starts_with("0\r\n");
  }
  return false;  // read until the end of stream or the deadline
}

// One line of printable text from an error body, for the log.
std::string summarize_body(std::string_view body) {
  std::string text;
  for (char c : trim(body)) {
    if (c == '\n' || c == '\r') {
      if (!text.empty() && text.back() != ' ') text += ' ';
      continue;
    }
    text += (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) ? c : '?';
    if (text.size() >= 300) {
      text += "...";
      break;
    }
  }
  return std::string(trim(text));
}

bool looks_like_html(const ParsedResponse& response, std::string_view body) {
  if (auto type = response.header("content-type"); type && lower(*type).find("html") != std::string::npos) return true;
  const auto start = body.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && body[start] == '<';
}

ConnectError classify_refusal(const WebSocketConnectOptions& options, const ParsedResponse& response,
                              std::string_view raw_body) {
  std::string body(raw_body);
  if (auto encoding = response.header("transfer-encoding"); encoding && lower(*encoding).find("chunked") != std::string::npos) {
    body = dechunk(raw_body);
  }
  const bool html = looks_like_html(response, body);
  const std::string url = options.controller_url + "wsagents/";
  const int status = response.status;

  ConnectError error;
  error.http_status = status;
  if (status == 403) {
    error.failure = ConnectFailure::kRejected;
    error.message = fmt::format("the controller rejected the secret of agent '{}' (HTTP 403 Forbidden){}; check -secret or JENKINS_SECRET",
                                options.node_name, html ? ", or a proxy in front of it denied access" : "");
  } else if (status == 400 && !html) {
    error.failure = ConnectFailure::kRefused;
    error.message = fmt::format("the controller rejected agent '{}' (HTTP 400): {}", options.node_name,
                                body.empty() ? std::string("no reason given") : summarize_body(body));
  } else if (status == 404) {
    error.failure = ConnectFailure::kNotFound;
    error.message = fmt::format("no WebSocket agent endpoint at {} (HTTP 404); check the controller URL and that "
                                "the controller supports WebSocket agents", url);
  } else if (status >= 500 && !html) {
    error.failure = ConnectFailure::kServerError;
    error.message = fmt::format("the controller answered the upgrade with HTTP {} {}: {}", status, response.reason,
                                summarize_body(body));
  } else {
    error.failure = ConnectFailure::kNotJenkins;
    error.message = fmt::format("{} answered HTTP {} {}{} instead of a WebSocket upgrade: this is not a Jenkins "
                                "controller's agent endpoint (wrong URL, or a proxy or login page in between?)",
                                url, status, response.reason, html ? " with an HTML page" : "");
  }
  return error;
}

std::string random_key() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string expected_accept(const std::string& key) {
  const std::string text = key + std::string(kWebSocketGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

struct UrlParts {
  std::string host_header;
  std::string path;
};

std::expected<UrlParts, ConnectError> split_url(const std::string& url) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return std::unexpected(network_error("curl_url failed"));
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> guard(handle, &curl_url_cleanup);
  if (curl_url_set(handle, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::unexpected(ConnectError{ConnectFailure::kNotFound, fmt::format("invalid controller URL '{}'", url), 0});
  }
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  UrlParts parts;
  if (curl_url_get(handle, CURLUPART_HOST, &host, 0) == CURLUE_OK) parts.host_header = host;
  if (curl_url_get(handle, CURLUPART_PORT, &port, 0) == CURLUE_OK) parts.host_header += std::string(":") + port;
  if (curl_url_get(handle, CURLUPART_PATH, &path, 0) == CURLUE_OK) parts.path = path;
  curl_free(host);
  curl_free(port);
  curl_free(path);
  if (parts.path.empty()) parts.path = "/";
  return parts;
}

bool header_has_token(const std::optional<std::string>& value, std::string_view token) {
  if (!value) return false;
  const std::string text = lower(*value);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    if (trim(std::string_view(text).substr(pos, comma - pos)) == token) return true;
    pos = comma + 1;
  }
  return false;
}

bool valid_header_text(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

std::string build_upgrade_request(const WebSocketConnectOptions& options, const std::string& host_header,
                                  const std::string& path, const std::string& key) {
  std::string request = fmt::format(
      "GET {} HTTP/1.1\r\n"
      "Host: {}\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: {}\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "User-Agent: kite\r\n"
      "Node-Name: {}\r\n"
      "Secret-Key: {}\r\n"
      "X-Remoting-Capability: {}\r\n",
      path, host_header, key, options.node_name, options.secret, options.capability_header);
  if (!options.cookie.empty()) request += fmt::format("Connection-Cookie: {}\r\n", options.cookie);
  for (const auto& [name, value] : options.extra_headers) request += fmt::format("{}: {}\r\n", name, value);
  request += "\r\n";
  return request;
}

std::expected<WebSocketConnection, ConnectError> connect_websocket(const WebSocketConnectOptions& options) {
  if (!valid_header_text(options.node_name) || !valid_header_text(options.secret) || !valid_header_text(options.cookie)) {
    return std::unexpected(ConnectError{ConnectFailure::kRefused, "the agent name, secret or cookie contains a line break", 0});
  }
  for (const auto& [name, value] : options.extra_headers) {
    if (!valid_header_text(name) || !valid_header_text(value) || name.empty() || name.find(':') != std::string::npos) {
      return std::unexpected(ConnectError{ConnectFailure::kRefused, fmt::format("invalid -webSocketHeader name '{}'", name), 0});
    }
  }

  const std::string url = options.controller_url + "wsagents/";
  auto parts = split_url(url);
  if (!parts) return std::unexpected(parts.error());

  CurlHandle curl(curl_easy_init());
  if (!curl) return std::unexpected(network_error("curl_easy_init failed"));
  if (auto configured = configure_curl(curl.get(), url, options.net); !configured) {
    return std::unexpected(network_error(configured.error().message));
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);

  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    const NetError net = describe_curl_error(curl.get(), code, error_buffer, "connecting to " + url);
    ConnectFailure failure = ConnectFailure::kNetwork;
    if (net.failure == NetFailure::kTls) failure = ConnectFailure::kTls;
    if (net.failure == NetFailure::kProxy) failure = ConnectFailure::kProxy;
    return std::unexpected(ConnectError{failure, net.message, net.http_status});
  }
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, nullptr);

  curl_socket_t socket = CURL_SOCKET_BAD;
  curl_easy_getinfo(curl.get(), CURLINFO_ACTIVESOCKET, &socket);
  if (socket == CURL_SOCKET_BAD) return std::unexpected(network_error("libcurl returned no socket"));

  const auto deadline = Clock::now() + options.timeouts.handshake_timeout;
  const std::string key = random_key();
  const std::string request = build_upgrade_request(options, parts->host_header, parts->path, key);
  if (auto sent = send_all(curl.get(), socket, request, deadline); !sent) return std::unexpected(sent.error());

  // Read the response head; bytes after it already belong to the WebSocket.
  std::string buffer;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxResponseHeader) {
      return std::unexpected(ConnectError{ConnectFailure::kNotJenkins,
                                          fmt::format("{} sent more than {} bytes of response headers", url, kMaxResponseHeader), 0});
    }
    auto received = receive_some(curl.get(), socket, buffer, deadline);
    if (!received) return std::unexpected(received.error());
    if (*received == 0) {
      return std::unexpected(network_error(fmt::format("{} closed the connection before answering the upgrade{}", url,
                                                       buffer.empty() ? "" : " completely")));
    }
  }

  auto response = parse_response_head(std::string_view(buffer).substr(0, head_end + 2));
  if (!response) {
    return std::unexpected(ConnectError{ConnectFailure::kNotJenkins, fmt::format("{}: {}", url, response.error()), 0});
  }
  std::string rest = buffer.substr(head_end + 4);

  if (response->status != 101) {
    // Read the body for its message, briefly and bounded.
    const auto body_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(2));
    while (rest.size() < kMaxErrorBody && !body_complete(*response, rest)) {
      auto received = receive_some(curl.get(), socket, rest, body_deadline);
      if (!received || *received == 0) break;
    }
    return std::unexpected(classify_refusal(options, *response, rest.substr(0, kMaxErrorBody)));
  }

  if (!header_has_token(response->header("upgrade"), "websocket") ||
      !header_has_token(response->header("connection"), "upgrade")) {
    return std::unexpected(ConnectError{ConnectFailure::kNotJenkins,
                                        fmt::format("{} answered 101 without 'Upgrade: websocket'", url), 101});
  }
  if (response->header("sec-websocket-accept").value_or("") != expected_accept(key)) {
    return std::unexpected(ConnectError{ConnectFailure::kNotJenkins,
                                        fmt::format("{} answered 101 with a wrong Sec-WebSocket-Accept", url), 101});
  }

  HandshakeInfo info;
  const auto capability = response->header("x-remoting-capability");
  if (!capability) {
    return std::unexpected(ConnectError{ConnectFailure::kNotJenkins,
                                        fmt::format("{} accepted the WebSocket but sent no X-Remoting-Capability header: "
                                                    "this is not a Jenkins controller's agent endpoint", url), 101});
  }
  auto mask = parse_capability_header(*capability);
  if (!mask) {
    return std::unexpected(ConnectError{ConnectFailure::kNotJenkins, fmt::format("{}: {}", url, mask.error()), 101});
  }
  info.controller_capability = *mask;
  if (auto cookie = response->header("connection-cookie"); cookie && !cookie->empty() && cookie->size() <= 256 &&
                                                            valid_header_text(*cookie)) {
    info.cookie = *cookie;
  }
  info.minimum_version = response->header("x-remoting-minimum-version").value_or("");

  auto impl = std::make_unique<WebSocketTransport::Impl>(std::move(curl), socket, options);
  impl->initial.assign(reinterpret_cast<const std::byte*>(rest.data()),
                       reinterpret_cast<const std::byte*>(rest.data()) + rest.size());
  return WebSocketConnection{std::make_shared<WebSocketTransport>(std::move(impl)), std::move(info)};
}

std::expected<void, ConnectError> probe_controller(const std::string& controller_url, const NetOptions& net) {
  const std::string url = controller_url + "login";
  auto response = http_get(url, net, {}, 4u << 20);
  if (!response) {
    ConnectFailure failure = ConnectFailure::kNetwork;
    if (response.error().failure == NetFailure::kTls) failure = ConnectFailure::kTls;
    if (response.error().failure == NetFailure::kProxy) failure = ConnectFailure::kProxy;
    return std::unexpected(ConnectError{failure, response.error().message, response.error().http_status});
  }
  if (response->status == 200) return {};
  const ConnectFailure failure = response->status == 404 ? ConnectFailure::kNotFound : ConnectFailure::kServerError;
  return std::unexpected(ConnectError{failure, fmt::format("GET {} returned HTTP {}", url, response->status), response->status});
}

}  // namespace kite::transport
