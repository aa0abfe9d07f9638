// The liveupdate state of the running kernel, read from sysfs, /dev and debugfs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "handover.hpp"
#include "result.hpp"
#include "sysfs.hpp"

namespace lu::luoctl {

// The device node of the Live Update Orchestrator, whoever provides it.
inline constexpr std::string_view kDevicePath = "/dev/liveupdate";

// Who serves /dev/liveupdate.
enum class Provider {
    kNone,      // nobody: the module is not loaded and the kernel has no LUO of its own
    kModule,    // the liveupdate module
    kInKernel,  // the kernel's own LUO (CONFIG_LIVEUPDATE), which took the device name first
};

// What is known about kexec handover, which shows itself only through debugfs.
enum class KhoState {
    kEnabled,             // /sys/kernel/debug/kho exists
    kDisabled,            // debugfs is mounted and has no kho directory
    kDebugfsNotMounted,   // unknown: /sys/kernel/debug is empty
    kDebugfsNotReadable,  // unknown: /sys/kernel/debug may not be listed (not root)
};

// A snapshot of the liveupdate state.
//
// Invariants: each optional member is set exactly when the file it comes from exists; generation
// is at least 1; handover keeps the invariants of Handover.
struct LiveUpdateStatus {
    bool module_loaded = false;                 // /sys/module/liveupdate exists
    std::optional<std::string> module_version;  // /sys/module/liveupdate/version
    std::optional<mode_t> device_mode;          // permission bits of /dev/liveupdate
    std::optional<std::uint64_t> generation;    // 1 on a cold boot, +1 at each live update
    std::optional<Handover> handover;           // the previous kernel's handover
    KhoState kho = KhoState::kDebugfsNotMounted;

    Provider provider() const;
};

// Reads the state under root. A missing file is part of the state, not an error; a file that
// exists but cannot be read, or holds what the module never writes (EPROTO), fails the read.
Result<LiveUpdateStatus> read_status(const SysfsRoot& root);

// Success if /dev/liveupdate exists and someone serves it; otherwise ENODEV and a message that
// says what is missing and what to do about it.
Status check_available(const LiveUpdateStatus& status);

}  // namespace lu::luoctl
