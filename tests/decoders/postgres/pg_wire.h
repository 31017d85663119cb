// Builders for PostgreSQL protocol 3.0 messages, and a harness that feeds them to the decoder
// through real DataStreams (whole, or one byte at a time).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/postgres/decoder.h"
#include "model/span.h"

namespace wirespan::decoders::postgres::wire {

inline std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}
inline std::string Be16(uint16_t v) {
  std::string s(2, '\0');
  s[0] = static_cast<char>(v >> 8);
  s[1] = static_cast<char>(v);
  return s;
}
inline std::string Cstr(std::string_view s) { return std::string(s) + std::string(1, '\0'); }
inline std::string Msg(char tag, const std::string& body) {
  return std::string(1, tag) + Be32(static_cast<uint32_t>(body.size() + 4)) + body;
}

// Frontend.
inline std::string Startup(std::string_view user, std::string_view database) {
  std::string body = Be32(196608) + Cstr("user") + Cstr(user);
  if (!database.empty()) body += Cstr("database") + Cstr(database);
  body += Cstr("application_name") + Cstr("test") + std::string(1, '\0');
  return Be32(static_cast<uint32_t>(body.size() + 4)) + body;
}
inline std::string SslRequest() { return Be32(8) + Be32(80877103); }
inline std::string GssEncRequest() { return Be32(8) + Be32(80877104); }
inline std::string CancelRequest(uint32_t pid, uint32_t key) {
  return Be32(16) + Be32(80877102) + Be32(pid) + Be32(key);
}
inline std::string Password(std::string_view pw) { return Msg('p', Cstr(pw)); }
inline std::string Query(std::string_view sql) { return Msg('Q', Cstr(sql)); }
inline std::string Parse(std::string_view name, std::string_view sql, uint16_t ntypes = 0) {
  std::string body = Cstr(name) + Cstr(sql) + Be16(ntypes);
  for (uint16_t i = 0; i < ntypes; ++i) body += Be32(0);
  return Msg('P', body);
}
inline std::string Bind(std::string_view portal, std::string_view stmt,
                        const std::vector<std::optional<std::string>>& params = {}) {
  std::string body =
      Cstr(portal) + Cstr(stmt) + Be16(0) + Be16(static_cast<uint16_t>(params.size()));
  for (const auto& p : params) {
    if (!p) {
      body += Be32(0xffffffffu);
    } else {
      body += Be32(static_cast<uint32_t>(p->size())) + *p;
    }
  }
  body += Be16(0);
  return Msg('B', body);
}
inline std::string Describe(char type, std::string_view name) {
  return Msg('D', std::string(1, type) + Cstr(name));
}
inline std::string Execute(std::string_view portal, uint32_t max_rows = 0) {
  return Msg('E', Cstr(portal) + Be32(max_rows));
}
inline std::string Close(char type, std::string_view name) {
  return Msg('C', std::string(1, type) + Cstr(name));
}
inline std::string Sync() { return Msg('S', ""); }
inline std::string Flush() { return Msg('H', ""); }
inline std::string Terminate() { return Msg('X', ""); }
inline std::string CopyData(std::string_view data) { return Msg('d', std::string(data)); }
inline std::string CopyDone() { return Msg('c', ""); }

// Backend.
inline std::string AuthOk() { return Msg('R', Be32(0)); }
inline std::string AuthSasl() {
  return Msg('R', Be32(10) + Cstr("SCRAM-SHA-256") + std::string(1, '\0'));
}
inline std::string ParameterStatus(std::string_view k, std::string_view v) {
  return Msg('S', Cstr(k) + Cstr(v));
}
inline std::string BackendKeyData() { return Msg('K', Be32(1234) + Be32(5678)); }
inline std::string Ready(char status = 'I') { return Msg('Z', std::string(1, status)); }
inline std::string ParseComplete() { return Msg('1', ""); }
inline std::string BindComplete() { return Msg('2', ""); }
inline std::string CloseComplete() { return Msg('3', ""); }
inline std::string NoData() { return Msg('n', ""); }
inline std::string PortalSuspended() { return Msg('s', ""); }
inline std::string EmptyQuery() { return Msg('I', ""); }
inline std::string ParamDescription(uint16_t n) {
  std::string body = Be16(n);
  for (uint16_t i = 0; i < n; ++i) body += Be32(23);
  return Msg('t', body);
}
inline std::string RowDescription(std::initializer_list<std::string_view> cols) {
  std::string body = Be16(static_cast<uint16_t>(cols.size()));
  for (auto c : cols)
    body += Cstr(c) + Be32(0) + Be16(0) + Be32(25) + Be16(0xffff) + Be32(0xffffffffu) + Be16(0);
  return Msg('T', body);
}
inline std::string DataRow(std::initializer_list<std::string_view> values) {
  std::string body = Be16(static_cast<uint16_t>(values.size()));
  for (auto v : values) body += Be32(static_cast<uint32_t>(v.size())) + std::string(v);
  return Msg('D', body);
}
inline std::string CommandComplete(std::string_view tag) { return Msg('C', Cstr(tag)); }
inline std::string Error(std::string_view sqlstate, std::string_view message,
                         std::string_view detail = "") {
  std::string body =
      "S" + Cstr("ERROR") + "V" + Cstr("ERROR") + "C" + Cstr(sqlstate) + "M" + Cstr(message);
  if (!detail.empty()) body += "D" + Cstr(detail);
  body += std::string(1, '\0');
  return Msg('E', body);
}
inline std::string Notice(std::string_view message) {
  return Msg(
      'N', "S" + Cstr("NOTICE") + "C" + Cstr("00000") + "M" + Cstr(message) + std::string(1, '\0'));
}
inline std::string Notification(std::string_view channel, std::string_view payload) {
  return Msg('A', Be32(42) + Cstr(channel) + Cstr(payload));
}
inline std::string CopyInResponse(uint16_t ncols) {
  std::string body = std::string(1, '\0') + Be16(ncols);
  for (uint16_t i = 0; i < ncols; ++i) body += Be16(0);
  return Msg('G', body);
}
inline std::string CopyOutResponse(uint16_t ncols) {
  std::string body = std::string(1, '\0') + Be16(ncols);
  for (uint16_t i = 0; i < ncols; ++i) body += Be16(0);
  return Msg('H', body);
}

