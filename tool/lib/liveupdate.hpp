// The /dev/liveupdate ioctl ABI (uapi/linux/liveupdate.h) as functions returning lu::Result.
// Part of libluoctl: luoctl, its agent and (later) the selftests and benchmarks call the kernel
// through these and nothing else, so each ioctl's size/errno conventions live in one place.
//
// Every function takes the caller's descriptor by number and never closes it; every descriptor
// returned is a new, close-on-exec Fd the caller owns. Errors carry the ioctl's errno and say
// which operation on which session failed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fd.hpp"
#include "result.hpp"

namespace lu {

inline constexpr std::string_view kLiveUpdateDevice = "/dev/liveupdate";

// LIVEUPDATE_IOCTL_MOD_STATUS, the liveupdate module's extension: counts and readiness.
//
// Invariants: ready == (first_error == 0); failed_session and failed_token are meaningful only
// when !ready; first_error is a negative errno or 0, as the module reports it.
struct ModStatus {
    bool ready = false;
    std::uint64_t generation = 0;
    std::uint64_t outgoing_sessions = 0;
    std::uint64_t outgoing_files = 0;
    std::uint64_t incoming_sessions = 0;
    std::uint64_t incoming_files = 0;
    std::uint64_t metadata_bytes = 0;
    int first_error = 0;
    std::uint64_t failed_token = 0;
    std::string failed_session;
};

// Whether name is a session name the kernel accepts: 1 to 63 bytes, no NUL.
constexpr bool is_kernel_session_name(std::string_view name) {
    return !name.empty() && name.size() < 64 && name.find('\0') == std::string_view::npos;
}

static_assert(is_kernel_session_name("vm-1"));
static_assert(!is_kernel_session_name(""));
static_assert(!is_kernel_session_name(std::string_view("a\0b", 3)));

// Opens /dev/liveupdate read-write (path replaceable for tests). EBUSY means another process,
// usually the luoctl agent, holds it: the device opens once at a time.
Result<Fd> open_device(const std::string& path = std::string(kLiveUpdateDevice));

// LIVEUPDATE_IOCTL_CREATE_SESSION: a new outgoing session; closing its fd before the reboot
// unpreserves everything in it.
Result<Fd> create_session(int device, std::string_view name);

// LIVEUPDATE_IOCTL_RETRIEVE_SESSION: an incoming session, once per boot (ENOENT unknown, EINVAL
// already retrieved).
Result<Fd> retrieve_session(int device, std::string_view name);

// LIVEUPDATE_IOCTL_MOD_STATUS. ENOTTY/EINVAL: the provider is not the liveupdate module (the
// in-kernel LUO has no such command).
Result<ModStatus> mod_status(int device);

// LIVEUPDATE_SESSION_PRESERVE_FD on an outgoing session.
Status preserve_fd(int session, int fd, std::uint64_t token);

// LIVEUPDATE_SESSION_RETRIEVE_FD on an incoming session.
Result<Fd> retrieve_fd(int session, std::uint64_t token);

// LIVEUPDATE_SESSION_FINISH on an incoming session (EBUSY: a file's handler refused; retryable).
Status finish_session(int session);

// LIVEUPDATE_SESSION_GET_NAME.
Result<std::string> session_name(int session);

}  // namespace lu
