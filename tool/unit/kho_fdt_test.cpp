// Decoding KHO's device trees with libfdt: trees built here with libfdt's sequential-write API,
// and the one a 7.3 guest handed over.
#include "kho_fdt.hpp"

#include <libfdt.h>

#include <gtest/gtest.h>

#include <cerrno>

#include "kho_fixtures.hpp"

namespace lu::luoctl {
namespace {

using test::kho_root_fdt;
using test::RootEntry;

TEST(KhoFdt, DecodesARootTree) {
    const std::string blob =
        kho_root_fdt("kho-v4", 0x199000,
                     {{.name = "liveupdate-module", .phys = 0x574000, .size = 80},
                      {.name = "kexec-metadata", .phys = 0x1a0000, .size = 73}});
    const Result<KhoRootTree> tree = decode_kho_root(blob);
    ASSERT_TRUE(tree.ok()) << tree.error().message();
    EXPECT_EQ(tree.value().compatible, "kho-v4");
    EXPECT_EQ(tree.value().memory_map, 0x199000u);
    ASSERT_EQ(tree.value().subtrees.size(), 2u);
    EXPECT_EQ(tree.value().subtrees[0].name, "liveupdate-module");
    EXPECT_EQ(tree.value().subtrees[0].phys, 0x574000u);
    EXPECT_EQ(tree.value().subtrees[0].size, 80u);
    EXPECT_EQ(tree.value().subtrees[1].name, "kexec-metadata");
    EXPECT_EQ(tree.value().subtrees[1].size, 73u);
}

TEST(KhoFdt, DecodesTheTreeAGuestHandedOver) {
    const Result<KhoRootTree> tree = decode_kho_root(test::kGuestIncomingRoot);
    ASSERT_TRUE(tree.ok()) << tree.error().message();
    EXPECT_EQ(tree.value().compatible, "kho-v4");
    EXPECT_EQ(tree.value().memory_map, 0x199000u);
    ASSERT_EQ(tree.value().subtrees.size(), 2u);
    EXPECT_EQ(tree.value().subtrees[0].name, "liveupdate-module");
    EXPECT_EQ(tree.value().subtrees[0].phys, 0x574000u);
    EXPECT_EQ(tree.value().subtrees[0].size, 80u);
    EXPECT_EQ(tree.value().subtrees[1].name, "kexec-metadata");
    EXPECT_EQ(tree.value().subtrees[1].phys, 0x1a0000u);
    EXPECT_EQ(tree.value().subtrees[1].size, 73u);
}

TEST(KhoFdt, ToleratesEntriesWithoutTheirProperties) {
    std::vector<std::uint64_t> buffer(128);
    void* fdt = buffer.data();
    ASSERT_EQ(fdt_create(fdt, 1024), 0);
    ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
    ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
    ASSERT_EQ(fdt_begin_node(fdt, "odd"), 0);
    ASSERT_EQ(fdt_property_u32(fdt, "preserved-data", 7), 0);  // 4 bytes, not a u64
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_finish(fdt), 0);
    const Result<KhoRootTree> tree =
        decode_kho_root(std::string(static_cast<const char*>(fdt), fdt_totalsize(fdt)));
    ASSERT_TRUE(tree.ok()) << tree.error().message();
    EXPECT_EQ(tree.value().compatible, "");
    EXPECT_FALSE(tree.value().memory_map.has_value());
    ASSERT_EQ(tree.value().subtrees.size(), 1u);
    EXPECT_FALSE(tree.value().subtrees[0].phys.has_value());
    EXPECT_FALSE(tree.value().subtrees[0].size.has_value());
}

TEST(KhoFdt, ReportsATruncatedCopy) {
    EXPECT_EQ(fdt_declared_size(test::kGuestTruncatedRoot), 301u);
    const Result<KhoRootTree> tree = decode_kho_root(test::kGuestTruncatedRoot);
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().errnum(), EMSGSIZE);
    EXPECT_EQ(tree.error().message(), "truncated: 233 of its 301 bytes");
    EXPECT_EQ(decode_fdt(test::kGuestIncomingRoot.substr(0, 20)).error().errnum(), EMSGSIZE);
}

TEST(KhoFdt, RefusesWhatIsNotATree) {
    EXPECT_FALSE(is_fdt("LUMODHO"));
    EXPECT_EQ(decode_fdt("LUMODHO").error().message(),
              "not a flattened device tree (no FDT magic)");
    std::string corrupt = kho_root_fdt("kho-v4", 1, {{.name = "a", .phys = 1, .size = 2}});
    corrupt[fdt_off_dt_struct(corrupt.data()) + 3] = 0x7f;  // the root's FDT_BEGIN_NODE token
    const Result<FdtNode> tree = decode_fdt(corrupt);
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().errnum(), EBADMSG);
    EXPECT_TRUE(tree.error().message().starts_with("not a valid flattened device tree: "))
        << tree.error().message();
}

TEST(KhoFdt, DecodesNestedNodes) {
    std::vector<std::uint64_t> buffer(128);
    void* fdt = buffer.data();
    ASSERT_EQ(fdt_create(fdt, 1024), 0);
    ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
    ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
    ASSERT_EQ(fdt_property_string(fdt, "compatible", "memblock-v1"), 0);
    ASSERT_EQ(fdt_begin_node(fdt, "r1"), 0);
    ASSERT_EQ(fdt_property_u64(fdt, "start", 0x1000), 0);
    ASSERT_EQ(fdt_property(fdt, "flag", nullptr, 0), 0);
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_end_node(fdt), 0);
    ASSERT_EQ(fdt_finish(fdt), 0);
    const Result<FdtNode> tree =
        decode_fdt(std::string(static_cast<const char*>(fdt), fdt_totalsize(fdt)));
    ASSERT_TRUE(tree.ok()) << tree.error().message();
    EXPECT_EQ(tree.value().name, "");
    ASSERT_EQ(tree.value().children.size(), 1u);
    const FdtNode& child = tree.value().children[0];
    EXPECT_EQ(child.name, "r1");
    ASSERT_NE(child.property("start"), nullptr);
    EXPECT_EQ(fdt_value_text(child.property("start")->value), "<0x0 0x1000>");
    ASSERT_NE(child.property("flag"), nullptr);
    EXPECT_EQ(child.property("flag")->value, "");
}

TEST(KhoFdt, ShowsValuesAsDtcDoes) {
    EXPECT_EQ(fdt_value_text(std::string("kho-v4\0", 7)), "\"kho-v4\"");
    EXPECT_EQ(fdt_value_text(std::string("a\0bc\0", 5)), "\"a\", \"bc\"");
    EXPECT_EQ(fdt_value_text(std::string("\0\0\0\x05", 4)), "<0x5>");
    EXPECT_EQ(fdt_value_text(std::string("\x01\x02\x03", 3)), "[01 02 03]");
    EXPECT_EQ(fdt_value_text(std::string("a\0\0b", 4)), "<0x61000062>");
    EXPECT_EQ(fdt_value_text(""), "");
}

}  // namespace
}  // namespace lu::luoctl
