// Reads TCP connections out of a small loopback capture (test fixtures): payload segments in
// capture order, per connection, with their direction. In-order delivery is assumed (loopback);
// retransmitted bytes are trimmed by sequence number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wirespan::testing {

struct TcpSegment {
  bool from_client = false;  // sent by the side that sent the SYN
  std::string bytes;
  uint64_t ts_ns = 0;
};

struct TcpConnection {
  uint16_t client_port = 0;
  uint16_t server_port = 0;
  std::vector<TcpSegment> segments;
};

// Empty with `error` set when the file cannot be read.
std::vector<TcpConnection> ReadTcpConnections(const std::string& path, std::string* error);

}  // namespace wirespan::testing
