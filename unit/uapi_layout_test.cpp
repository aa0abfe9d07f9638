// SPDX-License-Identifier: GPL-2.0
// Our uapi/linux/liveupdate.h against the upstream kernel's installed header:
// every constant, ioctl number, struct size/alignment and member
// offset/size/alignment/signedness that upstream has, ours has with the same
// value; ours adds nothing but the module's LIVEUPDATE_*MOD* extension, and
// that extension cannot be mistaken for an upstream command. The two tables
// come from uapi_layout_table.c, compiled once per header.
#include <gtest/gtest.h>

#include <linux/ioctl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "uapi_layout_table.h"

// How GoogleTest names a parameter in a failure message (found by ADL).
void PrintTo(const uapi_abi_item& item, std::ostream* os) {
    *os << item.name << " = " << item.value;
}

namespace {

using Table = std::map<std::string, uint64_t>;

Table to_map(const uapi_abi_item* items, size_t count) {
    Table table;
    for (size_t i = 0; i < count; i++)
        table.emplace(items[i].name, items[i].value);
    return table;
}

const Table& ours() {
    static const Table table = to_map(uapi_abi_ours, uapi_abi_ours_count);
    return table;
}

const Table& upstream() {
    static const Table table = to_map(uapi_abi_upstream, uapi_abi_upstream_count);
    return table;
}

bool is_extension(const std::string& name) {
    return name.find("_MOD_") != std::string::npos ||
           name.rfind("struct liveupdate_mod_", 0) == 0;
}

// The upstream ioctl numbers, by name.
const char* const kUpstreamIoctls[] = {
    "LIVEUPDATE_IOCTL_CREATE_SESSION", "LIVEUPDATE_IOCTL_RETRIEVE_SESSION",
    "LIVEUPDATE_SESSION_PRESERVE_FD",  "LIVEUPDATE_SESSION_RETRIEVE_FD",
    "LIVEUPDATE_SESSION_FINISH",       "LIVEUPDATE_SESSION_GET_NAME",
};

TEST(UapiLayout, TablesAreComplete) {
    // Names are unique (a map would hide a duplicate) and nothing is lost.
    EXPECT_EQ(upstream().size(), uapi_abi_upstream_count);
    EXPECT_EQ(ours().size(), uapi_abi_ours_count);
    // 16 constants, 6 structs x 2, 17 members (3 of them arrays) x 4 + 3.
    EXPECT_EQ(upstream().size(), 16u + 12u + 17u * 4u + 3u);
}

class UpstreamItem : public ::testing::TestWithParam<uapi_abi_item> {};

TEST_P(UpstreamItem, OursIsIdentical) {
    const uapi_abi_item& item = GetParam();
    auto it = ours().find(item.name);
    ASSERT_NE(it, ours().end()) << item.name << " is missing from our header";
    EXPECT_EQ(it->second, item.value) << item.name;
}

std::string item_test_name(const ::testing::TestParamInfo<uapi_abi_item>& info) {
    std::string name;
    for (const char* p = info.param.name; *p; p++)
        name += (isalnum(static_cast<unsigned char>(*p)) ? *p : '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Upstream, UpstreamItem,
                         ::testing::ValuesIn(uapi_abi_upstream,
                                             uapi_abi_upstream + uapi_abi_upstream_count),
                         item_test_name);

TEST(UapiLayout, OursAddsOnlyTheModuleExtension) {
    for (const auto& [name, value] : ours()) {
        if (upstream().count(name))
            continue;
        EXPECT_TRUE(is_extension(name)) << name << " is neither upstream nor *_MOD_*";
    }
    EXPECT_EQ(ours().count("LIVEUPDATE_IOCTL_MOD_STATUS"), 1u);
}

TEST(UapiLayout, ExtensionDoesNotCollideWithUpstream) {
    const uint64_t mod_status = ours().at("LIVEUPDATE_IOCTL_MOD_STATUS");
    const uint64_t mod_nr = _IOC_NR(mod_status);

    // Not one of upstream's ioctl numbers, nor one of its command numbers.
    for (const char* name : kUpstreamIoctls) {
        const uint64_t cmd = upstream().at(name);
        EXPECT_NE(mod_status, cmd) << name;
        EXPECT_NE(mod_nr, _IOC_NR(cmd)) << name;
    }
    for (const auto& [name, value] : upstream()) {
        if (name.rfind("LIVEUPDATE_CMD_", 0) == 0) {
            EXPECT_NE(mod_nr, value) << name;
        }
    }

    // Above both upstream ranges (device 0x00.., session 0x40..), so an
    // upstream kernel rejects it by range (EINVAL) instead of dispatching it.
    EXPECT_GT(mod_nr, upstream().at("LIVEUPDATE_CMD_SESSION_GET_NAME"));
    EXPECT_EQ(ours().at("LIVEUPDATE_CMD_MOD_BASE"), mod_nr);
    EXPECT_EQ(ours().at("LIVEUPDATE_CMD_MOD_STATUS"), mod_nr);

    // Encoded like the upstream commands: type 0xBA, _IO (no dir, size 0).
    EXPECT_EQ(_IOC_TYPE(mod_status), upstream().at("LIVEUPDATE_IOCTL_TYPE"));
    EXPECT_EQ(_IOC_DIR(mod_status), static_cast<uint64_t>(_IOC_NONE));
    EXPECT_EQ(_IOC_SIZE(mod_status), 0u);
}

TEST(UapiLayout, UpstreamIoctlsAreBareIo) {
    // The size travels in the struct, not the command: _IO(0xBA, nr).
    for (const char* name : kUpstreamIoctls) {
        const uint64_t cmd = upstream().at(name);
        EXPECT_EQ(_IOC_TYPE(cmd), 0xBAu) << name;
        EXPECT_EQ(_IOC_DIR(cmd), static_cast<uint64_t>(_IOC_NONE)) << name;
        EXPECT_EQ(_IOC_SIZE(cmd), 0u) << name;
    }
}

// Every struct of @table is packed by construction: its members, in offset
// order, touch each other and the last ends at sizeof. A hole would be
// uninitialised bytes that copy_struct_from_user() treats as "must be zero".
void expect_no_holes(const Table& table, const char* which) {
    std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> members;
    for (const auto& [name, value] : table) {
        const auto dot = name.find('.');
        const auto slash = name.rfind('/');
        if (dot == std::string::npos || name.compare(slash, std::string::npos, "/offset"))
            continue;
        const std::string member = name.substr(0, slash);
        members[name.substr(0, dot)].emplace_back(value, table.at(member + "/size"));
    }
    EXPECT_FALSE(members.empty()) << which;
    for (auto& [type, fields] : members) {
        std::sort(fields.begin(), fields.end());
        uint64_t end = 0;
        for (const auto& [offset, size] : fields) {
            EXPECT_EQ(offset, end) << which << ": hole before offset " << offset << " in " << type;
            end = offset + size;
        }
        EXPECT_EQ(end, table.at(type + "/sizeof")) << which << ": tail padding in " << type;
    }
}

TEST(UapiLayout, NoImplicitPadding) {
    expect_no_holes(upstream(), "upstream");
    expect_no_holes(ours(), "ours");
}

}  // namespace
