// luoctl version: which luoctl this is.
#pragma once

#include "command.hpp"

namespace lu::luoctl {

extern const Command kVersionCommand;

}  // namespace lu::luoctl
