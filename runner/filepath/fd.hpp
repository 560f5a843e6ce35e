// Internal helpers shared by the FilePath sources.
#pragma once

#include <locale.h>
#include <unistd.h>

#include <utility>

namespace kite::filepath::detail {

// Owns one file descriptor and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Switches the calling thread to the C.UTF-8 character type while it lives.
// libarchive converts entry names between UTF-8 (zip flag, hdrcharset) and
// the current locale's charset. In a service's default "C" locale that
// charset is ASCII, so every non-ASCII name would fail. uselocale() changes
// only this thread, so other threads of the agent are unaffected.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : utf8_(newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr))) {
    if (utf8_ != static_cast<locale_t>(nullptr)) previous_ = uselocale(utf8_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;
  ~ScopedUtf8Locale() {
    if (utf8_ != static_cast<locale_t>(nullptr)) {
      uselocale(previous_);
      freelocale(utf8_);
    }
  }

 private:
  locale_t utf8_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

}  // namespace kite::filepath::detail
