// Running the independent parts of one request concurrently, for latency. Core code starts
// no threads: the app owns a TaskRunner (a small fixed pool, started once) and passes it in a
// component's options; without one, everything runs on the calling thread. A server whose
// cores are already busy with other requests gains nothing from it and should pass none.
// Thread-safety: RunAll may be called from several threads at once, and from inside a task.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace chuqu {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Runs every task once, possibly concurrently with each other, and returns when all have
  // finished. Tasks must not throw and must not share unsynchronised state.
  virtual void RunAll(std::span<const std::function<void()>> tasks) = 0;
};

// Runs `tasks` on `runner`, or one after another on this thread if runner is null.
inline void RunAll(TaskRunner* runner, std::span<const std::function<void()>> tasks) {
  if (runner != nullptr) {
    runner->RunAll(tasks);
    return;
  }
  for (const auto& task : tasks) task();
}

// A fixed pool of worker threads, started by the constructor and joined by the destructor.
// RunAll queues all tasks but the first, runs the first on the calling thread, then helps
// with queued tasks until its own have finished, so it never waits on a busy pool and a task
// may itself call RunAll.
class ThreadPool final : public TaskRunner {
 public:
  // REQUIRES: threads >= 1 (e.g. the number of cores minus one for the calling thread).
  explicit ThreadPool(size_t threads);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void RunAll(std::span<const std::function<void()>> tasks) override;
  size_t threads() const { return workers_.size(); }

 private:
  struct Batch;
  struct Item {
    const std::function<void()>* task;
    Batch* batch;
  };
  // Runs one queued item; false if the queue was empty. REQUIRES: lock held (released while
  // the task runs).
  bool RunOne(std::unique_lock<std::mutex>& lock);
  void Work();

  std::mutex mu_;
  std::condition_variable work_ready_;  // queue non-empty or stopping
  std::condition_variable batch_done_;  // some batch's last task finished
  std::deque<Item> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace chuqu
