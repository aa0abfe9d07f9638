// lu::Fd: the owner of one open file descriptor.
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
// Invariants: fd_ is an open descriptor that no other object owns, or -1 once moved from.
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

    // close(2) errors are not reported: every descriptor luoctl owns is read-only, so a failed
    // close loses no data.
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    int fd_;
};

}  // namespace lu
