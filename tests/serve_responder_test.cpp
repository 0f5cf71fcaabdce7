// The service's responder: answers are finished on its own thread, in order, never lost at close; and
// the I/O priority it and the server's endpoints run at.
#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "imprecise/serve/thread_priority.hpp"
#include "serve/responder.hpp"

namespace imprecise::serve {
namespace {

std::string this_thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(Responder, RunsTasksInOrderOnItsOwnThread) {
  Responder responder;
  std::vector<int> order;
  std::promise<std::thread::id> ran_on;
  for (int i = 0; i < 1000; ++i) responder.post([&order, i] { order.push_back(i); });
  responder.post([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  responder.close();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(Responder, CloseRunsEveryTaskPostedBeforeItAndLaterOnesRunInline) {
  std::atomic<int> ran{0};
  Responder responder;
  for (int i = 0; i < 200; ++i)
    responder.post([&ran] {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
      ran.fetch_add(1);
    });
  responder.close();
  EXPECT_EQ(ran.load(), 200);
  const auto poster = std::this_thread::get_id();
  std::thread::id ran_on;
  responder.post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, poster);  // closed: nothing can wait in a queue nobody drains
  responder.close();           // idempotent
}

TEST(Responder, ATaskThatThrowsDoesNotStopTheOthers) {
  Responder responder;
  std::promise<void> after;
  responder.post([] { throw std::runtime_error("a front end's send failed"); });
  responder.post([&after] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST(Responder, ManyPostersLoseNothing) {
  Responder responder;
  std::atomic<int> ran{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) responder.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    });
  for (auto& t : posters) t.join();
  responder.close();
  EXPECT_EQ(ran.load(), 20000);
}

TEST(Responder, ItsThreadIsNamedAndRunsAtTheGivenNiceBelowItsCreator) {
  // In a thread of its own, so that the test process's main thread keeps its priority.
  std::thread([] {
    const int base = this_thread_nice();
    if (base > 19 - 3) GTEST_SKIP() << "already at nice " << base;
    Responder responder(3);
    std::promise<std::pair<std::string, int>> seen;
    responder.post([&seen] { seen.set_value({this_thread_name(), this_thread_nice()}); });
    const auto [name, nice] = seen.get_future().get();
    EXPECT_EQ(name, "imp-responder");
    EXPECT_EQ(nice, base + 3);
    EXPECT_EQ(this_thread_nice(), base);  // the creator is untouched
  }).join();
}

TEST(ThreadPriority, LowersTheCallingThreadOnlyAndThreadsItStartsInheritIt) {
  std::thread([] {
    const int base = this_thread_nice();
    if (base > 19 - 4) GTEST_SKIP() << "already at nice " << base;
    int other = -100;
    std::thread sibling_before([&] { other = this_thread_nice(); });
    sibling_before.join();
    EXPECT_TRUE(lower_this_thread_priority(4));
    EXPECT_EQ(this_thread_nice(), base + 4);
    int child = -100;
    std::thread([&] { child = this_thread_nice(); }).join();
    EXPECT_EQ(child, base + 4);
    EXPECT_EQ(other, base);
    EXPECT_FALSE(lower_this_thread_priority(0));  // nothing to do
    EXPECT_TRUE(lower_this_thread_priority(100));  // capped at the weakest priority there is
    EXPECT_EQ(this_thread_nice(), 19);
  }).join();
}

}  // namespace
}  // namespace imprecise::serve
