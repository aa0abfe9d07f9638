#include "cmd_status.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "status.hpp"
#include "sysfs.hpp"

namespace lu::luoctl {
namespace {

std::string_view provider_name(Provider provider) {
    switch (provider) {
        case Provider::kNone:
            return "none";
        case Provider::kModule:
            return "module";
        case Provider::kInKernel:
            return "in-kernel";
    }
    __builtin_unreachable();  // the switch covers every provider, and -Wswitch keeps it so
}

std::string kho_text(KhoState kho) {
    switch (kho) {
        case KhoState::kEnabled:
            return "enabled";
        case KhoState::kDisabled:
            return "disabled";
        case KhoState::kDebugfsNotMounted:
            return "unknown (debugfs not mounted)";
        case KhoState::kDebugfsNotReadable:
            return "unknown (debugfs not readable)";
    }
    __builtin_unreachable();  // the switch covers every state, and -Wswitch keeps it so
}

// "0600", as chmod takes it.
std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned int>(mode));
    return text;
}

std::string module_text(const LiveUpdateStatus& status) {
    if (!status.module_loaded) {
        return "not loaded";
    }
    return "loaded (version " + status.module_version.value_or("unknown") + ")";
}

std::string device_text(const LiveUpdateStatus& status) {
    const std::string path{kDevicePath};
    if (!status.device_mode.has_value()) {
        return path + " (missing)";
    }
    return path + " (mode " + octal_mode(*status.device_mode) + ")";
}

std::string handover_text(const std::optional<Handover>& handover) {
    if (!handover.has_value()) {
        return "unknown";
    }
    std::string text{outcome_name(handover->outcome)};
    if (!handover->reason.empty()) {
        text += ": " + handover->reason;
    }
    return text;
}

// One "key: value" line per fact, the values aligned in one column.
void write_text(const LiveUpdateStatus& status, std::ostream& out) {
    const std::array<std::pair<std::string_view, std::string>, 6> lines = {{
        {"provider", std::string(provider_name(status.provider()))},
        {"module", module_text(status)},
        {"device", device_text(status)},
        {"generation", status.generation ? std::to_string(*status.generation) : "unknown"},
        {"handover", handover_text(status.handover)},
        {"kho", kho_text(status.kho)},
    }};
    std::size_t key_width = 0;
    for (const auto& [key, value] : lines) {
        key_width = std::max(key_width, key.size());
    }
    for (const auto& [key, value] : lines) {
        out << key << ':' << std::string(key_width - key.size() + 1, ' ') << value << '\n';
    }
}

// The same facts as write_text, with null for what is absent or unknown.
void write_json(const LiveUpdateStatus& status, JsonWriter& json) {
    json.key("provider");
    if (status.provider() == Provider::kNone) {
        json.null();
    } else {
        json.string(provider_name(status.provider()));
    }

    json.key("module").begin_object();
    json.key("loaded").boolean(status.module_loaded);
    json.key("version");
    if (status.module_version.has_value()) {
        json.string(*status.module_version);
    } else {
        json.null();
    }
    json.end_object();

    json.key("device");
    if (status.device_mode.has_value()) {
        json.begin_object();
        json.key("path").string(kDevicePath);
        json.key("mode").string(octal_mode(*status.device_mode));
        json.end_object();
    } else {
        json.null();
    }

    json.key("generation");
    if (status.generation.has_value()) {
        json.number(*status.generation);
    } else {
        json.null();
    }

    json.key("handover");
    if (status.handover.has_value()) {
        json.begin_object();
        json.key("outcome").string(outcome_name(status.handover->outcome));
        json.key("reason");
        if (status.handover->reason.empty()) {
            json.null();
        } else {
            json.string(status.handover->reason);
        }
        json.end_object();
    } else {
        json.null();
    }

    json.key("kho");
    switch (status.kho) {
        case KhoState::kEnabled:
            json.string("enabled");
            break;
        case KhoState::kDisabled:
            json.string("disabled");
            break;
        case KhoState::kDebugfsNotMounted:
        case KhoState::kDebugfsNotReadable:
            json.string("unknown");
            break;
    }
}

// The state is printed even when liveupdate is unavailable: what is missing is the answer.
Status run_status(const CommandContext& context) {
    const SysfsRoot root(context.environment.sysfs_root);
    const LiveUpdateStatus status = LU_TRY(read_status(root));
    if (context.json != nullptr) {
        write_json(status, *context.json);
    } else {
        write_text(status, context.out);
    }
    return check_available(status);
}

}  // namespace

constinit const Command kStatusCommand = {
    .name = "status",
    .synopsis = "[-j|--json]",
    .summary = "Show whether liveupdate is available and in what state",
    .description =
        "Show who provides /dev/liveupdate (the liveupdate module or the kernel's own LUO), the\n"
        "handover generation (1 after a cold boot, one more after each live update), what became\n"
        "of the previous kernel's handover, and whether kexec handover (KHO) is enabled.\n"
        "Exit status 1 if liveupdate is not available.\n",
    .max_args = 0,
    .handler = run_status,
};

}  // namespace lu::luoctl
