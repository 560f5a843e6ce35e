#include "protocol/transport/http_client.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace kite::transport {

void CurlDeleter::operator()(CURL* handle) const { curl_easy_cleanup(handle); }

namespace {

std::optional<std::string> env_value(const NetOptions& options, const char* name) {
  if (options.getenv) return options.getenv(name);
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> first_env(const NetOptions& options, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto value = env_value(options, name);
    if (value && !value->empty()) return value;
  }
  return std::nullopt;
}

// Adds the PEM certificates to the trust store libcurl built from the system
// CAs, so -cert extends the default trust instead of replacing it.
CURLcode add_extra_cas(CURL*, void* ssl_ctx, void* user) {
  const auto* options = static_cast<const NetOptions*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (const std::string& pem : options->extra_ca_pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) return CURLE_OUT_OF_MEMORY;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);  // fails harmlessly for a duplicate
      X509_free(cert);
    }
    BIO_free(bio);
  }
  return CURLE_OK;
}

int count_certificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return 0;
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    ++count;
    X509_free(cert);
  }
  BIO_free(bio);
  return count;
}

std::string scheme_of(std::string_view url) {
  const auto colon = url.find(':');
  std::string scheme(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme;
}

}  // namespace

ProxyChoice choose_proxy(std::string_view url, const NetOptions& options) {
  ProxyChoice choice;
  const std::string scheme = scheme_of(url);
  std::optional<std::string> proxy;
  if (scheme == "https" || scheme == "wss") {
    proxy = first_env(options, {"https_proxy", "HTTPS_PROXY"});
  } else {
    proxy = first_env(options, {"http_proxy", "HTTP_PROXY"});
  }
  if (!proxy) proxy = first_env(options, {"all_proxy", "ALL_PROXY"});
  if (proxy) choice.proxy = *proxy;
  if (auto no_proxy = first_env(options, {"no_proxy", "NO_PROXY"})) choice.no_proxy = *no_proxy;
  return choice;
}

std::expected<std::string, std::string> load_certificate_option(std::string_view value) {
  std::string pem;
  if (value.starts_with("-----BEGIN")) {
    pem = std::string(value);
  } else {
    const std::string path(value.starts_with("@") ? value.substr(1) : value);
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(fmt::format("cannot read certificate file '{}'", path));
    std::ostringstream text;
    text << in.rdbuf();
    pem = text.str();
    if (pem.size() > 4 * 1024 * 1024) return std::unexpected(fmt::format("certificate file '{}' is larger than 4 MiB", path));
  }
  if (count_certificates(pem) == 0) {
    return std::unexpected(fmt::format("no PEM certificate found in '{}'", value.size() > 64 ? value.substr(0, 64) : value));
  }
  return pem;
}

std::expected<void, NetError> configure_curl(CURL* handle, const std::string& url, const NetOptions& options) {
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
  // Offer only HTTP/1.1 in ALPN: the WebSocket upgrade is an HTTP/1.1 exchange.
  curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));

  if (options.no_certificate_check) {
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!options.extra_ca_pem.empty()) {
    curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, &add_extra_cas);
    curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, const_cast<NetOptions*>(&options));
  }

  const ProxyChoice proxy = choose_proxy(url, options);
  // An empty string stops libcurl from reading the proxy variables itself,
  // which it does with slightly different rules (it ignores HTTP_PROXY).
  curl_easy_setopt(handle, CURLOPT_PROXY, proxy.proxy.c_str());
  if (!proxy.proxy.empty()) {
    // Tunnel through CONNECT even for http://: a WebSocket upgrade cannot go
    // through a forwarding proxy reliably.
    curl_easy_setopt(handle, CURLOPT_HTTPPROXYTUNNEL, 1L);
    curl_easy_setopt(handle, CURLOPT_NOPROXY, proxy.no_proxy.c_str());
    if (!options.proxy_credentials.empty()) {
      curl_easy_setopt(handle, CURLOPT_PROXYUSERPWD, options.proxy_credentials.c_str());
      curl_easy_setopt(handle, CURLOPT_PROXYAUTH, CURLAUTH_BASIC);
    }
  }
  return {};
}

NetError describe_curl_error(CURL* handle, int code, const char* error_buffer, std::string_view what) {
  const auto curl_code = static_cast<CURLcode>(code);
  std::string detail = (error_buffer != nullptr && error_buffer[0] != '\0') ? error_buffer : curl_easy_strerror(curl_code);
  NetError error;
  error.message = fmt::format("{}: {}", what, detail);

  long proxy_status = 0;
  curl_easy_getinfo(handle, CURLINFO_HTTP_CONNECTCODE, &proxy_status);
  if (proxy_status != 0 && proxy_status != 200) {
    error.failure = NetFailure::kProxy;
    error.http_status = static_cast<int>(proxy_status);
    error.message = proxy_status == 407
                        ? fmt::format("{}: the HTTP proxy requires authentication (407); check -proxyCredentials", what)
                        : fmt::format("{}: the HTTP proxy refused CONNECT with status {}", what, proxy_status);
    return error;
  }

  switch (curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
      error.failure = NetFailure::kTimeout;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      error.failure = NetFailure::kTls;
      if (curl_code == CURLE_PEER_FAILED_VERIFICATION) {
        error.message += " (use -cert with the controller's CA certificate, or -noCertificateCheck as a last resort)";
      }
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
      error.failure = NetFailure::kProxy;
      break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      error.failure = NetFailure::kTooLarge;
      break;
    default:
      error.failure = NetFailure::kNetwork;
      break;
  }
  return error;
}

namespace {

struct BodySink {
  std::string body;
  std::size_t max_body = 0;
  bool overflow = false;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > sink->max_body) {
    sink->overflow = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

}  // namespace

std::expected<HttpResponse, NetError> http_get(const std::string& url, const NetOptions& options,
                                               const std::vector<std::string>& headers, std::size_t max_body) {
  CurlHandle handle(curl_easy_init());
  if (!handle) return std::unexpected(NetError{NetFailure::kNetwork, "curl_easy_init failed", 0, {}});

  if (auto configured = configure_curl(handle.get(), url, options); !configured) {
    return std::unexpected(configured.error());
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  BodySink sink;
  sink.max_body = max_body;
  curl_easy_setopt(handle.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle.get(), CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options.connect_timeout.count() * 2));
  curl_easy_setopt(handle.get(), CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(handle.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(handle.get(), CURLOPT_USERAGENT, "kite");

  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(handle.get(), CURLOPT_HTTPHEADER, list);

  const CURLcode code = curl_easy_perform(handle.get());
  curl_slist_free_all(list);

  if (sink.overflow) {
    return std::unexpected(NetError{NetFailure::kTooLarge,
                                    fmt::format("GET {}: response body exceeds the limit of {} bytes", url, max_body), 0, {}});
  }
  if (code != CURLE_OK) return std::unexpected(describe_curl_error(handle.get(), code, error_buffer, "GET " + url));

  HttpResponse response;
  long status = 0;
  curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  const char* content_type = nullptr;
  curl_easy_getinfo(handle.get(), CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) response.content_type = content_type;
  response.body = std::move(sink.body);
  return response;
}

}  // namespace kite::transport
