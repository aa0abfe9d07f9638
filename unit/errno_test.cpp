// The core's errno values (module/core/lu/errno.hpp) against the C library's, which on x86_64
// are the kernel's uapi numbers: the userspace programs that read them see the same. Checked at
// compile time; the test exists so that the check shows in the test count.
#include "lu/errno.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace {

namespace errc = lu::errc;

static_assert(errc::kPerm == EPERM && errc::kNoEnt == ENOENT && errc::kIo == EIO &&
              errc::kBadF == EBADF && errc::kNoMem == ENOMEM && errc::kFault == EFAULT &&
              errc::kBusy == EBUSY && errc::kNoDev == ENODEV && errc::kExist == EEXIST &&
              errc::kInval == EINVAL && errc::kNoSpc == ENOSPC && errc::kRange == ERANGE &&
              errc::kDeadlk == EDEADLK && errc::kNoSys == ENOSYS && errc::kNoData == ENODATA &&
              errc::kNoLink == ENOLINK && errc::kBadMsg == EBADMSG &&
              errc::kOverflow == EOVERFLOW && errc::kProtoNoSupport == EPROTONOSUPPORT &&
              errc::kOpNotSupp == EOPNOTSUPP && errc::kStale == ESTALE);

TEST(Errno, CoreValuesAreTheKernels) {
    EXPECT_EQ(errc::kInval, EINVAL);
    EXPECT_EQ(errc::kMaxErrno, 4095);  // MAX_ERRNO: the kernel's ERR_PTR range
}

}  // namespace
