// Which luoctl this is: its release, the agent protocol it speaks and the uAPI it was built
// against. `luoctl version` prints them; `luoctl status` compares the release with the module's.
#pragma once

#include <string_view>

namespace lu::luoctl {

// The repository's VERSION file at build time; liveupdate.ko of the same tree reports the same in
// /sys/module/liveupdate/version.
std::string_view luoctl_version();

// The ioctl ABI of uapi/linux/liveupdate.h: the in-kernel LUO's of this release, plus the
// module's own extension.
inline constexpr std::string_view kUapiVersion = "7.3";
inline constexpr std::string_view kUapiExtensions = "MOD_STATUS";

}  // namespace lu::luoctl
