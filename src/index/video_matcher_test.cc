#include "index/video_matcher.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace chuqu::index {
namespace {

Hash256 RandomHash(std::mt19937_64& rng) {
  Hash256 h;
  for (uint64_t& w : h.words) w = rng();
  return h;
}

Hash256 Noisy(Hash256 h, int bits, std::mt19937_64& rng) {
  for (int i = 0; i < bits; ++i) {
    const int b = static_cast<int>(rng() % 256);
    h.words[b / 64] ^= uint64_t{1} << (b % 64);
  }
  return h;
}

// Exactly `bits` distinct bits flipped.
Hash256 FlipBits(Hash256 h, int bits, std::mt19937_64& rng) {
  std::vector<int> order(256);
  for (int i = 0; i < 256; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (int i = 0; i < bits; ++i) h.words[order[i] / 64] ^= uint64_t{1} << (order[i] % 64);
  return h;
}

// A "video" whose content at time t is the hash of scene floor(t * 2) (a new scene every 0.5 s).
struct Scenes {
  std::vector<Hash256> hashes;
  Hash256 At(double t) const { return hashes[static_cast<size_t>(std::floor(t * 2))]; }
};

Scenes MakeScenes(std::mt19937_64& rng, double seconds) {
  Scenes s;
  for (int i = 0; i < seconds * 2 + 2; ++i) s.hashes.push_back(RandomHash(rng));
  return s;
}

VideoFingerprint Reference(const Scenes& s, double seconds) {
  VideoFingerprint fp;
  fp.duration = static_cast<float>(seconds);
  fp.frame_interval = 0.5f;
  for (double t = 0; t < seconds; t += 0.5) {
    VideoFrameHash f;
    f.time = static_cast<float>(t);
    f.quality = 100;
    f.pdq[0] = s.At(t + 0.01);
    fp.frames.push_back(f);
  }
  return fp;
}

// Query of `seconds`: content(t) for t in [at, at + dur) is work time src + speed * (t - at),
// the rest comes from `other`. Variant `dihedral` carries the copied hash.
VideoFingerprint Query(const Scenes& work, const Scenes& other, double seconds, double at,
                       double dur, double src, double speed, int dihedral,
                       std::mt19937_64& rng) {
  VideoFingerprint fp;
  fp.duration = static_cast<float>(seconds);
  fp.frame_interval = 0.5f;
  fp.dihedrals = kVideoDihedrals;
  for (double t = 0.25; t < seconds; t += 0.5) {
    VideoFrameHash f;
    f.time = static_cast<float>(t);
    f.quality = 90;
    for (Hash256& h : f.pdq) h = RandomHash(rng);
    const bool copied = t >= at && t < at + dur;
    const Hash256 content = copied ? work.At(src + speed * (t - at)) : other.At(t);
    f.pdq[copied ? dihedral : 0] = Noisy(content, 12, rng);
    fp.frames.push_back(f);
  }
  return fp;
}

TEST(VideoMatcherTest, EmptyIndexAndEmptyQuery) {
  VideoMatcher m;
  std::mt19937_64 rng(1);
  Scenes s = MakeScenes(rng, 10);
  EXPECT_TRUE(m.Search(Reference(s, 10), 10).empty());
  ASSERT_TRUE(m.Add(1, Reference(s, 10)).ok());
  EXPECT_TRUE(m.Search(VideoFingerprint{}, 10).empty());
  EXPECT_EQ(m.Add(1, Reference(s, 10)).code(), StatusCode::kAlreadyExists);
  VideoFingerprint dark = Reference(s, 10);
  for (auto& f : dark.frames) f.quality = 10;
  EXPECT_EQ(m.Add(2, dark).code(), StatusCode::kInvalidArgument);
}

struct Case {
  double at, dur, src, speed;
  int dihedral;
};

TEST(VideoMatcherTest, PlantedTrimEmbedSpeedFlipGiveTheSegment) {
  std::mt19937_64 rng(7);
  VideoMatcher m;
  std::vector<Scenes> works;
  for (int w = 0; w < 20; ++w) {
    works.push_back(MakeScenes(rng, 30));
    ASSERT_TRUE(m.Add(100 + w, Reference(works.back(), 30)).ok());
  }
  EXPECT_EQ(m.works(), 20u);
  const Scenes other = MakeScenes(rng, 40);
  const Case cases[] = {
      {0, 30, 0, 1.0, 0},     // re-encode (noise only)
      {0, 6, 10, 1.0, 0},     // trim: query is 6 s from work time 10
      {5, 7, 3, 1.0, 0},      // embed 7 s at query time 5
      {0, 12, 2, 1.5, 0},     // sped up x1.5
      {2, 10, 4, 0.75, 4},    // slowed down and mirrored (variant 4)
      {3, 8, 12, 1.0, 1},     // rotated
  };
  for (const Case& c : cases) {
    const double seconds = c.at + c.dur + (c.at > 0 ? 4 : 0);
    const VideoFingerprint q = Query(works[3], other, seconds, c.at, c.dur, c.src, c.speed,
                                     c.dihedral, rng);
    const auto found = m.Search(q, 5);
    ASSERT_FALSE(found.empty()) << c.at << " " << c.speed;
    const VideoMatch& best = found[0];
    EXPECT_EQ(best.work, 103u);
    EXPECT_EQ(best.dihedral, c.dihedral);
    EXPECT_NEAR(best.speed, c.speed, 0.05);
    EXPECT_NEAR(best.segment.query_start, c.at, 0.6);
    EXPECT_NEAR(best.segment.query_end, c.at + c.dur, 0.6);
    EXPECT_NEAR(best.segment.work_start, c.src, 0.8);
    EXPECT_NEAR(best.segment.work_end, c.src + c.speed * c.dur, 0.8);
    EXPECT_GT(best.score, 0.8);
    for (size_t i = 1; i < found.size(); ++i) EXPECT_LT(found[i].score, 0.3);
  }
}

TEST(VideoMatcherTest, ExtensionKeepsWeakFramesAcrossACut) {
  std::mt19937_64 rng(19);
  VideoMatcher m;
  const Scenes s = MakeScenes(rng, 10);
  ASSERT_TRUE(m.Add(1, Reference(s, 10)).ok());
  // Frames before 5 s match well; one unrelated frame (a cut); after it the copy is weak:
  // beyond the search radius (48) but within the extension radius (72).
  VideoFingerprint q = Query(s, s, 10, 0, 10, 0, 1.0, 0, rng);
  for (VideoFrameHash& f : q.frames) {
    if (f.time > 5.5 && f.time < 6) f.pdq[0] = RandomHash(rng);
    if (f.time > 6) f.pdq[0] = FlipBits(s.At(f.time), 60, rng);
  }
  const auto found = m.Search(q, 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].segment.query_end, 10, 0.3);
  EXPECT_EQ(found[0].matched_frames, 19);
  EXPECT_EQ(found[0].query_frames, 20);

  // With the old radius the weak frames do not extend the segment.
  VideoMatcherOptions strict;
  strict.extend_radius = 40;
  VideoMatcher m2(strict);
  ASSERT_TRUE(m2.Add(1, Reference(s, 10)).ok());
  const auto short_found = m2.Search(q, 1);
  ASSERT_EQ(short_found.size(), 1u);
  EXPECT_NEAR(short_found[0].segment.query_end, 5.5, 0.3);
}

// Fuzz finding (cqvf_decode_fuzz): a frame time of 5e35 s overflowed the offset bin of the
// temporal alignment (undefined behaviour). The decoder now refuses such times, and the
// alignment ignores pairs that far off.
TEST(VideoMatcherTest, AbsurdTimesAreRefusedOrIgnored) {
  std::mt19937_64 rng(23);
  const Scenes s = MakeScenes(rng, 4);
  VideoFingerprint ref = Reference(s, 4);
  ref.frames[2].time = 5e35f;
  std::vector<uint8_t> bytes = EncodeVideoFingerprint(ref);
  EXPECT_EQ(DecodeVideoFingerprint(bytes).status().code(), StatusCode::kInvalidArgument);
  ref.frames[2].time = 1;
  ref.duration = 1e30f;
  EXPECT_EQ(DecodeVideoFingerprint(EncodeVideoFingerprint(ref)).status().code(),
            StatusCode::kInvalidArgument);
  ref.duration = 4;
  ref.frames[2].time = 5e35f;  // built in code, not decoded: Search must still be defined
  VideoMatcher m;
  ASSERT_TRUE(m.Add(1, ref).ok());
  VideoFingerprint q = Reference(s, 4);
  q.frames[1].time = -3e38f;
  const auto found = m.Search(q, 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].work, 1u);
}

