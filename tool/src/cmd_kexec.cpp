#include "cmd_kexec.hpp"

#include <linux/kexec.h>
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent_table.hpp"
#include "cli.hpp"
#include "private_file.hpp"
#include "protocol.hpp"
#include "readiness.hpp"
#include "status.hpp"
#include "sysfs.hpp"

namespace lu::luoctl {
namespace {

using protocol::Message;

constexpr std::string_view kKexecLoaded = "/sys/kernel/kexec_loaded";
constexpr std::string_view kProcCmdline = "/proc/cmdline";

// What `luoctl load` staged, recorded in run_dir (a tmpfs, so it dies with the boot). The kernel
// says only *that* an image is loaded (/sys/kernel/kexec_loaded), not whether kexec_file_load
// (which carries the KHO tree) or kexec_load (which silently loses every preserved file) loaded
// it: this record is how check knows. Someone else loading afterwards goes unnoticed.
std::string staged_path(const Environment& environment) {
    return environment.run_dir + "/luoctl.staged";
}

struct Staged {
    std::string image;
    std::string initrd;
    std::string cmdline;
};

std::optional<Staged> read_staged(const Environment& environment) {
    std::ifstream in(staged_path(environment), std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const Result<Message> message = protocol::decode(text.str());
    if (!message.ok() || message.value().verb() != "staged") {
        return std::nullopt;
    }
    return Staged{.image = std::string(message.value().get("image").value_or("")),
                  .initrd = std::string(message.value().get("initrd").value_or("")),
                  .cmdline = std::string(message.value().get("cmdline").value_or(""))};
}

// ---- check ---------------------------------------------------------------------------------

struct CheckLine {
    std::string name;
    bool ok;
    std::string detail;
};

std::vector<CheckLine> run_checks(const CommandContext& context) {
    std::vector<CheckLine> lines;
    const SysfsRoot root(context.environment.sysfs_root);

    const Result<LiveUpdateStatus> status = read_status(root);
    const bool in_kernel = status.ok() && status.value().provider() == Provider::kInKernel;
    if (!status.ok()) {
        lines.push_back({"liveupdate", false, status.error().message()});
    } else {
        const Status available = check_available(status.value());
        lines.push_back({"liveupdate", available.ok(),
                         available.ok() ? "/dev/liveupdate served by the "
                                              + std::string(status.value().provider() ==
                                                                    Provider::kModule
                                                                ? "liveupdate module"
                                                                : "in-kernel LUO")
                                        : available.error().message()});
        const bool kho = status.value().kho == KhoState::kEnabled;
        lines.push_back({"kho", kho,
                         kho ? "enabled" : "not enabled (boot with kho=on and debugfs mounted)"});
    }

    const Result<std::optional<std::string>> loaded = root.read_attribute(kKexecLoaded);
    const std::optional<Staged> staged = read_staged(context.environment);
    if (!loaded.ok()) {
        lines.push_back({"kernel", false, loaded.error().message()});
    } else if (loaded.value().value_or("0") != "1") {
        lines.push_back({"kernel", false, "no kernel staged (luoctl load IMAGE)"});
    } else if (!staged) {
        lines.push_back({"kernel", false,
                         "a kernel is staged, but not by 'luoctl load': cannot tell whether "
                         "kexec_file_load staged it (kexec_load loses every preserved file)"});
    } else {
        lines.push_back({"kernel", true, staged->image + " staged with kexec_file_load"});
    }

    const Readiness readiness = read_readiness(context);
    if (readiness.agent_pid) {
        lines.push_back({"agent", true, "running (pid " + std::to_string(*readiness.agent_pid) + ")"});
    } else if (readiness.agent_error) {
        lines.push_back({"agent", false, "not usable: " + readiness.agent_error->message()});
    } else if (readiness.dead_agent_pid) {
        lines.push_back({"agent", false,
                         "not running; agent pid " + std::to_string(*readiness.dead_agent_pid) +
                             " died before the reboot"});
    } else {
        lines.push_back({"agent", true, "not running (no sessions held by an agent)"});
    }
    if (readiness.registry_error) {
        lines.push_back({"registry", false,
                         "the agent's registry misses its last change (" +
                             *readiness.registry_error +
                             "): the next kernel's agent would not know whose sessions are whose"});
    }
    if (!readiness.lost.empty()) {
        std::string names;
        for (const std::string& name : readiness.lost) {
            names += (names.empty() ? "" : ", ") + name;
        }
        lines.push_back({"lost", false,
                         std::to_string(readiness.lost.size()) + " session(s) lost with a dead "
                         "agent, no longer preserved: " + names +
                             " (preserve again, or 'luoctl abort' to acknowledge)"});
    }
    if (readiness.module) {
        const ModStatus& mod = *readiness.module;
        if (mod.ready) {
            const std::string registry =
                readiness.registry_sessions > 0
                    ? " (and the agent's registry, " + std::string(kRegistrySession) + ")"
                    : "";
            lines.push_back({"sessions", true,
                             std::to_string(readiness.outgoing_sessions()) +
                                 " outgoing session(s), " +
                                 std::to_string(readiness.outgoing_files()) + " file(s)" +
                                 registry + ", all ready"});
        } else {
            lines.push_back({"sessions", false,
                             "session '" + mod.failed_session + "' token " +
                                 std::to_string(mod.failed_token) + " refused to freeze: " +
                                 errno_text(mod.first_error)});
        }
    } else if (in_kernel && status_unsupported(readiness)) {
        const std::string held =
            readiness.held_sessions
                ? std::to_string(*readiness.held_sessions) + " outgoing session(s), " +
                      std::to_string(readiness.held_files) + " file(s) held by the agent; "
                : std::string("no agent to count the outgoing sessions; ");
        lines.push_back({"sessions", true,
                         held + "the in-kernel LUO cannot be asked whether every file will "
                                "freeze (no LIVEUPDATE_IOCTL_MOD_STATUS): one that refuses "
                                "makes the kexec itself fail"});
    } else {
        lines.push_back({"sessions", false,
                         "cannot ask the module: " +
                             (readiness.module_error ? readiness.module_error->message()
                                                     : std::string("unknown"))});
    }
    return lines;
}

// Prints the lines; true if every check passed.
bool report_checks(const CommandContext& context, const std::vector<CheckLine>& lines) {
    bool all = true;
    for (const CheckLine& line : lines) {
        all = all && line.ok;
    }
    if (context.json != nullptr) {
        context.json->key("ready").boolean(all);
        context.json->key("checks").begin_array();
        for (const CheckLine& line : lines) {
            context.json->begin_object();
            context.json->key("check").string(line.name);
            context.json->key("ok").boolean(line.ok);
            context.json->key("detail").string(line.detail);
            context.json->end_object();
        }
        context.json->end_array();
    } else {
        for (const CheckLine& line : lines) {
            context.out << (line.ok ? "ok   " : "FAIL ") << line.name << ": " << line.detail
                        << '\n';
        }
    }
    return all;
}

std::size_t failures(const std::vector<CheckLine>& lines) {
    std::size_t count = 0;
    for (const CheckLine& line : lines) {
        count += !line.ok;
    }
    return count;
}

Status run_check(const CommandContext& context) {
    const std::vector<CheckLine> lines = run_checks(context);
    if (!report_checks(context, lines)) {
        return Error(ECANCELED, "not ready for a live update: " +
                                    std::to_string(failures(lines)) + " check(s) failed");
    }
    return {};
}

constexpr OptionSpec kSocketOnly[] = {kSocketOption, kTimeoutOption};

// ---- load ----------------------------------------------------------------------------------

constexpr OptionSpec kLoadOptions[] = {{"--initrd", "FILE"},
                                       {"--append", "ARGS"},
                                       {"--reuse-cmdline", ""},
                                       kSocketOption,
                                       kTimeoutOption};

}  // namespace

std::string reusable_cmdline(std::string_view cmdline) {
    std::string kept;
    std::size_t i = 0;
    while (i < cmdline.size()) {
        while (i < cmdline.size() && (cmdline[i] == ' ' || cmdline[i] == '\n')) {
            ++i;
        }
        const std::size_t start = i;
        bool quoted = false;
        while (i < cmdline.size() && (quoted || (cmdline[i] != ' ' && cmdline[i] != '\n'))) {
            quoted ^= cmdline[i] == '"';
            ++i;
        }
        const std::string_view word = cmdline.substr(start, i - start);
        if (word.empty() || word.starts_with("BOOT_IMAGE=")) {
            continue;
        }
        if (!kept.empty()) {
            kept += ' ';
        }
        kept += word;
    }
    return kept;
}

namespace {

Result<std::string> build_cmdline(const CommandContext& context) {
    std::string cmdline;
    if (context.invocation.flag("--reuse-cmdline")) {
        const SysfsRoot root(context.environment.sysfs_root);
        const std::optional<std::string> current = LU_TRY(root.read_attribute(kProcCmdline));
        if (!current) {
            return Error(ENOENT, "cannot read /proc/cmdline for --reuse-cmdline");
        }
        cmdline = reusable_cmdline(*current);
    }
    if (const std::optional<std::string_view> append = context.invocation.option("--append")) {
        if (!cmdline.empty() && !append->empty()) {
            cmdline += ' ';
        }
        cmdline += *append;
    }
    return cmdline;
}

// kexec_file_load: the only way that puts the image in KHO's scratch areas and hands the KHO tree
// (and with it every preserved file) to the next kernel.
Result<Staged> stage(const CommandContext& context, std::string_view image) {
    Staged staged{.image = std::string(image),
                  .initrd = std::string(context.invocation.option("--initrd").value_or("")),
                  .cmdline = LU_TRY(build_cmdline(context))};
    const Fd kernel = LU_TRY(Fd::open(staged.image, O_RDONLY));
    std::optional<Fd> initrd;
    unsigned long flags = 0;
    if (!staged.initrd.empty()) {
        initrd = LU_TRY(Fd::open(staged.initrd, O_RDONLY));
    } else {
        flags |= KEXEC_FILE_NO_INITRAMFS;
    }
    // The length counts the terminating NUL: the kernel insists on it.
    if (::syscall(SYS_kexec_file_load, kernel.get(), initrd ? initrd->get() : -1,
                  staged.cmdline.size() + 1, staged.cmdline.c_str(), flags) != 0) {
        const int load_errno = errno;
        ::unlink(staged_path(context.environment).c_str());
        return Error::from_errno(load_errno, "kexec_file_load of " + staged.image + " failed");
    }
    Message record("staged");
    record.add("image", staged.image).add("initrd", staged.initrd);
    record.add("cmdline", staged.cmdline).add("method", "kexec_file_load");
    const std::string text = LU_TRY(protocol::encode(record));
    const Status recorded = replace_private_file(staged_path(context.environment), text);
    if (!recorded.ok()) {
        return Error(recorded.error().errnum(),
                     "kernel staged, but cannot record it: " + recorded.error().message());
    }
    return staged;
}

void report_staged(const CommandContext& context, const Staged& staged) {
    if (context.json != nullptr) {
        context.json->key("image").string(staged.image);
        context.json->key("initrd").string(staged.initrd);
        context.json->key("cmdline").string(staged.cmdline);
    } else {
        context.out << "staged " << staged.image
                    << (staged.initrd.empty() ? "" : " with initrd " + staged.initrd)
                    << " (kexec_file_load), command line: " << staged.cmdline << '\n';
    }
}

Status run_load(const CommandContext& context) {
    const Staged staged = LU_TRY(stage(context, context.invocation.args.at(0)));
    report_staged(context, staged);
    return {};
}

Status validate_load(const Invocation& invocation) {
    if (invocation.args.empty()) {
        return Error(EINVAL, "IMAGE is required");
    }
    return {};
}

// ---- kexec ---------------------------------------------------------------------------------

Status run_kexec(const CommandContext& context) {
    if (!context.invocation.args.empty()) {
        const Staged staged = LU_TRY(stage(context, context.invocation.args[0]));
        if (context.json == nullptr) {
            report_staged(context, staged);
        }
    } else if (!read_staged(context.environment)) {
        return Error(ENOENT, "nothing staged by 'luoctl load'; give IMAGE");
    }
    const std::vector<CheckLine> lines = run_checks(context);
    if (!report_checks(context, lines)) {
        return Error(ECANCELED, "not rebooting: " + std::to_string(failures(lines)) +
                                    " check(s) failed");
    }
    // On a systemd host the reboot is systemd's: it stops every service (the agent hands its
    // sessions to its fd store), preserves the fd stores and kexecs the image staged here.
    const bool systemd =
        context.environment.sysfs_root == "/" && ::access("/run/systemd/system", F_OK) == 0;
    if (context.json == nullptr) {
        context.out << (systemd ? "kexec: systemctl kexec into the staged kernel\n"
                                : "kexec: rebooting into the staged kernel\n");
    } else {
        // Nothing returns to close the object after a reboot: close it now.
        context.json->key("reboot").string(systemd ? "systemctl kexec" : "kexec");
        context.json->finish();
    }
    context.out.flush();
    std::cout.flush();
    std::cerr.flush();
    if (systemd) {
        // --no-block: waiting for the job needs D-Bus, which a minimal host may not run;
        // systemd takes the system down either way.
        ::execlp("systemctl", "systemctl", "--no-block", "kexec", static_cast<char*>(nullptr));
        const int exec_errno = errno;
        return Error::from_errno(exec_errno, "cannot run systemctl kexec");
    }
    ::sync();
    ::reboot(LINUX_REBOOT_CMD_KEXEC);
    const int reboot_errno = errno;
    return Error::from_errno(reboot_errno, "reboot(LINUX_REBOOT_CMD_KEXEC) failed");
}

}  // namespace

constinit const Command kCheckCommand = {
    .name = "check",
    .synopsis = "[--socket PATH]",
    .summary = "Check that a live update would carry every preserved file",
    .description =
        "One line per check, 'ok' or 'FAIL': liveupdate is served, KHO is enabled, a kernel\n"
        "is staged with kexec_file_load (by 'luoctl load'; a kexec_load image silently loses\n"
        "everything), the agent is alive (a dead one lost its sessions), and every outgoing\n"
        "session is ready (LIVEUPDATE_IOCTL_MOD_STATUS: a trial freeze of every file).\n"
        "Exit status 1 if any check fails.\n",
    .max_args = 0,
    .handler = run_check,
    .options = kSocketOnly,
};

constinit const Command kLoadCommand = {
    .name = "load",
    .synopsis = "IMAGE [--initrd FILE] [--append ARGS] [--reuse-cmdline]",
    .summary = "Stage the next kernel with kexec_file_load",
    .description =
        "Load IMAGE (and FILE as its initramfs) with kexec_file_load, the call that hands the\n"
        "KHO tree to the next kernel. The command line is ARGS; with --reuse-cmdline it is\n"
        "the running kernel's (/proc/cmdline) followed by ARGS, as kexec-tools does.\n",
    .max_args = 1,
    .handler = run_load,
    .options = kLoadOptions,
    .validate = validate_load,
};

constinit const Command kKexecCommand = {
    .name = "kexec",
    .synopsis = "[IMAGE [--initrd FILE] [--append ARGS] [--reuse-cmdline]] [--socket PATH]",
    .summary = "Stage if asked, check, and reboot into the new kernel only if all is ready",
    .description =
        "With IMAGE, stage it as 'luoctl load' does (a failed staging never reboots); without,\n"
        "use what 'luoctl load' staged. Then run every 'luoctl check' and, only if all pass,\n"
        "reboot into the staged kernel (reboot(LINUX_REBOOT_CMD_KEXEC); on a systemd host,\n"
        "'systemctl --no-block kexec', so that services stop and fd stores are preserved).\n"
        "Exit status 1 if staging or a check failed; on success it does not return (under\n"
        "systemd it returns once the shutdown has started). Never abbreviated.\n",
    .max_args = 1,
    .handler = run_kexec,
    .options = kLoadOptions,
    .spelled_out = true,
};

}  // namespace lu::luoctl
