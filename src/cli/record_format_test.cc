#include "cli/record_format.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sluice::cli {
namespace {

record_view sample() {
  record_view r;
  r.topic = "orders";
  r.partition = 2;
  r.offset = 41;
  r.timestamp_ms = 1700000000123;
  r.timestamp_type = "create";
  r.key = std::string_view("k1");
  r.value = std::string_view("v\tone");
  r.headers = {{"a", std::string_view("1")}, {"b", std::nullopt}};
  return r;
}

std::string render(std::string_view spec, const record_view& r) {
  record_format f;
  std::string error;
  EXPECT_TRUE(f.parse(spec, error)) << error;
  std::string out;
  f.append(r, out);
  return out;
}

TEST(record_format, template_directives) {
  EXPECT_EQ(render("%t/%p@%o %T %k=%v [%h] %K %V%%\\n", sample()),
            "orders/2@41 1700000000123 k1=v\tone [a=1,b=] 2 5%\n");
}

TEST(record_format, null_key_and_value) {
  record_view r = sample();
  r.key.reset();
  r.value.reset();
  EXPECT_EQ(render("<%k|%v|%K|%V>", r), "<||-1|-1>");
}

TEST(record_format, json_line) {
  auto doc = nlohmann::json::parse(render("json", sample()));
  EXPECT_EQ(doc["topic"], "orders");
  EXPECT_EQ(doc["partition"], 2);
  EXPECT_EQ(doc["offset"], 41);
  EXPECT_EQ(doc["timestamp"], 1700000000123);
  EXPECT_EQ(doc["key"], "k1");
  EXPECT_EQ(doc["value"], "v\tone");
  EXPECT_EQ(doc["headers"][0]["key"], "a");
  EXPECT_EQ(doc["headers"][0]["value"], "1");
  EXPECT_TRUE(doc["headers"][1]["value"].is_null());
}

TEST(record_format, rejects_unknown_directive_and_escape) {
  record_format f;
  std::string error;
  EXPECT_FALSE(f.parse("%x", error));
  EXPECT_NE(error.find("%x"), std::string::npos);
  EXPECT_FALSE(f.parse("abc\\q", error));
  EXPECT_FALSE(f.parse("abc%", error));
}

}  // namespace
}  // namespace sluice::cli
