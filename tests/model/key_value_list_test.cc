#include "model/key_value_list.h"

#include <gtest/gtest.h>

namespace wirespan::model {
namespace {

TEST(KeyValueList, TrimsDecodesAndSkipsEmptyItems) {
  auto kv = ParseKeyValueList(" service.name = shop%20api ,, deployment.environment=prod ");
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  ASSERT_EQ(kv->size(), 2u);
  EXPECT_EQ((*kv)[0], (std::pair<std::string, std::string>{"service.name", "shop api"}));
  EXPECT_EQ((*kv)[1].second, "prod");
}

TEST(KeyValueList, ValuesMayContainEqualsSigns) {
  auto kv = ParseKeyValueList("Authorization=Basic%20dXNlcjpwYXNz==");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ((*kv)[0].second, "Basic dXNlcjpwYXNz==");
}

TEST(KeyValueList, ErrorsNameTheItem) {
  auto missing = ParseKeyValueList("a=1,broken", "resource attribute ");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "resource attribute 'broken' is not key=value");
  auto empty_key = ParseKeyValueList("=x");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.status().message(), "'=x' has an empty key");
}

TEST(KeyValueList, MalformedPercentSequencesAreKept) {
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%41%4a"), "%zzAJ");
}

}  // namespace
}  // namespace wirespan::model
