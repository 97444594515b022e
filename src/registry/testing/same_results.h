// Test support: two ways of computing a work's fingerprints or a query's matches (a file and
// bytes in memory) give the same answer, down to the entry body, blobs and match evidence.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/registry.h"

namespace chuqu::registry::testing {

// Everything a fingerprint contributes to an entry (body and blobs), plus the query text.
inline void ExpectSameFingerprints(const Fingerprints& a, const Fingerprints& b) {
  EXPECT_EQ(a.media, b.media);
  EXPECT_EQ(a.mime, b.mime);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.iscc, b.iscc);
  EXPECT_EQ(a.meta_code, b.meta_code);
  EXPECT_EQ(a.content_code, b.content_code);
  EXPECT_EQ(a.data_code, b.data_code);
  EXPECT_EQ(a.instance_code, b.instance_code);
  EXPECT_EQ(a.query_text, b.query_text);
  EXPECT_EQ(a.text.has_value(), b.text.has_value());
  const std::string party(64, 'a');
  Result<WorkEntryBody> ea = MakeWorkEntryBody(party, a, {});
  Result<WorkEntryBody> eb = MakeWorkEntryBody(party, b, {});
  ASSERT_TRUE(ea.ok()) << ea.status().ToString();
  ASSERT_TRUE(eb.ok()) << eb.status().ToString();
  EXPECT_EQ(ea->body.dump(), eb->body.dump());
  EXPECT_EQ(ea->blobs, eb->blobs);
}

inline void ExpectSameMatches(const std::vector<Match>& a, const std::vector<Match>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].work, b[i].work);
    EXPECT_EQ(a[i].media, b[i].media);
    EXPECT_EQ(a[i].score, b[i].score);  // bit-equal: the same computation on the same content
    EXPECT_EQ(a[i].evidence.dump(), b[i].evidence.dump());
    EXPECT_EQ(a[i].first.index, b[i].first.index);
    EXPECT_EQ(a[i].first.party, b[i].first.party);
  }
}

}  // namespace chuqu::registry::testing