TEST(VideoMatcherTest, DistractorFindsNothing) {
  std::mt19937_64 rng(9);
  VideoMatcher m;
  for (int w = 0; w < 10; ++w) ASSERT_TRUE(m.Add(w, Reference(MakeScenes(rng, 20), 20)).ok());
  const Scenes other = MakeScenes(rng, 20);
  const VideoFingerprint q = Query(other, other, 20, 0, 20, 0, 1.0, 0, rng);
  EXPECT_TRUE(m.Search(q, 10).empty());
}

TEST(VideoMatcherTest, ManyMatchingWorksGiveABoundedRankedList) {
  std::mt19937_64 rng(11);
  VideoMatcher m;
  const Scenes s = MakeScenes(rng, 10);
  for (int w = 0; w < 300; ++w) ASSERT_TRUE(m.Add(w, Reference(s, 10)).ok());
  const auto found = m.Search(Query(s, s, 10, 0, 10, 0, 1.0, 0, rng), 7);
  ASSERT_EQ(found.size(), 7u);
  for (size_t i = 1; i < found.size(); ++i) EXPECT_GE(found[i - 1].score, found[i].score);
}

TEST(VideoMatcherTest, EncodeDecodeRoundTripAndCorruptData) {
  std::mt19937_64 rng(3);
  const Scenes s = MakeScenes(rng, 5);
  const VideoFingerprint ref = Reference(s, 5);
  const std::vector<uint8_t> bytes = EncodeVideoFingerprint(ref);
  auto back = DecodeVideoFingerprint(bytes);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->frames.size(), ref.frames.size());
  for (size_t i = 0; i < ref.frames.size(); ++i) {
    EXPECT_EQ(back->frames[i].pdq[0], ref.frames[i].pdq[0]);
    EXPECT_EQ(back->frames[i].time, ref.frames[i].time);
  }
  const VideoFingerprint q = Query(s, s, 5, 0, 5, 0, 1, 0, rng);
  auto qback = DecodeVideoFingerprint(EncodeVideoFingerprint(q));
  ASSERT_TRUE(qback.ok());
  EXPECT_EQ(qback->frames[3].pdq[7], q.frames[3].pdq[7]);

  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 1);
  EXPECT_EQ(DecodeVideoFingerprint(truncated).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_FALSE(DecodeVideoFingerprint(bad_magic).ok());
  std::vector<uint8_t> bad_quality = bytes;
  bad_quality[18 + 4] = 200;
  EXPECT_FALSE(DecodeVideoFingerprint(bad_quality).ok());
  std::vector<uint8_t> huge = bytes;
  huge[17] = 0xff;
  EXPECT_FALSE(DecodeVideoFingerprint(huge).ok());
  EXPECT_FALSE(DecodeVideoFingerprint({}).ok());
}

