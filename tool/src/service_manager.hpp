// The service manager's side of a daemon's life, as systemd documents it: sd_notify(3) (READY=1,
// STOPPING=1, FDSTORE=1, FDSTOREREMOVE=1) and sd_listen_fds(3) (LISTEN_PID, LISTEN_FDS,
// LISTEN_FDNAMES), spoken directly: luoctl is static and links no libsystemd.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fd.hpp"
#include "result.hpp"

namespace lu::luoctl {

// $NOTIFY_SOCKET: an AF_UNIX datagram socket, a path or "@abstract".
class ServiceManager {
public:
    // The manager that started this process, or none ($NOTIFY_SOCKET unset or unusable).
    static std::optional<ServiceManager> from_environment();
    explicit ServiceManager(std::string socket_path) : socket_path_(std::move(socket_path)) {}

    // One notification ("KEY=VALUE" lines), with fds attached (SCM_RIGHTS).
    Status notify(std::string_view state, std::span<const int> fds = {}) const;
    // Keeps fd in the service's fd store under name (see fd_store_name).
    Status store(std::string_view name, int fd) const;
    // Drops every fd stored under name.
    Status remove(std::string_view name) const;
    // The same for an entry known only by its fd store name (LISTEN_FDNAMES).
    Status remove_entry(std::string_view fdname) const;

private:
    std::string socket_path_;
};

// A name as an fd store takes it: printable ASCII without ':' (the separator of
// LISTEN_FDNAMES), at most 255 bytes. ':' and '%' are written as %3A and %25, so that distinct
// names stay distinct; anything else outside the set is refused with EINVAL.
Result<std::string> fd_store_name(std::string_view name);

struct ListenedFd {
    Fd fd;
    std::string name;  // from LISTEN_FDNAMES, "" if not given
};

// The fds the manager passed to this process (from fd 3 on), each close-on-exec from now on; the
// LISTEN_* variables are removed so that a child does not take them too. Empty when they are
// not for this pid.
std::vector<ListenedFd> take_listened_fds();

}  // namespace lu::luoctl