// Everything a server sends after a successful startup.
inline std::string StartupResponse() {
  return AuthOk() + ParameterStatus("server_version", "15.6") +
         ParameterStatus("client_encoding", "UTF8") + BackendKeyData() + Ready('I');
}

class CollectSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override { spans.push_back(std::move(span)); }
  std::vector<model::Span> spans;
};

// One connection as the decoder sees it: two DataStreams fed with increasing timestamps.
class Harness {
 public:
  explicit Harness(DecoderOptions options = {}, Role role = Role::kClient)
      : options_(options), decoder_(role, options, &stats_) {
    conn_.role = role;
    conn_.conn_id = 7;
    conn_.tgid = 4242;
    if (role == Role::kServer) {
      conn_.local_address = "127.0.0.1";
      conn_.local_port = 5432;
      conn_.remote_address = "127.0.0.1";
      conn_.remote_port = 40000;
    } else {
      conn_.local_address = "127.0.0.1";
      conn_.local_port = 40000;
      conn_.remote_address = "127.0.0.1";
      conn_.remote_port = 5432;
    }
  }

  // Client bytes (frontend); byte_at_a_time feeds them as one-byte chunks with Emit after each.
  void Client(const std::string& bytes, bool byte_at_a_time = false) {
    Feed(true, bytes, byte_at_a_time);
  }
  void Server(const std::string& bytes, bool byte_at_a_time = false) {
    Feed(false, bytes, byte_at_a_time);
  }
  // A gap of n bytes in one direction (bytes the capture never saw).
  void Gap(bool client, uint64_t n) {
    DataStream& s = client ? frontend_ : backend_;
    uint64_t& pos = client ? frontend_pos_ : backend_pos_;
    ts_ += 1000;
    ChunkMeta meta{ts_, ts_ + 10, 1, 0};
    s.Add(pos, "", n, meta, ts_);
    pos += n;
    decoder_.OnData(Dir(client), s);
  }
  std::vector<model::Span>& Finish(bool closed = true) {
    if (closed) {
      frontend_.FlushHoles();
      backend_.FlushHoles();
      decoder_.OnData(Dir(true), frontend_);
      decoder_.OnData(Dir(false), backend_);
    }
    decoder_.Emit(conn_, sink_, ts_ + 1'000'000'000, closed);
    return sink_.spans;
  }
  std::vector<model::Span>& spans() { return sink_.spans; }
  DecoderStats& stats() { return stats_; }
  PostgresDecoder& decoder() { return decoder_; }
  ConnectionInfo& conn() { return conn_; }
  uint64_t now() const { return ts_; }

 private:
  Direction Dir(bool client) const {
    const bool server_role = conn_.role == Role::kServer;
    return client == !server_role ? Direction::kEgress : Direction::kIngress;
  }
  void Feed(bool client, const std::string& bytes, bool byte_at_a_time) {
    DataStream& s = client ? frontend_ : backend_;
    uint64_t& pos = client ? frontend_pos_ : backend_pos_;
    if (!byte_at_a_time) {
      ts_ += 1000;
      ChunkMeta meta{ts_, ts_ + 10, client ? 1u : 2u, static_cast<uint32_t>(pos)};
      s.Add(pos, bytes, bytes.size(), meta, ts_);
      pos += bytes.size();
      decoder_.OnData(Dir(client), s);
      decoder_.Emit(conn_, sink_, ts_, false);
      return;
    }
    for (char c : bytes) {
      ts_ += 1000;
      ChunkMeta meta{ts_, ts_ + 10, client ? 1u : 2u, static_cast<uint32_t>(pos)};
      s.Add(pos, std::string_view(&c, 1), 1, meta, ts_);
      pos += 1;
      decoder_.OnData(Dir(client), s);
      decoder_.Emit(conn_, sink_, ts_, false);
    }
  }

  DecoderOptions options_;
  DecoderStats stats_;
  PostgresDecoder decoder_;
  ConnectionInfo conn_;
  CollectSink sink_;
  DataStream frontend_;
  DataStream backend_;
  uint64_t frontend_pos_ = 1000;
  uint64_t backend_pos_ = 5000;
  uint64_t ts_ = 1'000'000;
};

inline std::string Attr(const model::Span& span, std::string_view key) {
  const model::AttributeValue* v = span.attributes.Find(key);
  if (v == nullptr) return "";
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  if (const auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(v)) return *b ? "true" : "false";
  if (const auto* d = std::get_if<double>(v)) return std::to_string(*d);
  return "";
}

}  // namespace wirespan::decoders::postgres::wire
