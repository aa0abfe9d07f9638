// Reading the files the kernel publishes about itself (/sys, /dev, debugfs), under a root that
// unit tests can replace with a fake tree.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace lu::luoctl {

// Every path a SysfsRoot takes is absolute as on the running system ("/sys/module/liveupdate")
// and is looked up under root instead of "/".
//
// Invariants: root_ has no trailing slash ("" stands for "/"), so root_ + path is the file.
class SysfsRoot {
public:
    explicit SysfsRoot(std::string_view root);

    // The file's status, or nothing if it does not exist.
    Result<std::optional<struct stat>> stat(std::string_view path) const;

    // A sysfs attribute's value without its trailing newline, or nothing if it does not exist.
    Result<std::optional<std::string>> read_attribute(std::string_view path) const;

    // A file's bytes, all of them, or nothing if it does not exist (a debugfs blob).
    Result<std::optional<std::string>> read_file(std::string_view path) const;

    // The names in a directory, sorted, or nothing if it does not exist.
    Result<std::optional<std::vector<std::string>>> list(std::string_view path) const;

    // The path a file has on the running system: root + path.
    std::string resolve(std::string_view path) const;
    bool is_real_root() const { return root_.empty(); }

    // Whether path is a directory with at least one entry; false if it is empty or absent.
    Result<bool> has_entries(std::string_view path) const;

private:
    std::string root_;
};

}  // namespace lu::luoctl
