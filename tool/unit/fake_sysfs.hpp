// A temporary directory that stands for "/" in tests: they create the sysfs, /dev and debugfs
// entries a scenario needs, and hand root() to luoctl as its sysfs root.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "version.hpp"

namespace lu::luoctl::test {

// Invariants: root() is a fresh directory under $TMPDIR (or /tmp) that only this object uses; the
// destructor removes it with everything in it.
class FakeSysfs {
public:
    FakeSysfs();
    ~FakeSysfs();
    FakeSysfs(const FakeSysfs&) = delete;
    FakeSysfs& operator=(const FakeSysfs&) = delete;

    const std::string& root() const { return root_; }

    // path is absolute as on the real system; missing parent directories are created.
    void add_directory(std::string_view path);
    void add_file(std::string_view path, std::string_view content, mode_t mode = 0444);

    // The liveupdate module loaded, with its sysfs attributes and /dev/liveupdate (mode 0600).
    // A loaded module of version (by default luoctl's own).
    void add_module(std::string_view generation, std::string_view handover,
                    std::string_view version = luoctl_version());

    // debugfs mounted on /sys/kernel/debug, with a kho directory if kho_enabled.
    void mount_debugfs(bool kho_enabled);

private:
    std::string resolve(std::string_view path) const;

    std::string root_;
};

}  // namespace lu::luoctl::test
