// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lu::test {

class TempDir {
public:
    TempDir() {
        const char* tmpdir = std::getenv("TMPDIR");
        path_ = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/luoctl_unit.XXXXXX";
        EXPECT_NE(::mkdtemp(path_.data()), nullptr) << "mkdtemp " << path_;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // A path inside it.
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace lu::test
