// `chuqu serve` as a child process on an ephemeral loopback port, for tests and the load
// generator (tests/serve_kill_test.cc, bench/load_gen.cc). Header-only and free of chuqu
// libraries so a plain program can use it. Not thread-safe.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace chuqu::server::testing {

// Runs `command` through the shell; its standard output without trailing newlines ("" if it
// could not be started).
inline std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct ServeChild {
  pid_t pid = -1;     // > 0 while the child runs
  int port = 0;       // 0 if it did not start
  std::string error;  // why it did not start (its stderr)
};

// Starts `chuqu serve --data DATA --listen 127.0.0.1:0 --quiet --rate 0 EXTRA...` with stderr
// written to `log` (a file, never a pipe: the server would die of SIGPIPE writing to a closed
// one) and waits up to 60 s for its "listening on http://127.0.0.1:PORT" line. On failure the
// child is killed and reaped, and pid is -1.
inline ServeChild StartServe(const std::string& chuqu, const std::string& data,
                             const std::string& log, const std::vector<std::string>& extra) {
  ServeChild c;
  std::vector<std::string> args = {chuqu,         "serve",   "--data", data, "--listen",
                                   "127.0.0.1:0", "--quiet", "--rate", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  c.pid = fork();
  if (c.pid < 0) {
    c.error = "fork failed";
    return c;
  }
  if (c.pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    execv(chuqu.c_str(), argv.data());
    _exit(127);
  }
  const std::string tag = "listening on http://127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string err;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    err = ss.str();
    if (size_t at = err.find(tag); at != std::string::npos) {
      const size_t end = err.find_first_not_of("0123456789", at + tag.size());
      if (end != std::string::npos) {
        c.port = std::stoi(err.substr(at + tag.size(), end - at - tag.size()));
        return c;
      }
    }
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
      c.pid = -1;
      c.error = "chuqu serve exited: " + err;
      return c;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(c.pid, SIGKILL);
  int status = 0;
  waitpid(c.pid, &status, 0);
  c.pid = -1;
  c.error = "chuqu serve did not start within 60 s: " + err;
  return c;
}

// Sends `signal` to the child and reaps it; no-op once stopped.
inline void StopServe(ServeChild& c, int signal) {
  if (c.pid <= 0) return;
  kill(c.pid, signal);
  int status = 0;
  waitpid(c.pid, &status, 0);
  c.pid = -1;
}

}  // namespace chuqu::server::testing
