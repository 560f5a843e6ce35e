// Ordering of remoting version strings such as "3386.v353e57a_1b_ea_0",
// following the rules of Jenkins' hudson.util.VersionNumber (a variant of
// Maven's ComparableVersion).
#pragma once

#include <string_view>

namespace kite::transport {

// Returns <0, 0 or >0 as `a` is older than, equal to or newer than `b`.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace kite::transport