// Adds a view of `region` whose hash at each frame is `content(frame time)` (noisy).
template <typename Content>
void AddView(VideoFingerprint& fp, VideoRegion region, bool reference, Content content,
             std::mt19937_64& rng) {
  VideoView v{region, reference, {}};
  for (const VideoFrameHash& f : fp.frames) v.hashes.push_back({90, Noisy(content(f.time), 10, rng)});
  fp.views.push_back(std::move(v));
}

TEST(VideoMatcherTest, RegionViewsMatchCropsAndInsets) {
  std::mt19937_64 rng(13);
  VideoMatcher m;
  const VideoRegion crop{0.15f, 0.15f, 0.7f, 0.7f};
  std::vector<Scenes> whole, centre;
  for (int w = 0; w < 10; ++w) {
    whole.push_back(MakeScenes(rng, 10));
    centre.push_back(MakeScenes(rng, 10));
    VideoFingerprint ref = Reference(whole.back(), 10);
    AddView(ref, crop, true, [&](float t) { return centre.back().At(t + 0.01); }, rng);
    // A query-only view on a reference is not indexed.
    AddView(ref, {0, 0, 0.5f, 0.5f}, false, [&](float) { return RandomHash(rng); }, rng);
    ASSERT_TRUE(m.Add(w, ref).ok());
  }
  EXPECT_EQ(m.frames(), 10u * 2 * 20);
  const Scenes other = MakeScenes(rng, 10);

  // Cropped and rescaled copy of work 4: its whole frames are work 4's centre crop.
  VideoFingerprint cropped = Query(centre[4], other, 10, 0, 10, 0, 1.0, 0, rng);
  auto found = m.Search(cropped, 3);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].work, 4u);
  EXPECT_EQ(found[0].view, 0);
  EXPECT_EQ(found[0].work_region, crop);
  EXPECT_EQ(found[0].query_region, VideoRegion{});
  EXPECT_GT(found[0].score, 0.8);

  // Picture in picture of work 7 from query time 2 on: only the inset view carries it.
  VideoFingerprint pip = Query(other, other, 10, 0, 10, 0, 1.0, 0, rng);
  const VideoRegion inset{0.6f, 0.05f, 0.35f, 0.35f};
  AddView(pip, {0.1f, 0.1f, 0.3f, 0.3f}, false, [&](float) { return RandomHash(rng); }, rng);
  AddView(pip, inset, false,
          [&](float t) { return t >= 2 ? whole[7].At(t - 2 + 0.01) : RandomHash(rng); }, rng);
  found = m.Search(pip, 3);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].work, 7u);
  EXPECT_EQ(found[0].view, 2);
  EXPECT_EQ(found[0].query_region, inset);
  EXPECT_EQ(found[0].work_region, VideoRegion{});
  EXPECT_NEAR(found[0].segment.query_start, 2, 0.6);
  EXPECT_NEAR(found[0].segment.work_start, 0, 0.6);

  // The copy seen through one region for 4 s, then through another: one segment.
  VideoFingerprint pan = Query(other, other, 10, 0, 10, 0, 1.0, 0, rng);
  AddView(pan, {0.1f, 0.1f, 0.8f, 0.8f}, false,
          [&](float t) { return t < 4 ? whole[2].At(t + 0.01) : RandomHash(rng); }, rng);
  AddView(pan, {0.05f, 0.05f, 0.9f, 0.9f}, false,
          [&](float t) { return t >= 4 ? whole[2].At(t + 0.01) : RandomHash(rng); }, rng);
  found = m.Search(pan, 3);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].work, 2u);
  EXPECT_NEAR(found[0].segment.query_start, 0, 0.3);
  EXPECT_NEAR(found[0].segment.query_end, 10, 0.3);
  EXPECT_EQ(found[0].matched_frames, 20);
  EXPECT_GT(found[0].score, 0.9);

  // Without the views nothing matches.
  pip.views.clear();
  EXPECT_TRUE(m.Search(pip, 3).empty());

  // A view whose hash count is not the frame count is refused.
  VideoFingerprint bad = Reference(whole[0], 10);
  AddView(bad, crop, true, [&](float) { return RandomHash(rng); }, rng);
  bad.views[0].hashes.pop_back();
  EXPECT_EQ(m.Add(99, bad).code(), StatusCode::kInvalidArgument);
}

