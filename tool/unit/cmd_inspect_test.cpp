// luoctl inspect end to end over a fake debugfs: the KHO trees of a cold boot and of a boot by
// kexec, the quirks of 7.3's debugfs, other subtrees, and the errors.
#include <libfdt.h>

#include <gtest/gtest.h>

#include "fake_sysfs.hpp"
#include "kho_fixtures.hpp"
#include "luoctl.hpp"
#include "luoctl_runner.hpp"

namespace lu::luoctl {
namespace {

using test::FakeSysfs;
using test::Outcome;
using test::run_luoctl;

constexpr std::string_view kOut = "/sys/kernel/debug/kho/out";
constexpr std::string_view kIn = "/sys/kernel/debug/kho/in";

void add(FakeSysfs& fake, std::string_view dir, std::string_view name, const std::string& bytes) {
    fake.add_file(std::string(dir) + "/" + std::string(name), bytes, 0400);
}

void add_scratch(FakeSysfs& fake) {
    add(fake, kOut, "scratch_phys", "0x1000000\n0x7c000000\n");
    add(fake, kOut, "scratch_len", "0x2000000\n0x400000\n");
}

// The first kernel with the module loaded, as the root tree would be if debugfs showed it whole.
void cold_boot(FakeSysfs& fake) {
    fake.mount_debugfs(/*kho_enabled=*/true);
    add(fake, kOut, "fdt",
        test::kho_root_fdt("kho-v4", 0x199000,
                           {{.name = "liveupdate-module", .phys = 0x574000, .size = 80},
                            {.name = "kexec-metadata", .phys = 0x1a0000, .size = 73}}));
    add(fake, kOut, "sub_fdts/liveupdate-module", test::kGuestOutgoingRecord);
    add(fake, kOut, "sub_fdts/kexec-metadata", test::kGuestKexecMetadata);
    add_scratch(fake);
}

// The second kernel, after its module took the record: 7.3 shows no out/fdt after a KHO boot.
void kexec_boot(FakeSysfs& fake) {
    fake.mount_debugfs(/*kho_enabled=*/true);
    add(fake, kOut, "sub_fdts/kexec-metadata", test::kGuestKexecMetadata);
    add_scratch(fake);
    add(fake, kIn, "fdt", test::kGuestIncomingRoot);
    add(fake, kIn, "sub_fdts/liveupdate-module", test::kGuestIncomingRecord);
    add(fake, kIn, "sub_fdts/kexec-metadata", test::kGuestKexecMetadata);
}

TEST(InspectCommand, ShowsTheOutgoingTreeOfAColdBoot) {
    FakeSysfs fake;
    cold_boot(fake);
    const Outcome outcome = run_luoctl({"inspect"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.out,
              "outgoing: /sys/kernel/debug/kho/out\n"
              "  root tree: kho-v4, preserved-memory-map at 0x199000, 2 subtree(s)\n"
              "  scratch: 0x1000000 (32 MiB), 0x7c000000 (4 MiB)\n"
              "  liveupdate-module: 80 bytes at 0x574000, the liveupdate module's root record\n"
              "    magic LUMODHO, version 2, 80 bytes, checksum ok\n"
              "    generation 1, state open\n"
              "    session payload: none\n"
              "    FLB chain: 0x571000\n"
              "    taken by the next kernel: no; payload not read\n"
              "  kexec-metadata: 73 bytes at 0x1a0000\n"
              "    version 1, written by 7.3.4, kexec count 1\n"
              "incoming: none (this boot did not come from a kexec with KHO)\n");
}

TEST(InspectCommand, ShowsBothTreesAfterAKexec) {
    FakeSysfs fake;
    kexec_boot(fake);
    const Outcome outcome = run_luoctl({"inspect"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.out,
              "outgoing: /sys/kernel/debug/kho/out\n"
              "  root tree: not in debugfs (this kernel shows it only after a cold boot); "
              "subtrees from sub_fdts/, without their addresses\n"
              "  scratch: 0x1000000 (32 MiB), 0x7c000000 (4 MiB)\n"
              "  kexec-metadata: 73 bytes\n"
              "    version 1, written by 7.3.4, kexec count 1\n"
              "  liveupdate-module: absent (the liveupdate module is not loaded)\n"
              "incoming: /sys/kernel/debug/kho/in\n"
              "  root tree: kho-v4, preserved-memory-map at 0x199000, 2 subtree(s)\n"
              "  liveupdate-module: 80 bytes at 0x574000, the liveupdate module's root record\n"
              "    magic LUMODHO, version 2, 80 bytes, checksum ok\n"
              "    generation 1, state sealed\n"
              "    session payload: none\n"
              "    FLB chain: 0x571000\n"
              "    taken by the next kernel: yes; payload not read\n"
              "  kexec-metadata: 73 bytes at 0x1a0000\n"
              "    version 1, written by 7.3.4, kexec count 1\n");
}

TEST(InspectCommand, SaysWhenDebugfsShowsATruncatedRootTree) {
    FakeSysfs fake;
    cold_boot(fake);
    add(fake, kOut, "fdt", test::kGuestTruncatedRoot);
    const Outcome outcome = run_luoctl({"inspect"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_NE(outcome.out.find("  root tree: debugfs shows 233 of its 301 bytes (the kernel sized "
                               "that file when KHO started, before the later subtrees); subtrees "
                               "from sub_fdts/, without their addresses\n"
                               "  scratch: 0x1000000 (32 MiB), 0x7c000000 (4 MiB)\n"
                               "  kexec-metadata: 73 bytes\n"),
              std::string::npos)
        << outcome.out;
    EXPECT_NE(outcome.out.find("  liveupdate-module: 80 bytes, the liveupdate module's root "
                               "record\n    magic LUMODHO"),
              std::string::npos)
        << outcome.out;
}

TEST(InspectCommand, WritesTheTreesAsJson) {
    FakeSysfs fake;
    cold_boot(fake);
    const Outcome outcome = run_luoctl({"inspect", "-j"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(outcome.out,
              R"({"outgoing":{"path":"/sys/kernel/debug/kho/out",)"
              R"("root":{"state":"decoded","bytes":309,"total_size":309,"problem":null,)"
              R"("compatible":"kho-v4","preserved_memory_map":1675264},)"
              R"("scratch":[{"phys":16777216,"size":33554432},{"phys":2080374784,"size":4194304}],)"
              R"("subtrees":[{"name":"liveupdate-module","phys":5718016,"size":80,"blob_bytes":80,)"
              R"("format":"liveupdate-module","decoded":{"version":2,"size":80,"generation":1,)"
              R"("state":"open","failure":0,"payload_phys":0,"payload_len":0,"flb_phys":5705728,)"
              R"("crc":199874646,"crc_ok":true,"adopted":false,"payload":"unread","valid":true,)"
              R"("problems":[]},"error":null},)"
              R"({"name":"kexec-metadata","phys":1703936,"size":73,"blob_bytes":73,)"
              R"("format":"kexec-metadata","decoded":{"version":1,"previous_release":"7.3.4",)"
              R"("kexec_count":1},"error":null}]},)"
              R"("incoming":null})"
              "\n");
}

TEST(InspectCommand, ShowsOtherSubtreesByTheirContent) {
    FakeSysfs fake;
    fake.mount_debugfs(/*kho_enabled=*/true);
    std::vector<std::uint64_t> buffer(128);
    void* fdt = buffer.data();
    ASSERT_EQ(fdt_create(fdt, 1024), 0);
    ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
    ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
    ASSERT_EQ(fdt_property_string(fdt, "compatible", "memblock-v1"), 0);
    ASSERT_EQ(fdt_begin_node(fdt, "trace"), 0);
    ASSERT_EQ(fdt_property_u32(fdt, "size", 4096), 0);
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_finish(fdt), 0);
    add(fake, kOut, "sub_fdts/memblock",
        std::string(static_cast<const char*>(fdt), fdt_totalsize(fdt)));
    add(fake, kOut, "sub_fdts/mystery", std::string(40, '\x5a'));
    add(fake, kOut, "sub_fdts/liveupdate-module", "not a record");
    const Outcome outcome = run_luoctl({"inspect"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitSuccess) << outcome.err;
    EXPECT_EQ(
        outcome.out,
        "outgoing: /sys/kernel/debug/kho/out\n"
        "  root tree: not in debugfs (this kernel shows it only after a cold boot); "
        "subtrees from sub_fdts/, without their addresses\n"
        "  liveupdate-module: 12 bytes, the liveupdate module's root record\n"
        "    cannot decode: not a liveupdate-module record (12 bytes without its magic "
        "\"LUMODHO\")\n"
        "  memblock: 152 bytes, a device tree\n"
        "    / {\n"
        "      compatible = \"memblock-v1\";\n"
        "      trace {\n"
        "        size = <0x1000>;\n"
        "      };\n"
        "    };\n"
        "  mystery: 40 bytes\n"
        "    first bytes: 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a "
        "5a 5a 5a 5a 5a 5a 5a 5a 5a\n"
        "incoming: none (this boot did not come from a kexec with KHO)\n");
}

TEST(InspectCommand, FailsWithoutDebugfsOrKho) {
    FakeSysfs fake;
    Outcome outcome = run_luoctl({"inspect"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.err,
              "luoctl: debugfs is not mounted on " + fake.root() + "/sys/kernel/debug\n");
    fake.mount_debugfs(/*kho_enabled=*/false);
    outcome = run_luoctl({"inspect", "--json"}, fake.root());
    EXPECT_EQ(outcome.exit_status, kExitFailure);
    EXPECT_EQ(outcome.out, R"({"error":"no )" + fake.root() +
                               R"(/sys/kernel/debug/kho: kexec handover is disabled (boot with )"
                               R"(kho=on) or the kernel lacks CONFIG_KEXEC_HANDOVER_DEBUGFS",)"
                               R"("errno":19})"
                               "\n");
}

}  // namespace
}  // namespace lu::luoctl
