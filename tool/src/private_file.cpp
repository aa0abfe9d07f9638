#include "private_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "fd.hpp"

namespace lu::luoctl {

Status replace_private_file(const std::string& path, std::string_view content) {
    std::vector<char> name(path.begin(), path.end());
    for (const char c : std::string_view(".XXXXXX")) {
        name.push_back(c);
    }
    name.push_back('\0');
    // mkostemp creates with O_EXCL and mode 0600 whatever the umask.
    const int raw = ::mkostemp(name.data(), O_CLOEXEC);
    if (raw < 0) {
        const int create_errno = errno;
        return Error::from_errno(create_errno, "cannot create a file beside " + path);
    }
    const Fd fd = Fd::adopt(raw);
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int write_errno = n < 0 ? errno : EIO;
            ::unlink(name.data());
            return Error::from_errno(write_errno, "cannot write " + std::string(name.data()));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::rename(name.data(), path.c_str()) != 0) {
        const int rename_errno = errno;
        ::unlink(name.data());
        return Error::from_errno(rename_errno, "cannot rename " + std::string(name.data()));
    }
    return {};
}

}  // namespace lu::luoctl