TEST(VideoMatcherTest, EncodeDecodeViews) {
  std::mt19937_64 rng(17);
  const Scenes s = MakeScenes(rng, 4);
  VideoFingerprint q = Query(s, s, 4, 0, 4, 0, 1, 0, rng);
  AddView(q, {0.15f, 0.15f, 0.7f, 0.7f}, true, [&](float) { return RandomHash(rng); }, rng);
  AddView(q, {0.5f, 0, 0.5f, 0.5f}, false, [&](float) { return RandomHash(rng); }, rng);
  q.views[1].hashes[2].quality = 0;

  const std::vector<uint8_t> bytes = EncodeVideoFingerprint(q);
  EXPECT_EQ(bytes[4], 2);  // version 2: views follow the frames
  auto back = DecodeVideoFingerprint(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->views.size(), 2u);
  for (size_t v = 0; v < 2; ++v) {
    EXPECT_EQ(back->views[v].region, q.views[v].region);
    EXPECT_EQ(back->views[v].reference, q.views[v].reference);
    ASSERT_EQ(back->views[v].hashes.size(), q.frames.size());
    for (size_t i = 0; i < q.frames.size(); ++i) {
      EXPECT_EQ(back->views[v].hashes[i].pdq, q.views[v].hashes[i].pdq);
      EXPECT_EQ(back->views[v].hashes[i].quality, q.views[v].hashes[i].quality);
    }
  }
  EXPECT_EQ(EncodeVideoFingerprint(*back), bytes);

  // The reference form keeps only reference views; with none it is version 1.
  VideoFingerprint ref = q;
  ref.dihedrals = 1;
  auto rback = DecodeVideoFingerprint(EncodeVideoFingerprint(ref));
  ASSERT_TRUE(rback.ok());
  ASSERT_EQ(rback->views.size(), 1u);
  EXPECT_TRUE(rback->views[0].reference);
  ref.views.erase(ref.views.begin());
  EXPECT_EQ(EncodeVideoFingerprint(ref)[4], 1);

  // Corrupt views: each is a clean kInvalidArgument.
  const size_t views_at = bytes.size() - 2 * (17 + 33 * q.frames.size()) - 1;
  auto expect_invalid = [&](std::vector<uint8_t> b, const char* what) {
    auto r = DecodeVideoFingerprint(b);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
  };
  std::vector<uint8_t> b = bytes;
  b[views_at] = 0;
  expect_invalid(b, "zero views");
  b = bytes;
  b[views_at] = 17;
  expect_invalid(b, "too many views");
  b = bytes;
  b[views_at + 1] = 2;
  expect_invalid(b, "unknown flags");
  b = bytes;
  for (int i = 0; i < 4; ++i) b[views_at + 2 + i] = 0xff;  // x = NaN
  expect_invalid(b, "NaN region");
  b = bytes;
  b[views_at + 1 + 17] = 101;
  expect_invalid(b, "quality");
  b = bytes;
  b.pop_back();
  expect_invalid(b, "truncated");
  b = bytes;
  b.push_back(0);
  expect_invalid(b, "trailing byte");
  b = std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(views_at));
  b[4] = 2;
  expect_invalid(b, "version 2 without views");
  b = EncodeVideoFingerprint(q);
  b[5] = 1;  // claims a reference form: the frame size no longer matches
  expect_invalid(b, "dihedrals");
}

}  // namespace
}  // namespace chuqu::index
