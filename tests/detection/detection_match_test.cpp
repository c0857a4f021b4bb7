// MatchDetections (detection_match.h), the comparison the parity tests rely on: it must accept the
// reorderings that tied scores allow and nothing else.
#include "detection/detection_match.h"

#include <gtest/gtest.h>

namespace segtune::testing {
namespace {

constexpr DetectionTolerance kTolerance{/*box=*/1e-3, /*score=*/1e-4, /*mask=*/1e-3};

// Four detections, scores well apart except 1 and 2 (tied within the tolerance).
DetectionList Reference() {
  return {torch::tensor({{0.f, 0.f, 10.f, 10.f}, {20.f, 20.f, 40.f, 40.f}, {50.f, 50.f, 70.f, 70.f},
                         {5.f, 60.f, 25.f, 90.f}}),
          torch::tensor({0.9, 0.60001, 0.6, 0.3}, torch::kDouble), torch::tensor({1, 2, 2, 3}), {}};
}

DetectionList Reordered(const DetectionList& d, const std::vector<int64_t>& order) {
  const torch::Tensor index = torch::tensor(order);
  return {d.boxes.index({index}), d.scores.index({index}), d.labels.index({index}), {}};
}

TEST(MatchDetections, IdenticalListsMatchAtTheirPositions) {
  const auto result = MatchDetections(Reference(), Reference(), kTolerance, 0.05, 100);
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(result.matched, 4);
  EXPECT_EQ(result.matched_in_ties, 0);
}

TEST(MatchDetections, TiedScoresMayComeOutInTheOtherOrder) {
  const auto result = MatchDetections(Reordered(Reference(), {0, 2, 1, 3}), Reference(), kTolerance, 0.05, 100);
  EXPECT_TRUE(result.problems.empty()) << result.problems.front();
  EXPECT_EQ(result.matched, 4);
  EXPECT_EQ(result.matched_in_ties, 2);
}

TEST(MatchDetections, UntiedScoresOutOfOrderFail) {
  DetectionList got = Reordered(Reference(), {1, 0, 2, 3});
  got.scores = Reference().scores;  // Same scores at the positions, but the boxes and labels moved.
  const auto result = MatchDetections(got, Reference(), kTolerance, 0.05, 100);
  EXPECT_FALSE(result.problems.empty());
}

TEST(MatchDetections, ABoxOffByMoreThanTheToleranceFails) {
  DetectionList got = Reference();
  got.boxes = got.boxes.clone();
  got.boxes[3][2] += 0.01f;
  const auto result = MatchDetections(got, Reference(), kTolerance, 0.05, 100);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("box differs"), std::string::npos);
  EXPECT_NEAR(result.max_box_diff, 0.01, 1e-5);
}

TEST(MatchDetections, AMissingOrExtraDetectionFails) {
  const auto missing = MatchDetections(Reordered(Reference(), {0, 1, 2}), Reference(), kTolerance, 0.05, 100);
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_NE(missing.problems[0].find("reference detection 3"), std::string::npos);
  const auto extra = MatchDetections(Reference(), Reordered(Reference(), {0, 1, 2}), kTolerance, 0.05, 100);
  ASSERT_EQ(extra.problems.size(), 1u);
  EXPECT_NE(extra.problems[0].find("not in the reference"), std::string::npos);
}

TEST(MatchDetections, ADetectionTiedWithTheScoreThresholdMayBeMissing) {
  DetectionList ref = Reference();
  ref.scores = torch::tensor({0.9, 0.60001, 0.6, 0.05002}, torch::kDouble);
  const auto result = MatchDetections(Reordered(ref, {0, 1, 2}), ref, kTolerance, 0.05, 100);
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(result.unmatched_at_limits, 1);
}

TEST(MatchDetections, ALabelChangeFails) {
  DetectionList got = Reference();
  got.labels = torch::tensor({1, 2, 2, 4});
  EXPECT_FALSE(MatchDetections(got, Reference(), kTolerance, 0.05, 100).problems.empty());
}

}  // namespace
}  // namespace segtune::testing
