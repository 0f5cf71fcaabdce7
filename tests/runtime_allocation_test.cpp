// Hot-path check: after warm-up, no engine thread (dispatcher or lane: any of them may run a scheduling pass)
// allocates (counting operator new and malloc on those threads); nor does the online profile's estimator.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "imprecise/runtime/engine.hpp"
#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sched/trace_writer.hpp"
#include "counting_allocator.hpp"
#include "runtime/online_profile.hpp"
#include "runtime_fixtures.hpp"


namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;

// Only allocations made on the engine's own threads count (testing::g_marked): they mark themselves
// through the observer's on_thread_start hook, so the test thread's submits (which may allocate) do not.
class MarkEngineThreads final : public Observer {
 public:
  void on_thread_start(ThreadRole, int) override {
    imprecise::testing::t_marked = true;
    threads.fetch_add(1);
    // One deliberate allocation per thread, so the test can check that the counter sees this thread
    // (the engine itself allocates nothing on it: the policy was warmed up in the constructor).
    delete probe.exchange(new int(1));
  }
  std::atomic<int*> probe{nullptr};
  std::atomic<int> threads{0};
  ~MarkEngineThreads() override { delete probe.load(); }
};

/// Counts outcomes delivered by callback (the callback itself allocates nothing).
struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  long done = 0;
  long completed = 0;
  void add(const Outcome& o) {
    std::lock_guard lock(mu);
    ++done;
    if (o.status == OutcomeStatus::completed) ++completed;
    cv.notify_all();
  }
  void wait_for(long total) {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 120s, [&] { return done >= total; }));
  }
};

// cnn3 served on the cpu backend. The engine's own paths must allocate nothing on any backend; the cpu
// backend's stages allocate nothing either, so every allocation counted here is the engine's. (The
// onednn backend, the registry's default when built, makes oneDNN's small per-call argument-map
// allocations inside each primitive call: nn_allocation_test pins those down.)
std::vector<ServedModel> cnn3_on_cpu() {
  nn::MultiExitModel::Options options;
  options.compile.max_batch = 8;
  options.backend = "cpu";
  nn::MultiExitModel net = nn::MultiExitModel::load(nn::testing::fixture("cnn3.onnx"), options);
  Model description = nn::describe(net, testing::measured_profile("cnn3", 8), {}, "cnn3");
  std::vector<ServedModel> models;
  models.push_back(ServedModel{std::move(net), std::move(description)});
  return models;
}

class RuntimeAllocation : public ::testing::TestWithParam<const char*> {};

