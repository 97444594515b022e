#include "base/task_runner.h"

#include "chuqu/status.h"

namespace chuqu {

struct ThreadPool::Batch {
  size_t pending = 0;  // queued or running tasks of this batch, guarded by mu_
};

ThreadPool::ThreadPool(size_t threads) {
  CHUQU_CHECK(threads >= 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

bool ThreadPool::RunOne(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return false;
  const Item item = queue_.front();
  queue_.pop_front();
  lock.unlock();
  (*item.task)();
  lock.lock();
  if (--item.batch->pending == 0) batch_done_.notify_all();
  return true;
}

void ThreadPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    RunOne(lock);
  }
}

void ThreadPool::RunAll(std::span<const std::function<void()>> tasks) {
  if (tasks.empty()) return;
  Batch batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.pending = tasks.size() - 1;
    for (size_t i = 1; i < tasks.size(); ++i) queue_.push_back({&tasks[i], &batch});
  }
  if (tasks.size() > 1) work_ready_.notify_all();
  tasks[0]();
  std::unique_lock<std::mutex> lock(mu_);
  // Help rather than wait: queued tasks (ours or another caller's) run here too.
  while (batch.pending > 0) {
    if (!RunOne(lock)) batch_done_.wait(lock, [&] { return batch.pending == 0 || !queue_.empty(); });
  }
}

}  // namespace chuqu
