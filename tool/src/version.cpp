#include "version.hpp"

// The build passes the contents of the repository's VERSION file; only this file needs it, so a
// version bump rebuilds nothing else.
#ifndef LU_VERSION
#error "LU_VERSION must be defined by the build, from the VERSION file"
#endif

namespace lu::luoctl {

std::string_view luoctl_version() {
    return LU_VERSION;
}

}  // namespace lu::luoctl
