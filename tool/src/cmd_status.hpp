// luoctl status: is liveupdate available here, and in what state.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kStatusCommand;

}  // namespace lu::luoctl
