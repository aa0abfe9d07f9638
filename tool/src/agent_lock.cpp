#include "agent_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

namespace lu::luoctl {

std::string agent_lock_path(const std::string& socket_path) {
    return socket_path + ".lock";
}

Result<Fd> take_agent_lock(const std::string& lock_path) {
    const int raw = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) {
        const int open_errno = errno;
        return Error::from_errno(open_errno, "cannot open the agent lock " + lock_path);
    }
    Fd fd = Fd::adopt(raw);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        const int lock_errno = errno;
        if (lock_errno == EWOULDBLOCK) {
            return Error(EADDRINUSE, "another agent is running (it holds " + lock_path + ")");
        }
        return Error::from_errno(lock_errno, "cannot lock " + lock_path);
    }
    return fd;
}

bool agent_lock_held(const std::string& lock_path) {
    const int raw = ::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) {
        return false;
    }
    const Fd fd = Fd::adopt(raw);
    // A lock of our own open file conflicts with the agent's even in the agent's own process.
    return ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

}  // namespace lu::luoctl
