#include "runner/daemon/jnlp.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "protocol/transport/capability.hpp"

namespace kite::daemon {

namespace {

constexpr std::size_t kMaxJnlpSize = 1 << 20;
constexpr std::size_t kMaxArguments = 256;

void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

std::expected<std::string, std::string> decode_text(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.substr(pos).starts_with("<![CDATA[")) {
      const auto end = text.find("]]>", pos + 9);
      if (end == std::string_view::npos) return std::unexpected("unterminated CDATA section");
      out.append(text.substr(pos + 9, end - pos - 9));
      pos = end + 3;
      continue;
    }
    if (text.substr(pos).starts_with("<!--")) {
      const auto end = text.find("-->", pos + 4);
      if (end == std::string_view::npos) return std::unexpected("unterminated comment");
      pos = end + 3;
      continue;
    }
    const char c = text[pos];
    if (c == '<') return std::unexpected("markup inside an <argument> element");
    if (c != '&') {
      out += c;
      ++pos;
      continue;
    }
    const auto semicolon = text.find(';', pos);
    if (semicolon == std::string_view::npos || semicolon - pos > 12) return std::unexpected("malformed XML entity");
    const std::string_view entity = text.substr(pos + 1, semicolon - pos - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.starts_with('#')) {
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const std::string digits(entity.substr(hex ? 2 : 1));
      if (digits.empty() || digits.size() > 8) return std::unexpected("malformed character reference");
      unsigned long code = 0;
      for (char d : digits) {
        const int v = std::isdigit(static_cast<unsigned char>(d)) ? d - '0'
                      : (hex && std::isxdigit(static_cast<unsigned char>(d))) ? (std::tolower(d) - 'a' + 10) : -1;
        if (v < 0) return std::unexpected("malformed character reference");
        code = code * (hex ? 16 : 10) + static_cast<unsigned long>(v);
      }
      if (code == 0 || code > 0x10FFFF) return std::unexpected("character reference out of range");
      append_utf8(out, code);
    } else {
      return std::unexpected(fmt::format("unknown XML entity '&{};'", entity));
    }
    pos = semicolon + 1;
  }
  return out;
}

bool is_name_end(char c) { return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::expected<std::vector<std::string>, std::string> parse_jnlp_arguments(std::string_view xml) {
  if (xml.size() > kMaxJnlpSize) return std::unexpected(fmt::format("the .jnlp file is larger than {} bytes", kMaxJnlpSize));
  std::vector<std::string> arguments;
  bool saw_application_desc = false;
  std::size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    const std::string_view rest = xml.substr(pos + 1);
    if (rest.starts_with("!--")) {
      const auto end = xml.find("-->", pos + 4);
      if (end == std::string_view::npos) return std::unexpected("unterminated comment in the .jnlp file");
      pos = end + 3;
      continue;
    }
    if (rest.starts_with("application-desc") && rest.size() > 16 && is_name_end(rest[16])) saw_application_desc = true;
    if (!(rest.starts_with("argument") && rest.size() > 8 && is_name_end(rest[8]))) {
      ++pos;
      continue;
    }
    const auto tag_end = xml.find('>', pos);
    if (tag_end == std::string_view::npos) return std::unexpected("unterminated <argument> tag");
    if (arguments.size() >= kMaxArguments) return std::unexpected("the .jnlp file has too many <argument> elements");
    if (xml[tag_end - 1] == '/') {  // <argument/>
      arguments.emplace_back();
      pos = tag_end + 1;
      continue;
    }
    const auto close = xml.find("</argument>", tag_end + 1);
    if (close == std::string_view::npos) return std::unexpected("<argument> element without </argument>");
    auto text = decode_text(xml.substr(tag_end + 1, close - tag_end - 1));
    if (!text) return std::unexpected("invalid <argument> text: " + text.error());
    arguments.push_back(std::move(*text));
    pos = close + 11;
  }
  if (!saw_application_desc) return std::unexpected("this is not a .jnlp file: no <application-desc> element");
  return arguments;
}

