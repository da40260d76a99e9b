// SPDX-License-Identifier: Apache-2.0
#include "tools/job/row.h"

#include <cmath>
#include <limits>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace weir::tools {
namespace {

using testing::HasSubstr;
using testutil::IsOkAndHolds;
using testutil::StatusIs;

TEST(Row, ParseFieldTypeAndAliases) {
  EXPECT_THAT(ParseFieldType("string"), IsOkAndHolds(FieldType::kString));
  EXPECT_THAT(ParseFieldType("int64"), IsOkAndHolds(FieldType::kInt64));
  EXPECT_THAT(ParseFieldType("int"), IsOkAndHolds(FieldType::kInt64));
  EXPECT_THAT(ParseFieldType("long"), IsOkAndHolds(FieldType::kInt64));
  EXPECT_THAT(ParseFieldType("float"), IsOkAndHolds(FieldType::kDouble));
  EXPECT_THAT(ParseFieldType("double"), IsOkAndHolds(FieldType::kDouble));
  EXPECT_THAT(ParseFieldType("bool"), IsOkAndHolds(FieldType::kBool));
  EXPECT_THAT(ParseFieldType("text"),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("unknown type 'text'")));
}

TEST(Row, ParseFieldSpec) {
  EXPECT_THAT(ParseFieldSpec("user:string"),
              IsOkAndHolds(Field{"user", FieldType::kString}));
  EXPECT_THAT(ParseFieldSpec("n: int"),
              IsOkAndHolds(Field{"n", FieldType::kInt64}));
  EXPECT_THAT(ParseFieldSpec("user"), StatusIs(Status::Code::kInvalidArgument,
                                               HasSubstr("needs a type")));
  EXPECT_THAT(ParseFieldSpec(":int64"),
              StatusIs(Status::Code::kInvalidArgument, HasSubstr("no name")));
  EXPECT_THAT(ParseFieldSpec("x:intt"),
              StatusIs(Status::Code::kInvalidArgument,
                       HasSubstr("field 'x': unknown type 'intt'")));
}

TEST(Row, SchemaIndexAndText) {
  Schema schema{{{"user", FieldType::kString}, {"amount", FieldType::kInt64}}};
  EXPECT_EQ(schema.IndexOf("amount"), 1);
  EXPECT_EQ(schema.IndexOf("nope"), -1);
  EXPECT_EQ(schema.ToString(), "[user:string, amount:int64]");
  EXPECT_EQ(schema.FieldNames(), "user, amount");
}

TEST(Row, CompareNumbersAcrossTypes) {
  EXPECT_EQ(CompareValues(Value(int64_t{1}), Value(1.0)), 0);
  EXPECT_LT(CompareValues(Value(int64_t{1}), Value(1.5)), 0);
  EXPECT_GT(CompareValues(Value(2.5), Value(int64_t{2})), 0);
  EXPECT_LT(CompareValues(Value(int64_t{-3}), Value(int64_t{2})), 0);
  EXPECT_LT(CompareValues(Value(std::string("a")), Value(std::string("b"))), 0);
  EXPECT_LT(CompareValues(Value(false), Value(true)), 0);
  EXPECT_LT(CompareValues(Value(), Value(false)), 0);
  EXPECT_EQ(CompareValues(Value(), Value()), 0);
}

TEST(Row, EncodeKeyIsInjective) {
  const std::vector<Value> values = {Value(),
                                     Value(std::string()),
                                     Value(std::string("1")),
                                     Value(std::string("a")),
                                     Value(int64_t{0}),
                                     Value(int64_t{1}),
                                     Value(int64_t{-1}),
                                     Value(0.0),
                                     Value(1.0),
                                     Value(false),
                                     Value(true)};
  std::set<std::string> keys;
  for (const Value& v : values) keys.insert(EncodeKey(v));
  EXPECT_EQ(keys.size(), values.size());
  EXPECT_EQ(EncodeKey(Value(std::string("x"))),
            EncodeKey(Value(std::string("x"))));
}

TEST(Row, ParseValueAs) {
  EXPECT_THAT(ParseValueAs(FieldType::kInt64, "-12"),
              IsOkAndHolds(Value(int64_t{-12})));
  EXPECT_THAT(ParseValueAs(FieldType::kDouble, "2.5"),
              IsOkAndHolds(Value(2.5)));
  EXPECT_THAT(ParseValueAs(FieldType::kBool, "True"),
              IsOkAndHolds(Value(true)));
  EXPECT_THAT(ParseValueAs(FieldType::kBool, "0"), IsOkAndHolds(Value(false)));
  EXPECT_THAT(ParseValueAs(FieldType::kString, " a b "),
              IsOkAndHolds(Value(std::string(" a b "))));
  EXPECT_THAT(
      ParseValueAs(FieldType::kInt64, "abc"),
      StatusIs(Status::Code::kInvalidArgument, "'abc' is not an int64"));
  EXPECT_THAT(ParseValueAs(FieldType::kInt64, "1.5"),
              StatusIs(Status::Code::kInvalidArgument));
  EXPECT_THAT(ParseValueAs(FieldType::kDouble, "x"),
              StatusIs(Status::Code::kInvalidArgument, "'x' is not a double"));
  EXPECT_THAT(ParseValueAs(FieldType::kBool, "yes"),
              StatusIs(Status::Code::kInvalidArgument, "'yes' is not a bool"));
}

TEST(Row, ValueToStringRoundTripsDoubles) {
  EXPECT_EQ(ValueToString(Value(0.1)), "0.1");
  EXPECT_EQ(ValueToString(Value(int64_t{-5})), "-5");
  EXPECT_EQ(ValueToString(Value(true)), "true");
  EXPECT_EQ(ValueToString(Value()), "");
  const double d = 1.0 / 3.0;
  EXPECT_THAT(ParseValueAs(FieldType::kDouble, ValueToString(Value(d))),
              IsOkAndHolds(Value(d)));
}

TEST(RowSerializer, RoundTrip) {
  static_assert(SerializerFor<Serializer<Row>, Row>);
  Row row{{Value(), Value(std::string("hello, world")),
           Value(std::numeric_limits<int64_t>::min()), Value(-0.25),
           Value(true), Value(std::string())}};
  std::string bytes;
  Serializer<Row>().Serialize(row, &bytes);
  Row back;
  ASSERT_OK(
      Serializer<Row>().Deserialize(Serializer<Row>::kVersion, bytes, &back));
  EXPECT_EQ(back, row);
}

TEST(RowSerializer, RejectsTruncatedAndTrailingBytes) {
  Row row{{Value(std::string("abc")), Value(int64_t{7})}};
  std::string bytes;
  Serializer<Row>().Serialize(row, &bytes);
  Row back;
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THAT(Serializer<Row>().Deserialize(1, bytes.substr(0, len), &back),
                StatusIs(Status::Code::kCorruption))
        << len;
  }
  EXPECT_THAT(Serializer<Row>().Deserialize(1, bytes + "x", &back),
              StatusIs(Status::Code::kCorruption));
  EXPECT_THAT(Serializer<Row>().Deserialize(2, bytes, &back),
              StatusIs(Status::Code::kNotSupported));
}

}  // namespace
}  // namespace weir::tools
