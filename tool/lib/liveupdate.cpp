#include "liveupdate.hpp"

#include <sys/ioctl.h>

#include <linux/liveupdate.h>

#include <cerrno>
#include <cstring>

namespace lu {
namespace {

// Copies name into a NUL-padded kernel name field; the caller has checked the length.
template <std::size_t N>
void put_name(std::uint8_t (&field)[N], std::string_view name) {
    std::memset(field, 0, N);
    std::memcpy(field, name.data(), name.size() < N ? name.size() : N - 1);
}

template <std::size_t N>
std::string get_name(const std::uint8_t (&field)[N]) {
    const char* text = reinterpret_cast<const char*>(field);
    return std::string(text, strnlen(text, N));
}

Error bad_name(std::string_view name) {
    return Error(EINVAL, "invalid session name '" + std::string(name) +
                             "': 1 to 63 bytes, no NUL");
}

// Runs one ioctl; on failure the message is "<what>: <strerror>".
Status call(int fd, unsigned long request, void* arg, std::string_view what) {
    if (::ioctl(fd, request, arg) != 0) {
        const int ioctl_errno = errno;
        return Error::from_errno(ioctl_errno, what);
    }
    return {};
}

}  // namespace

Result<Fd> open_device(const std::string& path) {
    return Fd::open(path, O_RDWR);
}

Result<Fd> create_session(int device, std::string_view name) {
    if (!is_kernel_session_name(name)) {
        return bad_name(name);
    }
    struct liveupdate_ioctl_create_session arg = {};
    arg.size = sizeof(arg);
    put_name(arg.name, name);
    LU_TRY(call(device, LIVEUPDATE_IOCTL_CREATE_SESSION, &arg,
                "cannot create session '" + std::string(name) + "'"));
    return Fd::adopt(arg.fd);
}

Result<Fd> retrieve_session(int device, std::string_view name) {
    if (!is_kernel_session_name(name)) {
        return bad_name(name);
    }
    struct liveupdate_ioctl_retrieve_session arg = {};
    arg.size = sizeof(arg);
    put_name(arg.name, name);
    LU_TRY(call(device, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, &arg,
                "cannot retrieve session '" + std::string(name) + "'"));
    return Fd::adopt(arg.fd);
}

Result<ModStatus> mod_status(int device) {
    struct liveupdate_mod_status arg = {};
    arg.size = sizeof(arg);
    LU_TRY(call(device, LIVEUPDATE_IOCTL_MOD_STATUS, &arg, "cannot read the module's status"));
    ModStatus status;
    status.ready = arg.ready != 0;
    status.generation = arg.generation;
    status.outgoing_sessions = arg.outgoing_sessions;
    status.outgoing_files = arg.outgoing_files;
    status.incoming_sessions = arg.incoming_sessions;
    status.incoming_files = arg.incoming_files;
    status.metadata_bytes = arg.metadata_bytes;
    status.first_error = arg.first_error;
    status.failed_token = arg.failed_token;
    status.failed_session = get_name(arg.failed_session);
    return status;
}

Status preserve_fd(int session, int fd, std::uint64_t token) {
    struct liveupdate_session_preserve_fd arg = {};
    arg.size = sizeof(arg);
    arg.fd = fd;
    arg.token = token;
    return call(session, LIVEUPDATE_SESSION_PRESERVE_FD, &arg,
                "cannot preserve the file under token " + std::to_string(token));
}

Result<Fd> retrieve_fd(int session, std::uint64_t token) {
    struct liveupdate_session_retrieve_fd arg = {};
    arg.size = sizeof(arg);
    arg.token = token;
    LU_TRY(call(session, LIVEUPDATE_SESSION_RETRIEVE_FD, &arg,
                "cannot retrieve the file under token " + std::to_string(token)));
    return Fd::adopt(arg.fd);
}

Status finish_session(int session) {
    struct liveupdate_session_finish arg = {};
    arg.size = sizeof(arg);
    return call(session, LIVEUPDATE_SESSION_FINISH, &arg, "cannot finish the session");
}

Result<std::string> session_name(int session) {
    struct liveupdate_session_get_name arg = {};
    arg.size = sizeof(arg);
    LU_TRY(call(session, LIVEUPDATE_SESSION_GET_NAME, &arg, "cannot read the session's name"));
    return get_name(arg.name);
}

}  // namespace lu
