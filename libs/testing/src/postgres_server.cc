// PostgresServer: a throwaway PostgreSQL cluster for tests (initdb in a temp dir, loopback port).
// When the test runs as root, every server-side command runs as the `postgres` system user through
// `runuser` (initdb and postgres refuse to run as root).
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::testing {
namespace {

// Highest installed PostgreSQL major version's bin dir, e.g. /usr/lib/postgresql/15/bin.
std::string PostgresBinDir() {
  int best = -1;
  std::string best_dir;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    long v = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    const std::string bin = entry.path().string() + "/bin";
    if (access((bin + "/initdb").c_str(), X_OK) != 0) continue;
    if (v > best) {
      best = static_cast<int>(v);
      best_dir = bin;
    }
  }
  return best_dir;
}

bool RunningAsRoot() { return geteuid() == 0; }

// Runs argv (as the postgres user when root and `as_postgres`), stdin from /dev/null. Captures
// stdout+stderr into *output unless output is null (then both go to /dev/null). Returns the exit
// code, or -1 if the process could not be run.
int RunCommand(std::vector<std::string> argv, bool as_postgres, std::string* output) {
  if (as_postgres && RunningAsRoot()) {
    argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  }
  int pipefd[2] = {-1, -1};
  if (output != nullptr && pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    if (output != nullptr) {
      dup2(pipefd[1], 1);
      dup2(pipefd[1], 2);
      close(pipefd[0]);
      close(pipefd[1]);
    } else {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (output != nullptr) {
    close(pipefd[1]);
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) output->append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

}  // namespace

PostgresServer::PostgresServer() : port_(FreePort()), dir_(MakeTempDir("tickmesh-pg")) {}

PostgresServer::~PostgresServer() {
  if (running_) StopImmediate();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::url() const {
  return absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/tickmesh");
}

absl::Status PostgresServer::Start() {
  if (running_) return absl::OkStatus();
  const std::string bin = PostgresBinDir();
  if (bin.empty()) {
    return absl::FailedPreconditionError("no PostgreSQL under /usr/lib/postgresql/*/bin");
  }
  const std::string data = dir_ + "/data";
  if (!initialized_) {
    if (RunningAsRoot()) {
      passwd* pw = getpwnam("postgres");
      if (pw == nullptr) {
        return absl::FailedPreconditionError("running as root but there is no `postgres` user");
      }
      if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return absl::InternalError(absl::StrCat("chown ", dir_, " failed"));
      }
    }
    std::string out;
    int rc = RunCommand({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync",
                         "-E", "UTF8", "--locale=C"},
                        /*as_postgres=*/true, &out);
    if (rc != 0) return absl::InternalError(absl::StrCat("initdb failed (", rc, "): ", out));
    // Appended settings override the defaults initdb wrote. fsync stays on: the outage tests
    // depend on committed data surviving an immediate stop.
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# tickmesh test settings\n"
         << "port = " << port_ << "\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "max_connections = 50\n"
         << "shared_buffers = 32MB\n"
         << "logging_collector = off\n";
    if (!conf.good()) return absl::InternalError("cannot write postgresql.conf");
    conf.close();
    if (RunningAsRoot()) {
      passwd* pw = getpwnam("postgres");
      if (chown((data + "/postgresql.conf").c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return absl::InternalError("chown postgresql.conf failed");
      }
    }
  }
  const std::string log = dir_ + "/log";
  // pg_ctl -w waits until the server accepts connections; its output goes to /dev/null (the
  // postmaster writes to the log file).
  int rc = RunCommand({bin + "/pg_ctl", "-D", data, "-l", log, "-o", absl::StrCat("-p ", port_),
                       "-w", "-t", "30", "start"},
                      /*as_postgres=*/true, nullptr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed (", rc, "): ", Tail(log)));
  }
  running_ = true;
  if (!initialized_) {
    std::string out;
    rc = RunCommand(
        {bin + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d",
         "postgres", "-v", "ON_ERROR_STOP=1", "-At", "-c", "CREATE DATABASE tickmesh"},
        /*as_postgres=*/false, &out);
    if (rc != 0) return absl::InternalError(absl::StrCat("CREATE DATABASE failed: ", out));
    initialized_ = true;
  }
  return absl::OkStatus();
}

void PostgresServer::StopImmediate() {
  if (!running_) return;
  const std::string bin = PostgresBinDir();
  RunCommand({bin + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"},
             /*as_postgres=*/true, nullptr);
  running_ = false;
}

void PostgresServer::Stop() {
  if (!running_) return;
  const std::string bin = PostgresBinDir();
  RunCommand({bin + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"},
             /*as_postgres=*/true, nullptr);
  running_ = false;
}

std::string PostgresServer::Psql(const std::string& sql) const {
  const std::string bin = PostgresBinDir();
  std::string out;
  RunCommand({bin + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d",
              "tickmesh", "-At", "-c", sql},
             /*as_postgres=*/false, &out);
  return std::string(absl::StripAsciiWhitespace(out));
}

}  // namespace tickmesh::testing
