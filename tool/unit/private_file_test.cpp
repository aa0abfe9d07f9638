// The agent's state file and the staged-kernel record: 0600, replaced whole, and a symlink planted
// at their path is replaced rather than written through.
#include "private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.hpp"

namespace lu::luoctl {
namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class PrivateFile : public ::testing::Test {
protected:
    test::TempDir dir_;
};

TEST_F(PrivateFile, IsReadableByRootOnlyWhateverTheUmask) {
    const mode_t old = ::umask(0);
    const std::string path = dir_ / "luoctl.sock.state";
    ASSERT_TRUE(replace_private_file(path, "state\n").ok());
    ::umask(old);
    struct stat st = {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(read(path), "state\n");
}

TEST_F(PrivateFile, ReplacesTheOldContentWhole) {
    const std::string path = dir_ / "state";
    ASSERT_TRUE(replace_private_file(path, "a much longer first version\n").ok());
    ASSERT_TRUE(replace_private_file(path, "short\n").ok());
    EXPECT_EQ(read(path), "short\n");
    // Nothing left beside it.
    EXPECT_EQ(std::system(("test $(ls " + dir_.path() + " | wc -l) -eq 1").c_str()), 0);
}

TEST_F(PrivateFile, ReplacesASymlinkInsteadOfWritingThroughIt) {
    const std::string victim = dir_ / "passwd";
    const std::string path = dir_ / "state";
    { std::ofstream(victim) << "root:x:0:0\n"; }
    ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
    ASSERT_TRUE(replace_private_file(path, "state\n").ok());
    EXPECT_EQ(read(victim), "root:x:0:0\n");
    struct stat st = {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(PrivateFile, SaysWhyItCannotWrite) {
    const Status written = replace_private_file(dir_ / "missing/state", "x");
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().errnum(), ENOENT);
}

}  // namespace
}  // namespace lu::luoctl
