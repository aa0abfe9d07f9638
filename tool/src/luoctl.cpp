#include "luoctl.hpp"

#include <cassert>

#include "args.hpp"
#include "cli.hpp"
#include "cmd_help.hpp"
#include "json.hpp"
#include "protocol.hpp"

namespace lu::luoctl {
namespace {

void write_error_members(const Error& error, JsonWriter& json) {
    json.key("error").string(error.message());
    json.key("errno").number(error.errnum());
}

void print_error(const Error& error, std::ostream& err) {
    err << "luoctl: " << error.message() << '\n';
}

// Runs the command with its output in the format asked for. In JSON mode the command's members
// and, if it failed, the error share one object.
Status execute(const Invocation& invocation, const Environment& environment, std::ostream& out) {
    if (!invocation.json) {
        return invocation.command->handler({invocation, environment, out, nullptr});
    }
    JsonWriter json(out);
    json.begin_object();
    Status status = invocation.command->handler({invocation, environment, out, &json});
    if (json.finished()) {
        return status;  // the object is out already; an error after it goes to stderr only
    }
    assert(json.depth() == 1);  // handlers gather first and write last, see CommandContext
    if (!status.ok()) {
        write_error_members(status.error(), json);
    }
    json.end_object();
    out << '\n';
    return status;
}

}  // namespace

std::optional<unsigned> parse_timeout(std::string_view text) {
    const std::optional<std::uint64_t> seconds = protocol::parse_u64(text);
    if (!seconds || *seconds > kMaxTimeoutSeconds) {
        return std::nullopt;
    }
    return static_cast<unsigned>(*seconds);
}

int run(std::span<const std::string_view> args, const Environment& environment, std::ostream& out,
        std::ostream& err) {
    if (args.empty()) {
        print_usage(err);
        return kExitUsage;
    }

    const Result<Invocation> invocation = parse_args(args);
    if (!invocation.ok()) {
        if (json_requested(args)) {
            JsonWriter json(out);
            json.begin_object();
            write_error_members(invocation.error(), json);
            json.end_object();
            out << '\n';
        }
        print_error(invocation.error(), err);
        return kExitUsage;
    }

    const Status status = execute(invocation.value(), environment, out);
    if (!status.ok()) {
        print_error(status.error(), err);
        return kExitFailure;
    }
    // Output that never arrived (a full disk, a closed pipe) is a failure, not a success.
    if (!out.flush()) {
        err << "luoctl: cannot write to standard output\n";
        return kExitFailure;
    }
    return kExitSuccess;
}

}  // namespace lu::luoctl
