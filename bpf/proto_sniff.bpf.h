/* In-kernel protocol pre-filter: a cheap look at the first WS_PROTO_SNIFF_LEN bytes of a stream.
 *
 * The question is only "could this be HTTP/1.x, PostgreSQL, Redis or AMQP?". A false "yes" costs
 * ring-buffer bandwidth; a false "no" loses a connection for good, so every rule leans to "yes"
 * and a prefix too short to judge is WS_SNIFF_UNSURE rather than "no". Plain C, no kernel types:
 * the sniffer is pure byte logic over a small stack array with fully unrolled loops.
 */
#ifndef WIRESPAN_BPF_PROTO_SNIFF_BPF_H_
#define WIRESPAN_BPF_PROTO_SNIFF_BPF_H_

#include "bpf/events.h"

enum ws_sniff_verdict {
  WS_SNIFF_NO = 0,
  WS_SNIFF_YES = 1,
  WS_SNIFF_UNSURE = 2, /* too few bytes to tell: judge the next data instead */
};

static __always_inline int ws_is_print(__u8 c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; }

static __always_inline __u32 ws_be32(const __u8* p) {
  return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | (__u32)p[3];
}

/* "HTTP/" (a response) or a request line's method token: 3+ of [A-Z_-] followed by a space. */
static __always_inline int ws_sniff_http(const __u8* b, __u32 n) {
  if (n >= 5 && b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/')
    return WS_SNIFF_YES;
#pragma unroll
  for (int i = 0; i < (int)WS_PROTO_SNIFF_LEN; i++) {
    if (i >= (int)n) return WS_SNIFF_UNSURE; /* all token characters so far */
    __u8 c = b[i];
    if (c == ' ') return i >= 3 ? WS_SNIFF_YES : WS_SNIFF_NO;
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return WS_SNIFF_NO;
  }
  return WS_SNIFF_NO;
}

/* Message type bytes of the PostgreSQL v3 protocol, frontend and backend together. */
static __always_inline int ws_pg_type(__u8 c) {
  switch (c) {
    case '1':
    case '2':
    case '3':
    case 'A':
    case 'B':
    case 'C':
    case 'D':
    case 'E':
    case 'F':
    case 'G':
    case 'H':
    case 'I':
    case 'K':
    case 'N':
    case 'P':
    case 'Q':
    case 'R':
    case 'S':
    case 'T':
    case 'V':
    case 'W':
    case 'X':
    case 'Z':
    case 'c':
    case 'd':
    case 'f':
    case 'n':
    case 'p':
    case 's':
    case 't':
    case 'v':
      return 1;
    default:
      return 0;
  }
}

static __always_inline int ws_sniff_postgres(const __u8* b, __u32 n) {
  /* Untyped startup packets: int32 length, then protocol 3.0 or a special request code. */
  if (n >= 8) {
    __u32 len = ws_be32(b), code = ws_be32(b + 4);
    if (len >= 8 && len < 65536 &&
        (code == 196608 || code == 80877103 || code == 80877104 || code == 80877102))
      return WS_SNIFF_YES;
  } else if (b[0] == 0) {
    return WS_SNIFF_UNSURE; /* a startup length read on its own (servers read 4 bytes first) */
  }
  if (ws_pg_type(b[0])) {
    if (n < 5) return WS_SNIFF_UNSURE;
    __u32 len = ws_be32(b + 1);
    if (len >= 4 && len < (1u << 30)) return WS_SNIFF_YES;
  }
  /* The one-byte answer to SSLRequest/GSSENCRequest. */
  if (n == 1 && (b[0] == 'S' || b[0] == 'N' || b[0] == 'G')) return WS_SNIFF_YES;
  return WS_SNIFF_NO;
}

/* RESP2/RESP3 type byte followed by a digit, '-', '\r' or text; or an inline command: printable
 * ASCII up to \r\n (or up to the end of the sniffed bytes). */
static __always_inline int ws_sniff_redis(const __u8* b, __u32 n) {
  switch (b[0]) {
    case '*':
    case '$':
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
    case '%':
    case '~':
    case '>':
    case '=':
    case '(':
    case '!':
    case '|':
      if (n < 2) return WS_SNIFF_UNSURE;
      if (ws_is_print(b[1]) || b[1] == '\r') return WS_SNIFF_YES;
      break;
    default:
      break;
  }
#pragma unroll
  for (int i = 0; i < (int)WS_PROTO_SNIFF_LEN; i++) {
    if (i >= (int)n) return WS_SNIFF_YES; /* printable all the way */
    __u8 c = b[i];
    if (c == '\r' && i > 0) return WS_SNIFF_YES;
    if (!ws_is_print(c)) return WS_SNIFF_NO;
  }
  return WS_SNIFF_YES;
}

/* "AMQP" protocol header, or a frame: type 1..8, channel (2 bytes), size (4 bytes, plausible). The
 * 0xCE frame-end byte lies beyond the sniffed prefix, so the size bound stands in for it. */
static __always_inline int ws_sniff_amqp(const __u8* b, __u32 n) {
  if (n >= 4 && b[0] == 'A' && b[1] == 'M' && b[2] == 'Q' && b[3] == 'P') return WS_SNIFF_YES;
  if (b[0] >= 1 && b[0] <= 8) {
    if (n < 7) return WS_SNIFF_UNSURE;
    if (ws_be32(b + 3) < (1u << 27)) return WS_SNIFF_YES;
  }
  return WS_SNIFF_NO;
}

/* b holds WS_PROTO_SNIFF_LEN bytes of which the first n (1..16) are data. */
static __always_inline int ws_sniff(const __u8* b, __u32 n) {
  if (n == 0) return WS_SNIFF_UNSURE;
  int unsure = 0;
  int v = ws_sniff_http(b, n);
  if (v == WS_SNIFF_YES) return v;
  unsure |= v == WS_SNIFF_UNSURE;
  v = ws_sniff_postgres(b, n);
  if (v == WS_SNIFF_YES) return v;
  unsure |= v == WS_SNIFF_UNSURE;
  v = ws_sniff_redis(b, n);
  if (v == WS_SNIFF_YES) return v;
  unsure |= v == WS_SNIFF_UNSURE;
  v = ws_sniff_amqp(b, n);
  if (v == WS_SNIFF_YES) return v;
  unsure |= v == WS_SNIFF_UNSURE;
  return unsure ? WS_SNIFF_UNSURE : WS_SNIFF_NO;
}

#endif /* WIRESPAN_BPF_PROTO_SNIFF_BPF_H_ */
