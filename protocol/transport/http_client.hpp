// HTTP(S) plumbing shared by the readiness probe, the .jnlp download and the
// WebSocket upgrade: TLS trust settings, proxy selection from the
// environment, and a bounded GET. libcurl does the TCP, proxy CONNECT and TLS
// work; see docs/transport.md for why.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using CURL = void;

namespace kite::transport {

struct NetOptions {
  // PEM certificates trusted in addition to the system CAs (agent.jar -cert).
  std::vector<std::string> extra_ca_pem;
  // Disable certificate and host name verification (-noCertificateCheck).
  bool no_certificate_check = false;
  // "user:password" for the HTTP proxy (-proxyCredentials).
  std::string proxy_credentials;
  std::chrono::milliseconds connect_timeout{30000};
  // Reads an environment variable; tests replace it. Defaults to getenv.
  std::function<std::optional<std::string>(const char*)> getenv;
};

// Proxy chosen for a URL from http_proxy/https_proxy/all_proxy (lower case
// first, then upper case) and no_proxy/NO_PROXY, whose matching libcurl does.
struct ProxyChoice {
  std::string proxy;     // empty: connect directly
  std::string no_proxy;  // passed to libcurl as is
};
ProxyChoice choose_proxy(std::string_view url, const NetOptions& options);

// Loads certificates for -cert: "@path" reads a PEM file, text starting with
// "-----BEGIN" is PEM itself, anything else is taken as a path. Returns the
// PEM text after checking that it holds at least one certificate.
std::expected<std::string, std::string> load_certificate_option(std::string_view value);

// Which network step failed; the daemon picks its retry delay from it.
enum class NetFailure {
  kNetwork,   // resolve, connect, reset, end of stream
  kTimeout,
  kTls,       // handshake or certificate verification
  kProxy,     // the proxy refused CONNECT or its credentials
  kHttp,      // the server answered with an unexpected HTTP status
  kProtocol,  // the answer was not what the protocol requires
  kTooLarge,  // a body or header block over its size limit
};

struct NetError {
  NetFailure failure = NetFailure::kNetwork;
  std::string message;
  int http_status = 0;
  std::string body;  // start of the response body, when there was one
};

struct CurlDeleter {
  void operator()(CURL* handle) const;
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// Applies TLS and proxy settings for `url` to `handle`. The handle keeps
// pointers into `options`, which must outlive the transfer.
std::expected<void, NetError> configure_curl(CURL* handle, const std::string& url, const NetOptions& options);

// Maps a failed libcurl transfer to a NetError.
NetError describe_curl_error(CURL* handle, int code, const char* error_buffer, std::string_view what);

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// GETs `url`, following up to 5 redirects, keeping at most `max_body` bytes
// of the body (more is an error).
std::expected<HttpResponse, NetError> http_get(const std::string& url, const NetOptions& options,
                                               const std::vector<std::string>& headers, std::size_t max_body);

}  // namespace kite::transport
