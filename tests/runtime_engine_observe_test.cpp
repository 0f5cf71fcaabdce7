// Engine: the online profile (stage or whole cycle, switched off, its decayed-histogram estimator) and the Chrome trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"
#include "imprecise/runtime/engine.hpp"
#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sched/trace_writer.hpp"
#include "runtime/online_profile.hpp"
#include "runtime_fixtures.hpp"

namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // runtime_fixtures.hpp: models, inputs, Collector, config_with, ...

TEST(Engine, StageTimesMeasuredWhileServingReplaceTheProfile) {
  // Claim every stage takes 1 us: far below what the CPU really needs.
  const Profile& real = measured_profile("cnn3", 8);
  std::vector<std::vector<StageTiming>> table(3, std::vector<StageTiming>(real.batch_sizes().size(),
                                                                          StageTiming{1000, 1000, 1000, 1000}));
  const Profile claimed(real.batch_sizes(), table);
  auto metrics = std::make_shared<MetricsObserver>();
  EngineConfig config = config_with("edf-full");
  config.online_profile.min_samples = 4;
  config.online_profile.every = 2;
  config.observers.push_back(metrics);
  Engine engine(one_model("cnn3", 8, &claimed), config);
  EXPECT_EQ(engine.profile(0).timing(0, 1).p50, 1000);
  const auto xs = inputs("cnn3");
  for (int i = 0; i < 12; ++i) {  // one at a time: every stage runs at batch 1
    const Outcome o = engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], kGenerous).get();
    ASSERT_EQ(o.status, OutcomeStatus::completed);
  }
  const Profile now = engine.profile(0);
  for (int s = 0; s < 3; ++s) {
    const StageTiming& t = now.timing(s, 1);
    EXPECT_GT(t.p50, 1000) << "stage " << s << ": the measured time replaced the claim";
    EXPECT_LE(t.p50, t.p99);
    EXPECT_LE(t.p99, t.max);
  }
  EXPECT_EQ(now.timing(0, 8).p50, 1000) << "batch 8 never ran: its column keeps the claim";
  EXPECT_GE(metrics->snapshot().profile_updates, 3);
}

/// Longest stage time of (model 0, stage 0, batch 1) the lanes reported.
class StageZeroTimes final : public Observer {
 public:
  void on_stage_done(int, ModelId model, int stage, std::span<const JobInfo> jobs, Time start, Time end,
                     bool) override {
    if (model == 0 && stage == 0 && jobs.size() == 1) longest = std::max<Duration>(longest, end - start);
  }
  std::atomic<Duration> longest{0};
};

TEST(Engine, OnlineProfileRecordsTheWholeCycleOrTheStageAlone) {
  const Profile& real = measured_profile("cnn3", 8);
  for (const bool overhead : {false, true}) {
    auto stages = std::make_shared<StageZeroTimes>();
    EngineConfig config = config_with("edf-full");
    config.online_profile.include_overhead = overhead;
    config.online_profile.min_samples = 4;
    config.online_profile.every = 1;
    config.online_profile.half_life = 64;
    config.observers.push_back(stages);
    Engine engine(one_model("cnn3", 8, &real), config);
    const auto xs = inputs("cnn3");
    for (int i = 0; i < 12; ++i) ASSERT_EQ(engine.submit(0, xs[0], kGenerous).get().status, OutcomeStatus::completed);
    engine.stop();
    const Duration recorded_max = engine.profile(0).timing(0, 1).max;
    if (overhead)  // every cycle holds its stage and then some
      EXPECT_GT(recorded_max, stages->longest.load());
    else
      EXPECT_EQ(recorded_max, stages->longest.load());
  }
}

TEST(Engine, OnlineProfileCanBeSwitchedOff) {
  const Profile& real = measured_profile("cnn3", 8);
  std::vector<std::vector<StageTiming>> table(3, std::vector<StageTiming>(real.batch_sizes().size(),
                                                                          StageTiming{1000, 1000, 1000, 1000}));
  const Profile claimed(real.batch_sizes(), table);
  EngineConfig config = config_with("edf-full");
  config.online_profile.enabled = false;
  Engine engine(one_model("cnn3", 8, &claimed), config);
  const auto xs = inputs("cnn3");
  for (int i = 0; i < 20; ++i) ASSERT_EQ(engine.submit(0, xs[0], kGenerous).get().status, OutcomeStatus::completed);
  EXPECT_EQ(engine.profile(0).timing(0, 1).p50, 1000);
}

