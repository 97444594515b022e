#include "base/task_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace chuqu {
namespace {

TEST(TaskRunnerTest, WithoutRunnerTasksRunInOrderOnThisThread) {
  std::vector<int> order;
  std::vector<std::thread::id> ids;
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back([&, i] {
      order.push_back(i);
      ids.push_back(std::this_thread::get_id());
    });
  }
  RunAll(nullptr, tasks);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  for (auto id : ids) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(TaskRunnerTest, PoolRunsEveryTaskOnceAndWaitsForAll) {
  ThreadPool pool(2);
  EXPECT_EQ(pool.threads(), 2u);
  for (size_t n : {0, 1, 2, 7, 64}) {
    std::vector<std::atomic<int>> runs(n);
    std::vector<std::function<void()>> tasks;
    for (size_t i = 0; i < n; ++i) tasks.push_back([&runs, i] { runs[i].fetch_add(1); });
    RunAll(&pool, tasks);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(TaskRunnerTest, SecondTaskRunsOnAnotherThreadWhenTheFirstBlocks) {
  ThreadPool pool(1);
  // Task 0 (the calling thread) waits until task 1 has run: only a worker can run it.
  std::atomic<bool> second_ran{false};
  std::thread::id second_thread;
  std::vector<std::function<void()>> tasks = {
      [&] {
        while (!second_ran.load()) std::this_thread::yield();
      },
      [&] {
        second_thread = std::this_thread::get_id();
        second_ran.store(true);
      }};
  pool.RunAll(tasks);
  EXPECT_TRUE(second_ran.load());
  EXPECT_NE(second_thread, std::this_thread::get_id());
}

TEST(TaskRunnerTest, ConcurrentAndNestedCallersFinish) {
  ThreadPool pool(1);
  std::atomic<int> total{0};
  auto work = [&] {
    std::vector<std::function<void()>> inner(5, [&] { total.fetch_add(1); });
    pool.RunAll(inner);  // nested: the worker may be busy with the outer batch
  };
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 20; ++r) {
        std::vector<std::function<void()>> outer(3, work);
        pool.RunAll(outer);
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 3 * 20 * 3 * 5);
}

}  // namespace
}  // namespace chuqu
