// luoctl inspect: the KHO trees in debugfs, outgoing and incoming, and our subtree in them.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kInspectCommand;

}  // namespace lu::luoctl