// --- The online profile's estimator, fed directly (deterministic: seeded draws, no clock) ---

/// Uniform in [0, 1) from the engine's bits (the standard distributions differ between libraries).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

/// Stage times of 50 us plus an exponential of mean 10 us: quantiles in closed form.
constexpr double kBase = 50'000, kScale = 10'000;
double true_quantile(double q) { return kBase - kScale * std::log1p(-q); }
Duration draw(std::mt19937_64& rng) { return std::llround(true_quantile(uniform(rng))); }

/// One model, two stages, batch sizes 1 and 4; the online profile's figures are what record() returns.
struct Recorder {
  explicit Recorder(OnlineProfileConfig c) : config(c), online(models(), c) {}
  static std::vector<Model> models() {
    Model m;
    m.name = "m";
    m.profile = Profile({1, 4}, std::vector<std::vector<StageTiming>>(2, std::vector<StageTiming>(2, {1, 1, 1, 1})));
    return {m};
  }
  /// Records `took` for (stage 0, batch 1); true when the figures were published (kept in `last`).
  bool add(Duration took) {
    std::size_t column = 99;
    StageTiming t;
    if (!online.record(0, 0, 1, took, column, t)) return false;
    EXPECT_EQ(column, 0u);
    Profile check = models()[0].profile;
    check.set_timing(0, column, t);  // throws unless 0 <= p50 <= p99 <= max and mean <= max
    last = t;
    return true;
  }
  OnlineProfileConfig config;
  detail::OnlineProfile online;
  StageTiming last;
};

OnlineProfileConfig every_time() {
  OnlineProfileConfig c;
  c.min_samples = 1;
  c.every = 1;
  return c;
}

