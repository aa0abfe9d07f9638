#include "status.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <system_error>

namespace lu::luoctl {
namespace {

constexpr std::string_view kModuleDirectory = "/sys/module/liveupdate";
constexpr std::string_view kModuleVersionFile = "/sys/module/liveupdate/version";
constexpr std::string_view kGenerationFile = "/sys/class/misc/liveupdate/generation";
constexpr std::string_view kHandoverFile = "/sys/class/misc/liveupdate/handover";
constexpr std::string_view kDebugfsDirectory = "/sys/kernel/debug";
constexpr std::string_view kKhoDebugfsDirectory = "/sys/kernel/debug/kho";

Error malformed(std::string_view file, std::string_view problem) {
    return Error(EPROTO, std::string(file) + ": " + std::string(problem));
}

Result<std::optional<std::uint64_t>> read_generation(const SysfsRoot& root) {
    const std::optional<std::string> text = LU_TRY(root.read_attribute(kGenerationFile));
    if (!text) {
        return std::nullopt;
    }
    std::uint64_t generation = 0;
    const char* const end = text->data() + text->size();
    const auto [parsed_end, error] = std::from_chars(text->data(), end, generation);
    if (error != std::errc() || parsed_end != end || generation == 0) {
        return malformed(kGenerationFile,
                         "expected a decimal generation of at least 1, found '" + *text + "'");
    }
    return generation;
}

Result<std::optional<Handover>> read_handover(const SysfsRoot& root) {
    const std::optional<std::string> line = LU_TRY(root.read_attribute(kHandoverFile));
    if (!line) {
        return std::nullopt;
    }
    Result<Handover> handover = parse_handover(*line);
    if (!handover.ok()) {
        return malformed(kHandoverFile, handover.error().message());
    }
    return std::move(handover).value();
}

Result<KhoState> read_kho_state(const SysfsRoot& root) {
    const Result<bool> debugfs_mounted = root.has_entries(kDebugfsDirectory);
    if (!debugfs_mounted.ok()) {
        if (debugfs_mounted.error().errnum() == EACCES) {
            return KhoState::kDebugfsNotReadable;
        }
        return debugfs_mounted.error();
    }
    // Without debugfs there is no kho directory whatever the state of KHO, so its absence says
    // nothing.
    if (!debugfs_mounted.value()) {
        return KhoState::kDebugfsNotMounted;
    }
    const bool kho_present = LU_TRY(root.stat(kKhoDebugfsDirectory)).has_value();
    return kho_present ? KhoState::kEnabled : KhoState::kDisabled;
}

}  // namespace

Provider LiveUpdateStatus::provider() const {
    if (module_loaded) {
        return Provider::kModule;
    }
    // The kernel's own LUO registers the same device name, and a kernel built with it leaves
    // the module nothing to register: a device with no module behind it is the kernel's.
    if (device_mode.has_value()) {
        return Provider::kInKernel;
    }
    return Provider::kNone;
}

Result<LiveUpdateStatus> read_status(const SysfsRoot& root) {
    LiveUpdateStatus status;
    status.module_loaded = LU_TRY(root.stat(kModuleDirectory)).has_value();
    status.module_version = LU_TRY(root.read_attribute(kModuleVersionFile));
    if (const std::optional<struct stat> device = LU_TRY(root.stat(kDevicePath))) {
        status.device_mode = device->st_mode & 07777;
    }
    status.generation = LU_TRY(read_generation(root));
    status.handover = LU_TRY(read_handover(root));
    status.kho = LU_TRY(read_kho_state(root));
    return status;
}

Status check_available(const LiveUpdateStatus& status) {
    if (status.provider() == Provider::kNone) {
        return Error(ENODEV,
                     "liveupdate is not available: module not loaded (modprobe liveupdate)");
    }
    if (!status.device_mode.has_value()) {
        return Error(ENODEV,
                     "liveupdate is not available: the module is loaded but /dev/liveupdate is "
                     "missing (is devtmpfs mounted?)");
    }
    return {};
}

}  // namespace lu::luoctl
