// Files luoctl keeps for itself in /run (the agent's state file, the staged kernel's record):
// replaced whole, never through a link planted at their path, readable by root only.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace lu::luoctl {

// Writes content to a new file beside path (O_EXCL, mode 0600) and renames it over path: a
// reader sees the old content or the new, and a symlink at path is replaced, not followed.
Status replace_private_file(const std::string& path, std::string_view content);

}  // namespace lu::luoctl
