// SPDX-License-Identifier: Apache-2.0
#include "tools/job/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace weir::tools {
namespace {

using testing::HasSubstr;
using testutil::StatusIs;

Schema UserAmount() {
  return Schema{{{"user", FieldType::kString}, {"amount", FieldType::kInt64}}};
}

Schema AllTypes() {
  return Schema{{{"s", FieldType::kString},
                 {"i", FieldType::kInt64},
                 {"d", FieldType::kDouble},
                 {"b", FieldType::kBool}}};
}

std::unique_ptr<RecordFormat> Make(std::string_view name,
                                   const Schema& schema) {
  Result<std::unique_ptr<RecordFormat>> format = MakeFormat(name, schema);
  EXPECT_TRUE(format.ok()) << format.status().ToString();
  return format.ok() ? std::move(format).value() : nullptr;
}

Row ParseOk(const RecordFormat& format, std::string_view line) {
  Result<std::optional<Row>> row = format.Parse(line);
  EXPECT_TRUE(row.ok()) << line << ": " << row.status().ToString();
  if (!row.ok() || !row->has_value()) {
    ADD_FAILURE() << "no row from " << line;
    return Row();
  }
  return **row;
}

TEST(Format, UnknownName) {
  EXPECT_THAT(MakeFormat("xml", UserAmount()),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("unknown format 'xml'")));
}

TEST(CsvFormat, ParsesPlainLine) {
  auto csv = Make("csv", UserAmount());
  EXPECT_EQ(ParseOk(*csv, "alice,42"),
            (Row{{Value(std::string("alice")), Value(int64_t{42})}}));
  EXPECT_EQ(ParseOk(*csv, "bob, 7\r"),
            (Row{{Value(std::string("bob")), Value(int64_t{7})}}));
}

TEST(CsvFormat, BlankLineGivesNothing) {
  auto csv = Make("csv", UserAmount());
  for (std::string_view blank : {"", "   ", "\r"}) {
    Result<std::optional<Row>> row = csv->Parse(blank);
    ASSERT_OK(row);
    EXPECT_FALSE(row->has_value());
  }
}

TEST(CsvFormat, WrongFieldCount) {
  auto csv = Make("csv", UserAmount());
  EXPECT_THAT(csv->Parse("a,1,2"),
              StatusIs(Status::Code::kInvalidArgument,
                       "expected 2 fields (user, amount), got 3"));
  EXPECT_THAT(csv->Parse("a"),
              StatusIs(Status::Code::kInvalidArgument,
                       "expected 2 fields (user, amount), got 1"));
}

TEST(CsvFormat, BadNumbers) {
  auto csv = Make("csv", AllTypes());
  EXPECT_THAT(csv->Parse("x,abc,1.5,true"),
              StatusIs(Status::Code::kInvalidArgument,
                       "field 'i': 'abc' is not an int64"));
  EXPECT_THAT(csv->Parse("x,1,1.5.2,true"),
              StatusIs(Status::Code::kInvalidArgument,
                       "field 'd': '1.5.2' is not a double"));
  EXPECT_THAT(csv->Parse("x,1,1,maybe"),
              StatusIs(Status::Code::kInvalidArgument,
                       "field 'b': 'maybe' is not a bool"));
  EXPECT_THAT(csv->Parse("x,,1,true"),
              StatusIs(Status::Code::kInvalidArgument,
                       "field 'i': '' is not an int64"));
}

TEST(CsvFormat, QuotingOnOutput) {
  auto csv = Make("csv", UserAmount());
  std::string out;
  csv->Format(Row{{Value(std::string("a,b")), Value(int64_t{1})}}, &out);
  EXPECT_EQ(out, "\"a,b\",1");
  out.clear();
  csv->Format(Row{{Value(std::string("say \"hi\"")), Value(int64_t{-2})}},
              &out);
  EXPECT_EQ(out, "\"say \"\"hi\"\"\",-2");
  out.clear();
  csv->Format(Row{{Value(std::string("plain")), Value(int64_t{3})}}, &out);
  EXPECT_EQ(out, "plain,3");
}

