// The REST contract's event record, checked in one place: every test that
// decodes records (rendering, storage, the running service) asks this.
#pragma once

#include "util/time_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace kws::test {

/// Checks that `rec` has every field of the contract's record with the right
/// JSON type and consistent values (id first, verb and status matching,
/// RFC 3339 timestamp, stage ResponseComplete).
inline void expect_contract_record(const rapidjson::Value& rec) {
  ASSERT_TRUE(rec.IsObject());
  for (const char* key :
       {"id", "timestamp", "verb", "user", "namespace", "resourceType",
        "resourceName", "message", "stage", "requestURI", "uid", "apiVersion",
        "kind", "resourceVersion"}) {
    ASSERT_TRUE(rec.HasMember(key)) << key;
    EXPECT_TRUE(rec[key].IsString()) << key;
  }
  ASSERT_TRUE(rec.HasMember("responseStatus"));
  ASSERT_TRUE(rec["responseStatus"].IsInt());
  ASSERT_TRUE(rec.HasMember("objectChanges"));
  EXPECT_TRUE(rec["objectChanges"].IsObject());
  EXPECT_EQ(std::string{rec.MemberBegin()->name.GetString()}, "id");
  EXPECT_EQ(std::string{rec["stage"].GetString()}, "ResponseComplete");
  std::string v = rec["verb"].GetString();
  EXPECT_TRUE(v == "create" || v == "update" || v == "delete") << v;
  EXPECT_EQ(rec["responseStatus"].GetInt(), v == "create" ? 201 : 200);
  EXPECT_TRUE(parse_rfc3339(rec["timestamp"].GetString()))
    << rec["timestamp"].GetString();
}

} // namespace kws::test
