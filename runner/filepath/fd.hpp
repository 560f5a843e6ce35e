// Internal helpers shared by the FilePath sources.
#pragma once

#include <locale.h>
#include <unistd.h>

#include "sandbox/fd.hpp"

namespace kite::filepath::detail {

// The sandbox's descriptor owner serves the FilePath code too.
using UniqueFd = kite::sandbox::UniqueFd;

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
