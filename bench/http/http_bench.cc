// HTTP decoder throughput on realistic streams: keep-alive API traffic (GETs with typical
// browser/SDK headers and JSON answers, JSON POSTs, chunked answers), fed in read-sized chunks
// through the ConnectionDecoder, spans made and discarded.
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/http/decoder.h"

namespace {

using namespace wirespan::decoders;

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override { benchmark::DoNotOptimize(span); }
};

struct Workload {
  std::vector<std::pair<std::string, std::string>> exchanges;  // request, response
  size_t bytes = 0;
};

Workload MakeWorkload(size_t exchanges, size_t response_body) {
  Workload w;
  const std::string json(response_body, 'j');
  for (size_t i = 0; i < exchanges; ++i) {
    std::string req, resp;
    switch (i % 3) {
      case 0:
        req += "GET /api/v1/users/" + std::to_string(i) +
               "?fields=name,email&expand=true HTTP/1.1\r\nHost: users.internal:8080\r\n"
               "User-Agent: python-requests/2.28.1\r\nAccept-Encoding: gzip, deflate\r\n"
               "Accept: */*\r\nConnection: keep-alive\r\n"
               "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
               "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig\r\n\r\n";
        resp +=
            "HTTP/1.1 200 OK\r\nServer: uvicorn\r\nDate: Sat, 21 Nov 2026 05:00:00 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(json.size()) + "\r\n\r\n" + json;
        break;
      case 1: {
        const std::string body = "{\"name\":\"widget\",\"qty\":" + std::to_string(i) + "}";
        req +=
            "POST /api/v1/orders HTTP/1.1\r\nHost: orders.internal\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\nUser-Agent: aiohttp/3.8\r\n\r\n" + body;
        resp +=
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            "Content-Length: 15\r\n\r\n{\"id\":12345678}";
        break;
      }
      case 2:
        req += "GET /stream HTTP/1.1\r\nHost: feed.internal\r\n\r\n";
        resp += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (size_t left = response_body; left > 0;) {
          const size_t n = std::min<size_t>(left, 1000);
          char line[32];
          snprintf(line, sizeof(line), "%zx\r\n", n);
          resp += line + std::string(n, 'c') + "\r\n";
          left -= n;
        }
        resp += "0\r\n\r\n";
        break;
    }
    w.bytes += req.size() + resp.size();
    w.exchanges.emplace_back(std::move(req), std::move(resp));
  }
  return w;
}

// Each exchange: the request in `read`-byte reads, then the response; spans emitted as they
// complete (keep-alive, one connection, server side).
void BM_HttpDecoder(benchmark::State& state) {
  const size_t body = static_cast<size_t>(state.range(0));
  const size_t chunk = static_cast<size_t>(state.range(1));
  const Workload w = MakeWorkload(300, body);
  ConnectionInfo conn;
  conn.role = Role::kServer;
  conn.local_address = "10.0.0.1";
  conn.local_port = 8080;
  conn.remote_address = "10.0.0.2";
  conn.remote_port = 50000;
  NullSink sink;
  DecoderStats stats;
  for (auto _ : state) {
    auto decoder = http::CreateDecoder(Role::kServer, DecoderOptions{}, &stats);
    DataStream streams[2];
    uint64_t pos[2] = {0, 0};
    uint64_t now = 1;
    auto feed = [&](int side, std::string_view bytes) {
      const Direction dir = side == 0 ? Direction::kIngress : Direction::kEgress;
      for (size_t off = 0; off < bytes.size(); off += chunk) {
        const std::string_view piece = bytes.substr(off, chunk);
        streams[side].Add(pos[side], piece, piece.size(), {now, now, 1, 0}, now);
        pos[side] += piece.size();
        ++now;
        decoder->OnData(dir, streams[side]);
      }
    };
    for (const auto& [req, resp] : w.exchanges) {
      feed(0, req);
      feed(1, resp);
      decoder->Emit(conn, sink, now, false);
    }
    decoder->Emit(conn, sink, now, true);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.exchanges.size() * 2));
  state.counters["spans_per_iter"] =
      static_cast<double>(stats.spans) / static_cast<double>(state.iterations());
  state.counters["errors"] = static_cast<double>(stats.parse_errors);
}
BENCHMARK(BM_HttpDecoder)
    ->ArgNames({"body", "read"})
    ->Args({64, 4096})
    ->Args({1024, 4096})
    ->Args({16384, 16384})
    ->Args({1024, 100});

// Detection on a first read.
void BM_HttpDetect(benchmark::State& state) {
  const std::string head = "GET /api/v1/users/1?fields=name HTTP/1.1\r\nHost: users\r\n";
  for (auto _ : state) benchmark::DoNotOptimize(http::Detect(head, true));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HttpDetect);

}  // namespace

BENCHMARK_MAIN();
