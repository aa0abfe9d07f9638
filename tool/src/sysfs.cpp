#include "sysfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "fd.hpp"

namespace lu::luoctl {

SysfsRoot::SysfsRoot(std::string_view root) : root_(root) {
    while (root_.ends_with('/')) {
        root_.pop_back();
    }
}

std::string SysfsRoot::resolve(std::string_view path) const {
    assert(path.starts_with('/'));
    return root_ + std::string(path);
}

Result<std::optional<struct stat>> SysfsRoot::stat(std::string_view path) const {
    const std::string file = resolve(path);
    struct stat status {};
    if (::stat(file.c_str(), &status) == 0) {
        return status;
    }
    const int stat_errno = errno;
    if (stat_errno == ENOENT) {
        return std::nullopt;
    }
    return Error::from_errno(stat_errno, "cannot stat " + file);
}

Result<std::optional<std::string>> SysfsRoot::read_file(std::string_view path) const {
    const std::string file = resolve(path);
    Result<Fd> fd = Fd::open(file, O_RDONLY);
    if (!fd.ok()) {
        if (fd.error().errnum() == ENOENT) {
            return std::nullopt;
        }
        return std::move(fd).error();
    }
    // A sysfs attribute is produced whole by one show() call and fits in a page, so the first
    // read returns all of it; debugfs blobs and the regular files of a fake tree need reading on
    // until end of file (their st_size says nothing: debugfs reports 0).
    std::string value;
    char buffer[4096];
    for (;;) {
        const ssize_t count = ::read(fd.value().get(), buffer, sizeof(buffer));
        if (count < 0) {
            const int read_errno = errno;
            if (read_errno == EINTR) {
                continue;
            }
            return Error::from_errno(read_errno, "cannot read " + file);
        }
        if (count == 0) {
            break;
        }
        value.append(buffer, static_cast<std::size_t>(count));
    }
    return value;
}

Result<std::optional<std::string>> SysfsRoot::read_attribute(std::string_view path) const {
    std::optional<std::string> value = LU_TRY(read_file(path));
    if (value && value->ends_with('\n')) {
        value->pop_back();
    }
    return value;
}

Result<std::optional<std::vector<std::string>>> SysfsRoot::list(std::string_view path) const {
    const std::string directory = resolve(path);
    std::error_code error;
    std::filesystem::directory_iterator entries(directory, error);
    if (error == std::errc::no_such_file_or_directory) {
        return std::nullopt;
    }
    std::vector<std::string> names;
    for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
        names.push_back(entries->path().filename().string());
    }
    if (error) {
        return Error::from_errno(error.value(), "cannot list " + directory);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<bool> SysfsRoot::has_entries(std::string_view path) const {
    const std::string directory = resolve(path);
    std::error_code error;
    const std::filesystem::directory_iterator entries(directory, error);
    if (error == std::errc::no_such_file_or_directory) {
        return false;
    }
    if (error) {
        return Error::from_errno(error.value(), "cannot list " + directory);
    }
    return entries != std::filesystem::directory_iterator();
}

}  // namespace lu::luoctl
