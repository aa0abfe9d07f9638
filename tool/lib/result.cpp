#include "result.hpp"

#include <cstring>

namespace lu {

Error Error::from_errno(int errnum, std::string_view what) {
    std::string message{what};
    message += ": ";
    message += std::strerror(errnum);
    return Error(errnum, std::move(message));
}

}  // namespace lu
