// lu::Fd: the owner of one open file descriptor. Part of libluoctl (tool/lib/).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "result.hpp"

namespace lu {

// Closes its descriptor when destroyed; move-only, so exactly one Fd closes each descriptor.
//
// Invariants: fd_ is an open descriptor that no other object owns, or -1 (default-constructed,
// moved from or released).
class Fd {
public:
    // Opens path; O_CLOEXEC is always added, luoctl never hands descriptors to a child by accident.
    static Result<Fd> open(const std::string& path, int flags) {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
        if (fd < 0) {
            const int open_errno = errno;
            return Error::from_errno(open_errno, "cannot open " + path);
        }
        return Fd(fd);
    }

    // Takes ownership of fd, an open descriptor nobody else closes (from a system call that
    // returned one: memfd_create, accept, recvmsg's SCM_RIGHTS, an ioctl's reply).
    static Fd adopt(int fd) { return Fd(fd); }

    // A second descriptor (close-on-exec) for the same open file.
    Result<Fd> dup() const {
        const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            const int dup_errno = errno;
            return Error::from_errno(dup_errno, "cannot duplicate descriptor " + std::to_string(fd_));
        }
        return Fd(fd);
    }

    // Gives up ownership: the caller closes the returned descriptor.
    int release() { return std::exchange(fd_, -1); }

    bool valid() const { return fd_ >= 0; }

    Fd() : fd_(-1) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }

    int get() const { return fd_; }

private:
    explicit Fd(int fd) : fd_(fd) {}

    // close(2) errors are not reported: luoctl never writes through a descriptor it closes this
    // way except memfds, whose data lives in memory, so a failed close loses no data.
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    int fd_;
};

}  // namespace lu
