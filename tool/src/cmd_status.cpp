#include "cmd_status.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "agent_table.hpp"
#include "cli.hpp"
#include "readiness.hpp"
#include "version.hpp"
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
    if (!status.module_version) {
        return "loaded (version unknown)";
    }
    if (*status.module_version != luoctl_version()) {
        return "loaded (version " + *status.module_version + "; this luoctl is " +
               std::string(luoctl_version()) + ": install both from one release)";
    }
    return "loaded (version " + *status.module_version + ")";
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

std::string agent_text(const Readiness& readiness) {
    if (readiness.agent_pid) {
        return "running (pid " + std::to_string(*readiness.agent_pid) + ")";
    }
    if (readiness.dead_agent_pid) {
        return "not running; pid " + std::to_string(*readiness.dead_agent_pid) +
               " died holding " + std::to_string(readiness.lost.size()) +
               " session(s), which the kernel unpreserved";
    }
    return "not running";
}

// The agent's own session, which the outgoing counts leave out.
std::string registry_text(const Readiness& readiness) {
    return std::string(kRegistrySession) + ", the agent's own session, " +
           std::to_string(readiness.registry_files) +
           " file(s) (its registry; not in the counts above)";
}

std::string ready_text(const Readiness& readiness, bool in_kernel) {
    if (in_kernel && status_unsupported(readiness)) {
        return "unknown (the in-kernel LUO cannot be asked: it has no "
               "LIVEUPDATE_IOCTL_MOD_STATUS; a file that refuses to freeze fails the kexec)";
    }
    if (!readiness.module) {
        return "unknown (" +
               (readiness.module_error ? readiness.module_error->message() : std::string("?")) +
               ")";
    }
    if (readiness.module->ready) {
        return "yes";
    }
    return "no: session '" + readiness.module->failed_session + "' token " +
           std::to_string(readiness.module->failed_token) + " refused to freeze, " +
           errno_text(readiness.module->first_error);
}

// One "key: value" line per fact, the values aligned in one column. The agent and the module's
// own counts appear once liveupdate is available.
void write_text(const LiveUpdateStatus& status, const std::optional<Readiness>& readiness,
                std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> lines = {
        {"provider", std::string(provider_name(status.provider()))},
        {"module", module_text(status)},
        {"device", device_text(status)},
        {"generation", status.generation ? std::to_string(*status.generation) : "unknown"},
        {"handover", handover_text(status.handover)},
        {"kho", kho_text(status.kho)},
    };
    if (readiness) {
        lines.emplace_back("agent", agent_text(*readiness));
        if (readiness->module) {
            const ModStatus& mod = *readiness->module;
            lines.emplace_back("outgoing", std::to_string(readiness->outgoing_sessions()) +
                                               " session(s), " +
                                               std::to_string(readiness->outgoing_files()) +
                                               " file(s), " + std::to_string(mod.metadata_bytes) +
                                               " bytes of handover metadata");
            if (readiness->registry_sessions > 0) {
                lines.emplace_back("registry", registry_text(*readiness));
            }
            lines.emplace_back("incoming", std::to_string(mod.incoming_sessions) +
                                               " session(s), " +
                                               std::to_string(mod.incoming_files) + " file(s)");
        } else if (readiness->held_sessions) {
            // No count from the kernel (the in-kernel LUO): the agent's own is all there is.
            lines.emplace_back("outgoing", std::to_string(*readiness->held_sessions) +
                                               " session(s), " +
                                               std::to_string(readiness->held_files) +
                                               " file(s) held by the agent");
            if (readiness->registry_sessions > 0) {
                lines.emplace_back("registry", registry_text(*readiness));
            }
            lines.emplace_back("incoming", std::to_string(readiness->held_incoming_sessions) +
                                               " session(s), " +
                                               std::to_string(readiness->held_incoming_files) +
                                               " file(s) held by the agent");
        }
        lines.emplace_back("ready",
                           ready_text(*readiness, status.provider() == Provider::kInKernel));
        for (const std::string& name : readiness->lost) {
            lines.emplace_back("lost", name + " (the agent died; no longer preserved)");
        }
    }
    write_aligned(out, lines);
}

void write_readiness_json(const Readiness& readiness, JsonWriter& json) {
    json.key("agent").begin_object();
    json.key("running").boolean(readiness.agent_pid.has_value());
    json.key("pid");
    if (readiness.agent_pid) {
        json.number(*readiness.agent_pid);
    } else {
        json.null();
    }
    json.key("dead_pid");
    if (readiness.dead_agent_pid) {
        json.number(*readiness.dead_agent_pid);
    } else {
        json.null();
    }
    json.key("lost").begin_array();
    for (const std::string& name : readiness.lost) {
        json.string(name);
    }
    json.end_array();
    json.end_object();
    json.key("handover_status");
    if (!readiness.module) {
        json.null();
        return;
    }
    const ModStatus& mod = *readiness.module;
    json.begin_object();
    json.key("ready").boolean(mod.ready);
    json.key("outgoing_sessions").number(readiness.outgoing_sessions());
    json.key("outgoing_files").number(readiness.outgoing_files());
    json.key("registry");
    if (readiness.registry_sessions > 0) {
        json.begin_object();
        json.key("session").string(kRegistrySession);
        json.key("files").number(readiness.registry_files);
        json.end_object();
    } else {
        json.null();
    }
    json.key("incoming_sessions").number(mod.incoming_sessions);
    json.key("incoming_files").number(mod.incoming_files);
    json.key("metadata_bytes").number(mod.metadata_bytes);
    json.key("first_error").number(mod.first_error);
    json.key("failed_session").string(mod.failed_session);
    json.key("failed_token").number(mod.failed_token);
    json.end_object();
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
    json.key("luoctl_version").string(luoctl_version());
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

constexpr OptionSpec kStatusOptions[] = {kSocketOption, kTimeoutOption};

// The state is printed even when liveupdate is unavailable: what is missing is the answer.
Status run_status(const CommandContext& context) {
    const SysfsRoot root(context.environment.sysfs_root);
    const LiveUpdateStatus status = LU_TRY(read_status(root));
    const Status available = check_available(status);
    std::optional<Readiness> readiness;
    if (available.ok()) {
        readiness = read_readiness(context);
    }
    if (context.json != nullptr) {
        write_json(status, *context.json);
        if (readiness) {
            write_readiness_json(*readiness, *context.json);
        }
    } else {
        write_text(status, readiness, context.out);
    }
    return available;
}

}  // namespace

constinit const Command kStatusCommand = {
    .name = "status",
    .synopsis = "[--socket PATH]",
    .summary = "Show whether liveupdate is available and in what state",
    .description =
        "Show who provides /dev/liveupdate (the liveupdate module or the kernel's own LUO), the\n"
        "handover generation (1 after a cold boot, one more after each live update), what became\n"
        "of the previous kernel's handover, and whether kexec handover (KHO) is enabled.\n"
        "With liveupdate available, also the agent, the module's session and file counts, and\n"
        "whether the handover is ready (LIVEUPDATE_IOCTL_MOD_STATUS, asked through the agent\n"
        "when one runs, since it holds the device). The outgoing counts leave out the agent's\n"
        "own registry session (luoctl.agent), shown on a line of its own. Exit status 1 if\n"
        "liveupdate is not available.\n",
    .max_args = 0,
    .handler = run_status,
    .options = kStatusOptions,
};

}  // namespace lu::luoctl
