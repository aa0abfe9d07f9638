#include "fake_sysfs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace lu::luoctl::test {
namespace {

void make_directory_tree(const std::filesystem::path& directory) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    EXPECT_FALSE(error) << "cannot create " << directory << ": " << error.message();
}

}  // namespace

FakeSysfs::FakeSysfs() {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string name = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/luoctl_unit.XXXXXX";
    if (::mkdtemp(name.data()) == nullptr) {
        ADD_FAILURE() << "mkdtemp " << name << " failed";
    }
    root_ = name;
    // An unmounted /sys/kernel/debug is an empty directory, as on a real system.
    add_directory("/sys/kernel/debug");
}

FakeSysfs::~FakeSysfs() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
}

std::string FakeSysfs::resolve(std::string_view path) const {
    return root_ + std::string(path);
}

void FakeSysfs::add_directory(std::string_view path) {
    make_directory_tree(resolve(path));
}

void FakeSysfs::add_file(std::string_view path, std::string_view content, mode_t mode) {
    const std::filesystem::path file = resolve(path);
    make_directory_tree(file.parent_path());
    std::ofstream(file) << content;
    EXPECT_EQ(::chmod(file.c_str(), mode), 0) << "cannot chmod " << path;
}

void FakeSysfs::add_module(std::string_view generation, std::string_view handover,
                           std::string_view version) {
    add_file("/sys/module/liveupdate/version", std::string(version) + "\n");
    add_file("/sys/class/misc/liveupdate/generation", std::string(generation) + "\n");
    add_file("/sys/class/misc/liveupdate/handover", std::string(handover) + "\n");
    add_file("/dev/liveupdate", "", 0600);
}

void FakeSysfs::mount_debugfs(bool kho_enabled) {
    // Any entry makes the directory non-empty, which is how luoctl tells debugfs is mounted.
    add_directory("/sys/kernel/debug/tracing");
    if (kho_enabled) {
        add_directory("/sys/kernel/debug/kho");
    }
}

}  // namespace lu::luoctl::test
