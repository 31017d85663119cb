#include "exporters/otlp/sampler.h"

#include <gtest/gtest.h>

#include <random>

namespace wirespan::exporters::otlp {
namespace {

model::TraceId IdWithLow(uint64_t low) {
  model::TraceId id{};
  id[0] = 0xff;
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

TEST(Sampler, Parse) {
  EXPECT_EQ(ParseSampler("always_on", "")->type, SamplerType::kAlwaysOn);
  EXPECT_EQ(ParseSampler("always_off", "")->type, SamplerType::kAlwaysOff);
  EXPECT_EQ(ParseSampler("parentbased_always_off", "")->type, SamplerType::kParentBasedAlwaysOff);
  auto r = ParseSampler("traceidratio", "0.1");
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->ratio, 0.1);
  EXPECT_DOUBLE_EQ(ParseSampler("traceidratio", "")->ratio, 1.0);
  EXPECT_FALSE(ParseSampler("traceidratio", "-0.1").ok());
  EXPECT_FALSE(ParseSampler("traceidratio", "abc").ok());
  EXPECT_FALSE(ParseSampler("jaeger_remote", "").ok());
}

TEST(Sampler, AlwaysOnOff) {
  model::TraceId id = model::NewTraceId();
  EXPECT_TRUE(Sampler({SamplerType::kAlwaysOn, 1}).ShouldSample(id, false));
  EXPECT_FALSE(Sampler({SamplerType::kAlwaysOff, 1}).ShouldSample(id, false));
  // Parent-based: a known parent flag wins, an unknown one falls back to the root sampler.
  Sampler pb_off({SamplerType::kParentBasedAlwaysOff, 1});
  EXPECT_TRUE(pb_off.ShouldSample(id, true, true));
  EXPECT_FALSE(pb_off.ShouldSample(id, true, false));
  EXPECT_FALSE(pb_off.ShouldSample(id, false));
  Sampler pb_on({SamplerType::kParentBasedAlwaysOn, 1});
  EXPECT_FALSE(pb_on.ShouldSample(id, true, false));
  EXPECT_TRUE(pb_on.ShouldSample(id, true));
  // Non-parent-based samplers ignore the parent.
  EXPECT_TRUE(Sampler({SamplerType::kAlwaysOn, 1}).ShouldSample(id, true, false));
}

TEST(Sampler, TraceIdRatioUsesLowerEightBytes) {
  // x = low >> 1 compared to ratio * 2^63.
  EXPECT_TRUE(Sampler::TraceIdRatioSample(IdWithLow(0), 0.5));
  EXPECT_TRUE(Sampler::TraceIdRatioSample(IdWithLow(0x7fffffffffffffffull), 0.5));
  EXPECT_FALSE(Sampler::TraceIdRatioSample(IdWithLow(0x8000000000000000ull), 0.5));
  EXPECT_FALSE(Sampler::TraceIdRatioSample(IdWithLow(0xffffffffffffffffull), 0.5));
  EXPECT_FALSE(Sampler::TraceIdRatioSample(IdWithLow(0), 0.0));
  EXPECT_TRUE(Sampler::TraceIdRatioSample(IdWithLow(~0ull), 1.0));
  // The upper 8 bytes do not matter.
  model::TraceId a = IdWithLow(0x9000000000000000ull);
  model::TraceId b = a;
  b[0] = 0x00;
  b[7] = 0x42;
  EXPECT_EQ(Sampler::TraceIdRatioSample(a, 0.5), Sampler::TraceIdRatioSample(b, 0.5));
}

TEST(Sampler, TraceIdRatioIsCloseToRatioAndConsistent) {
  Sampler s({SamplerType::kTraceIdRatio, 0.25});
  int sampled = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    model::TraceId id = model::NewTraceId();
    bool d = s.ShouldSample(id, false);
    sampled += d;
    // Every span of the trace agrees, parent or not (parent flag unknown).
    ASSERT_EQ(d, s.ShouldSample(id, true));
    ASSERT_EQ(d, Sampler({SamplerType::kParentBasedTraceIdRatio, 0.25}).ShouldSample(id, true));
  }
  EXPECT_NEAR(static_cast<double>(sampled) / kN, 0.25, 0.01);
  EXPECT_EQ(s.Description(), "traceidratio(0.25)");
}

TEST(Sampler, SpanOverload) {
  Sampler s({SamplerType::kParentBasedAlwaysOff, 1});
  model::Span root;
  root.trace_id = model::NewTraceId();
  EXPECT_FALSE(s.ShouldSample(root));
  Sampler on({SamplerType::kAlwaysOn, 1});
  EXPECT_TRUE(on.ShouldSample(root));
}

}  // namespace
}  // namespace wirespan::exporters::otlp