TEST(CsvFormat, RoundTripsAwkwardStrings) {
  auto csv = Make("csv", AllTypes());
  for (const std::string& s :
       {std::string("plain"), std::string("a,b"), std::string("\"q\""),
        std::string("multi\nline"), std::string(""), std::string(" pad ")}) {
    const Row row{{Value(s), Value(int64_t{-9}), Value(0.1), Value(false)}};
    std::string line;
    csv->Format(row, &line);
    EXPECT_EQ(csv->IsComplete(line), true) << line;
    EXPECT_EQ(ParseOk(*csv, line), row) << line;
  }
}

TEST(CsvFormat, LoneEmptyStringIsNotABlankLine) {
  auto csv = Make("csv", Schema{{{"s", FieldType::kString}}});
  std::string line;
  csv->Format(Row{{Value(std::string())}}, &line);
  EXPECT_EQ(line, "\"\"");
  EXPECT_EQ(ParseOk(*csv, line), Row{{Value(std::string())}});
}

TEST(CsvFormat, QuotedFieldAcrossLines) {
  auto csv = Make("csv", UserAmount());
  EXPECT_FALSE(csv->IsComplete("\"multi"));
  EXPECT_TRUE(csv->IsComplete("\"multi\nline\",1"));
  EXPECT_THAT(csv->Parse("\"open,1"),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("quoted field is not closed")));
  EXPECT_THAT(csv->Parse("\"a\"x,1"),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("after closing quote")));
}

TEST(JsonFormat, ParsesObjectInSchemaOrder) {
  auto json = Make("json", AllTypes());
  EXPECT_EQ(
      ParseOk(*json, R"({"b": true, "d": 2, "i": 5, "s": "x", "extra": 1})"),
      (Row{{Value(std::string("x")), Value(int64_t{5}), Value(2.0),
            Value(true)}}));
}

TEST(JsonFormat, FormatsAndRoundTrips) {
  auto json = Make("json", AllTypes());
  const Row row{{Value(std::string("a\"b,\n")), Value(int64_t{-3}), Value(0.5),
                 Value(true)}};
  std::string line;
  json->Format(row, &line);
  EXPECT_EQ(line, R"({"s":"a\"b,\n","i":-3,"d":0.5,"b":true})");
  EXPECT_EQ(ParseOk(*json, line), row);
}

TEST(JsonFormat, Errors) {
  auto json = Make("json", UserAmount());
  EXPECT_THAT(json->Parse(R"({"user": "a", "amount": "abc"})"),
              StatusIs(Status::Code::kInvalidArgument,
                       R"(field 'amount': "abc" is not an int64)"));
  EXPECT_THAT(json->Parse(R"({"user": "a", "amount": 1.5})"),
              StatusIs(Status::Code::kInvalidArgument,
                       "field 'amount': 1.5 is not an int64"));
  EXPECT_THAT(
      json->Parse(R"({"user": "a"})"),
      StatusIs(Status::Code::kInvalidArgument, "missing field 'amount'"));
  EXPECT_THAT(json->Parse(R"({"user": null, "amount": 1})"),
              StatusIs(Status::Code::kInvalidArgument, "field 'user' is null"));
  EXPECT_THAT(json->Parse("[1, 2]"),
              StatusIs(Status::Code::kInvalidArgument,
                       "expected a JSON object, got array"));
  EXPECT_THAT(
      json->Parse("{\"user\": "),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("invalid JSON")));
  EXPECT_THAT(
      json->Parse(R"({"user": "a", "amount": 18446744073709551615})"),
      StatusIs(Status::Code::kInvalidArgument, HasSubstr("is not an int64")));
  Result<std::optional<Row>> blank = json->Parse("  ");
  ASSERT_OK(blank);
  EXPECT_FALSE(blank->has_value());
}

}  // namespace
}  // namespace weir::tools