std::expected<std::string, std::string> decrypt_jnlp(std::string_view payload, std::string_view secret) {
  if (payload.size() < 16) return std::unexpected("the encrypted .jnlp file is shorter than its 16-byte IV");
  if (secret.size() < 32) return std::unexpected("the secret is shorter than 32 hex digits; cannot decrypt the .jnlp file");
  unsigned char key[16];
  for (std::size_t i = 0; i < 16; ++i) {
    const auto byte_text = std::string(secret.substr(i * 2, 2));
    if (!std::isxdigit(static_cast<unsigned char>(byte_text[0])) || !std::isxdigit(static_cast<unsigned char>(byte_text[1]))) {
      return std::unexpected("the secret is not hexadecimal; cannot decrypt the .jnlp file");
    }
    key[i] = static_cast<unsigned char>(std::stoi(byte_text, nullptr, 16));
  }

  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return std::unexpected("EVP_CIPHER_CTX_new failed");
  const auto* iv = reinterpret_cast<const unsigned char*>(payload.data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cfb8(), nullptr, key, iv) != 1) return std::unexpected("AES init failed");
  std::string plain(payload.size() - 16, '\0');
  int length = 0;
  int final_length = 0;
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length,
                        reinterpret_cast<const unsigned char*>(payload.data() + 16), static_cast<int>(payload.size() - 16)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + length, &final_length) != 1) {
    return std::unexpected("failed to decrypt the .jnlp file; is the secret right?");
  }
  plain.resize(static_cast<std::size_t>(length + final_length));
  return plain;
}

std::expected<void, std::string> apply_jnlp_arguments(AgentCommandLine& command_line, const std::vector<std::string>& arguments) {
  std::vector<std::string_view> views(arguments.begin(), arguments.end());
  auto parsed = parse_agent_args(views);
  if (!parsed) return std::unexpected("the .jnlp file has invalid arguments: " + parsed.error());
  if (!parsed->url) return std::unexpected("the .jnlp file names no -url");
  command_line.url = parsed->url;
  if (parsed->secret) command_line.secret = parsed->secret;
  if (parsed->name) command_line.name = parsed->name;
  if (parsed->web_socket) command_line.web_socket = true;
  if (parsed->tunnel) command_line.tunnel = parsed->tunnel;
  if (parsed->work_dir) command_line.work_dir = parsed->work_dir;
  if (parsed->internal_dir) command_line.internal_dir = parsed->internal_dir;
  if (parsed->fail_if_work_dir_missing) command_line.fail_if_work_dir_missing = true;
  command_line.jnlp_url.reset();
  return {};
}

std::expected<void, std::string> resolve_jnlp(AgentCommandLine& command_line, const transport::NetOptions& net,
                                              const std::atomic<bool>& stop) {
  std::string url = *command_line.jnlp_url;
  std::string secret;
  if (command_line.secret) {
    auto value = read_secret_value(*command_line.secret);
    if (!value) return std::unexpected(value.error());
    secret = *value;
    url += (url.find('?') == std::string::npos ? "?" : "&");
    url += "encrypt=true";
  }
  std::vector<std::string> headers;
  if (command_line.jnlp_credentials) {
    headers.push_back("Authorization: Basic " + transport::base64_encode(*command_line.jnlp_credentials));
  }

  for (;;) {
    std::string failure;
    auto response = transport::http_get(url, net, headers, kMaxJnlpSize);
    if (!response) {
      failure = response.error().message;
    } else if (response->status >= 400) {
      failure = fmt::format("failed to load {}: HTTP {}", url, response->status);
    } else {
      std::string body = std::move(response->body);
      if (!secret.empty()) {
        auto plain = decrypt_jnlp(body, secret);
        if (!plain) return std::unexpected(plain.error());
        body = std::move(*plain);
      }
      auto arguments = parse_jnlp_arguments(body);
      if (!arguments) {
        return std::unexpected(fmt::format("{} does not look like a JNLP file (content type '{}'): {}", url,
                                           response->content_type, arguments.error()));
      }
      return apply_jnlp_arguments(command_line, *arguments);
    }

    if (command_line.no_reconnect) return std::unexpected(failure);
    spdlog::warn("{}; retrying in 10 s", failure);
    for (int i = 0; i < 100 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop.load()) return std::unexpected("stopped while fetching the .jnlp file");
  }
}

}  // namespace kite::daemon