TEST(OnlineProfileEstimator, QuantilesOfAStationaryDistributionAreAccurate) {
  std::mt19937_64 rng(11);
  detail::DecayedHistogram long_memory(1'000'000);  // ~no decay: the estimator's own error alone
  for (int i = 0; i < 10'000; ++i) long_memory.add(draw(rng));
  EXPECT_NEAR(long_memory.quantile(0.50), true_quantile(0.50), 0.02 * true_quantile(0.50));
  EXPECT_NEAR(long_memory.quantile(0.99), true_quantile(0.99), 0.03 * true_quantile(0.99));
  EXPECT_NEAR(long_memory.mean(), kBase + kScale, 0.01 * (kBase + kScale));

  // The default half-life: ~370 effective times, so the sampling noise is larger but bounded.
  Recorder r(every_time());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(r.add(draw(rng)));
  EXPECT_NEAR(static_cast<double>(r.last.p50), true_quantile(0.50), 0.05 * true_quantile(0.50));
  EXPECT_NEAR(static_cast<double>(r.last.p99), true_quantile(0.99), 0.10 * true_quantile(0.99));
  EXPECT_NEAR(static_cast<double>(r.last.mean), kBase + kScale, 0.05 * (kBase + kScale));
}

TEST(OnlineProfileEstimator, RareOutliersAreNotTheP99) {
  // One time in 200 is 10x: the p99 of the mix is ~103 us. A window's nearest-rank "p99" of 64
  // times is their maximum, i.e. the outlier whenever one is among the last 64 (as here).
  std::mt19937_64 rng(12);
  Recorder r(every_time());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(r.add(i % 200 == 150 ? 500'000 : draw(rng)));
  const double p99_of_mix = true_quantile(0.99 / 0.995);
  EXPECT_NEAR(static_cast<double>(r.last.p99), p99_of_mix, 0.15 * p99_of_mix);
  EXPECT_EQ(r.last.max, 500'000) << "an outlier of the last half-life is the max";
}

TEST(OnlineProfileEstimator, ASlowPeriodIsForgottenAfterAFewHalfLives) {
  std::mt19937_64 rng(13);
  OnlineProfileConfig config = every_time();
  const int half_life = config.half_life;
  Recorder r(config);
  for (int i = 0; i < 8 * half_life; ++i) r.add(draw(rng));
  const StageTiming normal = r.last;
  for (int i = 0; i < 500; ++i) r.add(10 * draw(rng));  // a slow period
  EXPECT_GT(r.last.p99, 5 * normal.p99) << "the slowdown is planned for";
  EXPECT_GT(r.last.p50, 5 * normal.p50);
  for (int i = 0; i < 2 * half_life; ++i) r.add(draw(rng));
  EXPECT_GT(r.last.p99, 5 * normal.p99) << "still remembered after two half-lives (~20% of the weight)";
  for (int i = 0; i < 6 * half_life; ++i) r.add(draw(rng));
  // Eight half-lives on, the slow times hold 0.3% of the weight: the p99 is (nearly) the normal one.
  EXPECT_LT(static_cast<double>(r.last.p99), 1.25 * true_quantile(0.99)) << "the slow period is forgotten";
  EXPECT_NEAR(static_cast<double>(r.last.p50), true_quantile(0.50), 0.05 * true_quantile(0.50));
  for (int i = 0; i < 4 * half_life; ++i) r.add(draw(rng));
  EXPECT_LT(static_cast<double>(r.last.max), 1.5 * true_quantile(0.999)) << "and, four half-lives later, the max";
}

TEST(OnlineProfileEstimator, OneOutlierIsTheMaxForOneToTwoHalfLivesThenForgotten) {
  std::mt19937_64 rng(15);
  Recorder r(every_time());
  const int half_life = r.config.half_life;
  for (int i = 0; i < 8 * half_life; ++i) r.add(draw(rng));  // the outlier opens an epoch of half_life times
  r.add(5'000'000);
  EXPECT_LT(static_cast<double>(r.last.p99), 1.25 * true_quantile(0.99)) << "one time in hundreds is not the p99";
  for (int i = 0; i < 450; ++i) r.add(draw(rng));
  // Its weight is now below 0.1% (a p99.9 alone would have dropped it), but it is within two half-lives.
  EXPECT_EQ(r.last.max, 5'000'000);
  for (int i = 0; i < 100; ++i) r.add(draw(rng));
  EXPECT_LT(static_cast<double>(r.last.max), 1.5 * true_quantile(0.999)) << "beyond two half-lives it is gone";
}

TEST(OnlineProfileEstimator, ZeroNegativeAndHugeTimes) {
  Recorder r(every_time());
  EXPECT_FALSE(r.add(-5)) << "a negative time is a clock error: not recorded";
  ASSERT_TRUE(r.add(0));
  EXPECT_EQ(r.last.p50, 1) << "zero counts as 1 ns";
  EXPECT_EQ(r.last.max, 1);
  EXPECT_EQ(r.last.mean, 1);
  ASSERT_TRUE(r.add(std::numeric_limits<Duration>::max()));
  constexpr Duration top = detail::DecayedHistogram::kTop - 1;
  EXPECT_EQ(r.last.max, top) << "huge times are clamped to the histogram's top";
  EXPECT_GT(r.last.mean, top / 4);  // the newer time weighs a bit more than the older one
  EXPECT_LE(r.last.mean, top);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(r.add(i % 2 == 0 ? top : 0));
  EXPECT_EQ(r.last.max, top);
  EXPECT_LE(r.last.p50, r.last.p99);

  // The other columns: batch 4 is measured, batch 2 is not (it would make batch 4's column optimistic).
  std::size_t column = 0;
  StageTiming t;
  OnlineProfileConfig c = every_time();
  detail::OnlineProfile online(Recorder::models(), c);
  EXPECT_TRUE(online.record(0, 1, 4, 1000, column, t));
  EXPECT_EQ(column, 1u);
  EXPECT_EQ(t.p50, 1000);
  EXPECT_FALSE(online.record(0, 1, 2, 1000, column, t));
  EXPECT_FALSE(online.record(0, 1, 0, 1000, column, t));

  c.half_life = 0;
  EXPECT_THROW(detail::OnlineProfile(Recorder::models(), c), Error);
  EXPECT_THROW(detail::DecayedHistogram(-1), Error);
}

TEST(OnlineProfileEstimator, FiguresStayMonotoneAndFiniteThroughRenormalisation) {
  // Half-life 1: weights double per time, so the histogram renormalises every 64 times.
  OnlineProfileConfig config = every_time();
  config.half_life = 1;
  Recorder r(config);
  std::mt19937_64 rng(14);
  for (int i = 0; i < 20'000; ++i) {
    const double u = uniform(rng);
    ASSERT_TRUE(r.add(std::llround(std::exp2(40.0 * u * u))));  // 1 ns .. 18 min, heavy in the small ones
  }
  for (int i = 0; i < 100; ++i) r.add(123'456);
  // After 100 half-lives only the newest times count: exactly for the mean, within a bin for quantiles.
  EXPECT_EQ(r.last.mean, 123'456);
  EXPECT_NEAR(static_cast<double>(r.last.p50), 123'456, 123'456 / 16);
  EXPECT_NEAR(static_cast<double>(r.last.p99), 123'456, 123'456 / 16);
  EXPECT_NEAR(static_cast<double>(r.last.max), 123'456, 123'456 / 16) << "the old huge times are forgotten";
}

TEST(OnlineProfileEstimator, BinsCoverEveryTimeWithinASixteenth) {
  using H = detail::DecayedHistogram;
  for (Duration d = 1; d < H::kTop; d = d + 1 + d / 7) {
    const std::size_t b = H::bin_of(d);
    ASSERT_LT(b, H::kBins);
    EXPECT_LE(H::lower_edge(b), d);
    EXPECT_LT(d, H::lower_edge(b) + H::width(b));
    EXPECT_LE(H::width(b) * 16, std::max<Duration>(H::lower_edge(b), 16));
  }
  EXPECT_EQ(H::bin_of(H::kTop - 1), H::kBins - 1);
}

TEST(Engine, TraceIsValidJsonWithLaneSlicesAndOutcomeMarkers) {
  const auto xs = inputs("cnn3");
  const std::string path =
      (std::filesystem::temp_directory_path() / ("imprecise_trace_" + std::to_string(::getpid()) + ".json")).string();
  auto trace = std::make_shared<TraceWriter>(path);
  const Duration full = full_depth_time(measured_profile("cnn3", 8));
  const std::size_t ahead = static_cast<std::size_t>(std::clamp<Duration>(from_ms(20) / std::max<Duration>(full, 1), 30, 1000));
  EngineConfig config = config_with("fifo-full", ahead + 8, /*max_batch=*/1);
  config.observers.push_back(trace);
  {
    Engine engine(one_model("cnn3"), config);
    std::vector<std::future<Outcome>> futures;
    for (std::size_t i = 0; i < ahead; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
    futures.push_back(engine.submit(0, xs[0], 1ms));  // behind 20 ms of work in FIFO order: missed
    futures.push_back(engine.submit(0, xs[0], Clock::now() - 1ms));  // rejected at once
    futures.push_back(engine.submit(0, nn::Tensor({2, 2}), kGenerous));  // failed at once
    for (auto& f : futures) f.wait();
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good());
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(in));
  const auto& events = doc.at("traceEvents");
  int slices = 0, lane_names = 0;
  std::set<std::string> markers;
  std::set<std::int64_t> jobs_in_slices;
  for (const auto& e : events) {
    const std::string ph = e.at("ph");
    if (ph == "M" && e.at("name") == "thread_name" && e.at("args").at("name") == "lane 0") ++lane_names;
    if (ph == "X") {
      ++slices;
      EXPECT_EQ(e.at("tid"), 1);
      EXPECT_EQ(e.at("cat"), "stage");
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_EQ(e.at("args").at("batch"), 1);
      for (const auto& id : e.at("args").at("jobs")) jobs_in_slices.insert(id.get<std::int64_t>());
      const std::string name = e.at("name");
      EXPECT_EQ(name.rfind("cnn3 stage ", 0), 0u) << name;
    }
    if (ph == "i") {
      markers.insert(e.at("name").get<std::string>());
      EXPECT_EQ(e.at("tid"), 0);
    }
  }
  EXPECT_EQ(lane_names, 1);
  EXPECT_EQ(slices, static_cast<int>(ahead) * 3) << "every stage of the served jobs is a slice";
  EXPECT_EQ(jobs_in_slices.size(), ahead);
  EXPECT_TRUE(markers.count("miss"));
  EXPECT_TRUE(markers.count("reject"));
  EXPECT_TRUE(markers.count("fail"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace imprecise::runtime
