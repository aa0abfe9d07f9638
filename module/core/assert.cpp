// SPDX-License-Identifier: GPL-2.0
#include "lu/result.hpp"
#include "lu_glue.h"

#include "lu/enforce.h"

namespace lu {

void assert_failed(const char* expr, const char* file, int line) {
    lu_bug(expr, file, line);
}

}  // namespace lu
