// The commands luoctl knows, and finding one by the name a person typed.
#pragma once

#include <span>
#include <string_view>

#include "command.hpp"
#include "result.hpp"

namespace lu::luoctl {

// Every command, in the order `luoctl help` lists them.
std::span<const Command* const> all_commands();

// Finds the command that name means: its full name, or a prefix only one command starts with (as
// ip and bpftool accept). An exact name wins over being the prefix of a longer one. Fails with
// EINVAL and a message that lists the candidates of an ambiguous prefix, or suggests the nearest
// command for an unknown name.
Result<const Command*> find_command(std::span<const Command* const> commands,
                                    std::string_view name);

}  // namespace lu::luoctl
