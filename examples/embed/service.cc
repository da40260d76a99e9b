// SPDX-License-Identifier: Apache-2.0
//
// A small service that embeds weir: it takes events over HTTP, answers each
// request once the events' effect is durable (a checkpoint covers them),
// and answers queries from the job's state.
//
//   service [--port 8090] [--dir ./service-state] [--restore CHECKPOINT]
//
//   curl -d $'alice,5\nbob,7\nalice,1' localhost:8090/events
//     -> {"accepted":3,"last_position":3}       (once durable)
//   curl localhost:8090/totals/alice
//     -> {"user":"alice","total":6}
//
// The job: a PushSource of (user, amount) -> per-user total in keyed state
// (uid "totals", state "total") -> a callback sink that logs big totals.
// Checkpoints every 500 ms under <dir>/checkpoints. After a crash, start
// again with --restore <dir>/checkpoints/<job id>/chk-<N>: the service
// prints the last durable position, and clients re-send what they sent
// after the last acknowledged request (an event is acknowledged only once
// durable, so nothing acknowledged is lost).
//
// The HTTP side is deliberately minimal (one thread per connection,
// HTTP/1.0 style, Connection: close): it shows the API, not a web server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <weir/push_source.h>
#include <weir/stream.h>

namespace {

using namespace std::chrono_literals;

struct Event {
  std::string user;
  int64_t amount = 0;
};

class TotalPerUser final
    : public weir::KeyedProcessFunction<std::string, Event, Event> {
 public:
  weir::Status Open(weir::OperatorContext& ctx) override {
    auto s = weir::GetState(ctx.state(), ctx.operator_id(),
                            weir::ValueStateDescriptor<int64_t>{"total"});
    if (!s.ok()) return s.status();
    total_.emplace(std::move(*s));
    return weir::Status::OK();
  }
  weir::Status ProcessElement(const Event& e, Context&,
                              weir::Collector<Event>& out) override {
    auto v = total_->Value();
    if (!v.ok()) return v.status();
    const int64_t next = v->value_or(0) + e.amount;
    weir::Status s = total_->Update(next);
    if (!s.ok()) return s;
    out.Collect(Event{e.user, next});
    return weir::Status::OK();
  }

 private:
  std::optional<weir::ValueState<int64_t>> total_;
};

std::string Reply(int code, const std::string& json) {
  const char* reason = code == 200   ? "OK"
                       : code == 400 ? "Bad Request"
                       : code == 404 ? "Not Found"
                                     : "Service Unavailable";
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(json.size()) + "\r\nConnection: close\r\n\r\n" + json;
}

std::string Error(const weir::Status& s) {
  std::string msg(s.message());
  for (char& c : msg) {
    if (c == '"' || c == '\\') c = '\'';
  }
  return "{\"error\":\"" + msg + "\"}";
}

class Service {
 public:
  Service(std::shared_ptr<weir::PushSource<Event>> events, weir::Job* job)
      : events_(std::move(events)), job_(job) {}

  std::string Handle(const std::string& method, const std::string& path,
                     const std::string& body) {
    if (method == "POST" && path == "/events") return PostEvents(body);
    if (method == "GET" && path.rfind("/totals/", 0) == 0) {
      return GetTotal(path.substr(8));
    }
    return Reply(404, "{\"error\":\"no such route\"}");
  }

 private:
  // Pushes every "user,amount" line, then waits until the last one is
  // durable: the request is acknowledged like a database commit.
  std::string PostEvents(const std::string& body) {
    std::istringstream lines(body);
    std::string line;
    int64_t last = 0;
    int accepted = 0;
    while (std::getline(lines, line)) {
      const size_t comma = line.find(',');
      if (comma == std::string::npos) continue;
      Event e{line.substr(0, comma), std::atoll(line.c_str() + comma + 1)};
      weir::Result<int64_t> pos = events_->Push(std::move(e), 5s);
      if (!pos.ok()) return Reply(503, Error(pos.status()));
      last = *pos;
      ++accepted;
    }
    if (accepted == 0) return Reply(400, "{\"error\":\"no user,amount line\"}");
    weir::Status durable = events_->WaitDurable(last, 10s);
    if (!durable.ok()) return Reply(503, Error(durable));
    return Reply(200, "{\"accepted\":" + std::to_string(accepted) +
                          ",\"last_position\":" + std::to_string(last) + "}");
  }

  std::string GetTotal(const std::string& user) {
    weir::Result<int64_t> total =
        job_->QueryValue<int64_t>("totals", "total", user, 2s);
    if (!total.ok()) {
      return Reply(total.status().IsNotFound() ? 404 : 503,
                   Error(total.status()));
    }
    return Reply(200, "{\"user\":\"" + user +
                          "\",\"total\":" + std::to_string(*total) + "}");
  }

  std::shared_ptr<weir::PushSource<Event>> events_;
  weir::Job* job_;
};

// Reads one request (headers, then Content-Length bytes of body).
bool ReadRequest(int fd, std::string* method, std::string* path,
                 std::string* body) {
  std::string data;
  char buf[4096];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0 || data.size() > (1 << 20)) return false;
    data.append(buf, static_cast<size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  std::istringstream head(data.substr(0, header_end));
  head >> *method >> *path;
  size_t length = 0;
  const size_t at = data.find("Content-Length:");
  if (at != std::string::npos && at < header_end) {
    length = std::strtoul(data.c_str() + at + 15, nullptr, 10);
  }
  *body = data.substr(header_end + 4);
  while (body->size() < length && body->size() < (1 << 20)) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    body->append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 8090;
  std::string dir = "service-state";
  std::string restore;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--restore") restore = argv[i + 1];
  }

  auto events =
      weir::PushSource<Event>::Create({.name = "events", .capacity = 10000});
  weir::JobBuilder b("embed-service");
  b.AddSource(events, "events")
      .Uid("events")
      .KeyBy([](const Event& e) { return e.user; })
      .Process<Event>(
          std::function<std::unique_ptr<
              weir::KeyedProcessFunction<std::string, Event, Event>>()>(
              [] { return std::make_unique<TotalPerUser>(); }))
      .Uid("totals")
      .SinkTo([](const Event& e) {
        if (e.amount >= 1000) {
          std::printf("%s reached %lld\n", e.user.c_str(),
                      static_cast<long long>(e.amount));
        }
      });
  weir::JobOptions options;
  options.backend = weir::JobOptions::Backend::kRocksDB;
  options.local_dir = dir + "/local";
  options.checkpoints.dir = dir + "/checkpoints";
  options.checkpoints.interval_ms = 500;
  options.restore_from = restore;
  auto job = b.Build(options);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().ToString().c_str());
    return 1;
  }
  if (weir::Status s = (*job)->Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  if (weir::Status s = events->WaitReady(30s); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("job %s; durable up to position %lld; checkpoints in %s/%s\n",
              (*job)->id().ToHex().c_str(),
              static_cast<long long>(events->durable_position()),
              options.checkpoints.dir.c_str(), (*job)->id().ToHex().c_str());

  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 64) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  Service service(events, job->get());
  for (;;) {
    const int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::thread([fd, &service] {
      std::string method, path, body;
      if (ReadRequest(fd, &method, &path, &body)) {
        const std::string reply = service.Handle(method, path, body);
        size_t sent = 0;
        while (sent < reply.size()) {
          const ssize_t n = write(fd, reply.data() + sent, reply.size() - sent);
          if (n <= 0) break;
          sent += static_cast<size_t>(n);
        }
      }
      close(fd);
    }).detach();
  }
}