TEST_P(RuntimeAllocation, EngineThreadsAllocateNothingAfterWarmUp) {
  const auto xs = testing::inputs("cnn3");
  auto marker = std::make_shared<MarkEngineThreads>();
  auto metrics = std::make_shared<MetricsObserver>();
  const std::string path =
      (std::filesystem::temp_directory_path() / ("imprecise_alloc_trace_" + std::to_string(::getpid()) + ".json")).string();
  auto trace = std::make_shared<TraceWriter>(path);
  EngineConfig config;
  config.policy = GetParam();
  config.max_pending = 64;
  config.observers = {marker, metrics, trace};
  Counter counter;
  // Bursts of jobs with generous deadlines: the policy batches, plans and finishes them all.
  // Half the jobs report by callback, half through a future (the dispatcher sets the promise).
  std::vector<std::future<Outcome>> futures;
  futures.reserve(64);
  long completed_by_future = 0;
  const auto burst = [&](Engine& engine, int jobs) {
    const long start = counter.done;
    futures.clear();
    for (int i = 0; i < jobs; ++i) {
      const nn::Tensor& x = xs[static_cast<std::size_t>(i) % xs.size()];
      if (i % 2 == 0)
        engine.submit(0, x, 60s, [&counter](Outcome o) { counter.add(o); });
      else
        futures.push_back(engine.submit(0, x, 60s));
    }
    counter.wait_for(start + (jobs + 1) / 2);
    for (auto& f : futures) completed_by_future += f.get().status == OutcomeStatus::completed;
  };
  {
    Engine engine(cnn3_on_cpu(), config);
    for (int round = 0; round < 4; ++round) burst(engine, 48);  // warm-up: buffers reach their working size
    // Any engine thread may run a scheduling pass (the dispatcher for timers, a lane after its stage or
    // when poked by an arrival), and a thread may first run long after the engine started on a loaded
    // machine: so every engine thread must be marked before counting, whichever of them ends up serving.
    const int engine_threads = engine.lanes() + 1;  // the lanes and the dispatcher
    for (int i = 0; i < 6000 && marker->threads.load() < engine_threads; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(marker->threads.load(), engine_threads) << "every engine thread marked itself";
    ASSERT_GE(imprecise::testing::g_marked.news.load(), 2) << "the counter sees the engine threads' deliberate allocations";

    const long news = imprecise::testing::g_marked.news.load(), mallocs = imprecise::testing::g_marked.mallocs.load();
    const auto before = metrics->snapshot();
    for (int round = 0; round < 4; ++round) burst(engine, 48);
    const auto after = metrics->snapshot();
    EXPECT_EQ(imprecise::testing::g_marked.news.load() - news, 0) << GetParam() << ": operator new calls on the engine's threads";
    EXPECT_EQ(imprecise::testing::g_marked.mallocs.load() - mallocs, 0) << GetParam() << ": malloc calls on the engine's threads";
    EXPECT_GT(after.dispatches - before.dispatches, 0) << "stages ran while counting";
    EXPECT_GT(after.decisions - before.decisions, 0);
    EXPECT_EQ(after.completed - before.completed, 4 * 48);
    EXPECT_EQ(completed_by_future, 8 * 24);
  }
  std::filesystem::remove(path);
}

// The submitting thread: a job slot keeps its job's tensors for the next job (MultiExitModel::restart),
// so admitting allocates only while the slots are first filled, not per job (it used to allocate and
// zero-fill every carried tensor of every job). Only this thread is marked here.
TEST(SubmitAllocation, AdmittingAllocatesOnlyWhileTheSlotsFirstFill) {
  const auto xs = testing::inputs("cnn3");
  // What one fresh job's tensors take (a vector, and a shape and values per carried tensor).
  const std::vector<ServedModel> probe = cnn3_on_cpu();
  const long news_before = imprecise::testing::g_all_threads.news.load();
  const long mallocs_before = imprecise::testing::g_all_threads.mallocs.load();
  { const nn::JobState fresh = probe[0].network.start(xs[0]); }
  const long news_per_fresh_job = imprecise::testing::g_all_threads.news.load() - news_before;
  const long mallocs_per_fresh_job = imprecise::testing::g_all_threads.mallocs.load() - mallocs_before;
  ASSERT_GT(news_per_fresh_job, 0);
  EngineConfig config;
  config.policy = "edf-full";
  config.max_pending = 16;  // at most 16 slots ever hold tensors
  Counter counter;
  Engine engine(cnn3_on_cpu(), config);
  constexpr int kBursts = 50, kBurst = 8;  // bursts of 8 after the last one's answers: never queue full
  imprecise::testing::t_marked = true;
  const long news = imprecise::testing::g_marked.news.load(), mallocs = imprecise::testing::g_marked.mallocs.load();
  for (int b = 0; b < kBursts; ++b) {
    for (int i = 0; i < kBurst; ++i)
      engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], 60s, [&counter](Outcome o) { counter.add(o); });
    imprecise::testing::t_marked = false;  // waiting may allocate (the test's own condition variable)
    counter.wait_for(static_cast<long>(b + 1) * kBurst);
    imprecise::testing::t_marked = true;
  }
  imprecise::testing::t_marked = false;
  const long submit_news = imprecise::testing::g_marked.news.load() - news;
  const long submit_mallocs = imprecise::testing::g_marked.mallocs.load() - mallocs;
  // At most each of the 16 slots filled once (how many of them a loaded machine fills varies), against
  // 400 fresh jobs' worth before.
  EXPECT_LE(submit_news, static_cast<long>(config.max_pending) * news_per_fresh_job) << "operator new calls on the submitting thread for " << kBursts * kBurst << " jobs";
  EXPECT_LE(submit_mallocs, static_cast<long>(config.max_pending) * mallocs_per_fresh_job) << "malloc calls on the submitting thread";
  EXPECT_EQ(counter.completed, kBursts * kBurst);
}

TEST(OnlineProfileAllocation, RecordingAndSummarisingAllocateNothing) {
  // The engine test above covers it only as far as its few hundred stages go; here through many
  // renormalisations (half-life 2: every 128 times) and a summary after every time.
  Model m;
  m.profile = Profile({1, 2}, std::vector<std::vector<StageTiming>>(3, std::vector<StageTiming>(2, {1, 1, 1, 1})));
  OnlineProfileConfig config;
  config.half_life = 2;
  config.min_samples = 1;
  config.every = 1;
  detail::OnlineProfile online({m}, config);
  std::size_t column = 0;
  StageTiming t;
  const long news = imprecise::testing::g_all_threads.news.load();
  const long mallocs = imprecise::testing::g_all_threads.mallocs.load();
  int published = 0;
  for (int i = 0; i < 50'000; ++i)
    published += online.record(0, i % 3, 1 + i % 2, 1000 + (i * 7919) % 100'000, column, t);
  EXPECT_EQ(imprecise::testing::g_all_threads.news.load() - news, 0);
  EXPECT_EQ(imprecise::testing::g_all_threads.mallocs.load() - mallocs, 0);
  EXPECT_EQ(published, 50'000);
}

INSTANTIATE_TEST_SUITE_P(Policies, RuntimeAllocation, ::testing::Values("yao-dp", "density", "edf-full", "fifo-full"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace imprecise::runtime
