/* The one layer of CO-RE kernel reads used by wirespan.bpf.c.
 *
 * Every access to a kernel structure goes through here so that a kernel whose layout differs needs
 * changes in one file only. All reads are BPF_CORE_READ (relocated, fault-tolerant probe reads): a
 * field that reads as zero makes the caller skip the socket rather than fail verification.
 */
#ifndef WIRESPAN_BPF_CORE_READ_BPF_H_
#define WIRESPAN_BPF_CORE_READ_BPF_H_

// clang-format off
#include "vmlinux.h" /* first: every other kernel header relies on its types */
// clang-format on

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/events.h"

#define WS_AF_INET 2
#define WS_AF_INET6 10
#define WS_SOCK_STREAM 1
#define WS_IPPROTO_TCP 6
#define WS_S_IFMT 00170000
#define WS_S_IFSOCK 0140000

/* Argument n of the current syscall, from the user registers saved at syscall entry (x86-64
 * order: rdi, rsi, rdx, r10, r8, r9). They survive until the syscall returns, so a sys_exit
 * program can recover arguments whose sys_enter it never saw: a read already blocked in the
 * kernel when the agent attached. */
static __always_inline __u64 ws_syscall_arg(struct pt_regs* regs, int n) {
  switch (n) {
    case 0: return BPF_CORE_READ(regs, di);
    case 1: return BPF_CORE_READ(regs, si);
    case 2: return BPF_CORE_READ(regs, dx);
    case 3: return BPF_CORE_READ(regs, r10);
    case 4: return BPF_CORE_READ(regs, r8);
    default: return BPF_CORE_READ(regs, r9);
  }
}

/* fd -> struct file * of the given task, or NULL. fdt->fd[fd] comes back from the verifier as a
 * scalar on this kernel, so the slot is read with bpf_probe_read_kernel. */
static __always_inline struct file* ws_fd_to_file(struct task_struct* task, int fd) {
  if (fd < 0) return NULL;
  struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt) return NULL;
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned int)fd >= max_fds) return NULL;
  struct file** slots = BPF_CORE_READ(fdt, fd);
  struct file* f = NULL;
  if (!slots || bpf_probe_read_kernel(&f, sizeof(f), &slots[fd])) return NULL;
  return f;
}

/* The struct sock behind fd if it is a TCP stream socket over IPv4 or IPv6, else NULL. UDP, unix
 * sockets, pipes and files all end here, which is what keeps non-TCP traffic out of the ring. */
static __always_inline struct sock* ws_tcp_sock_from_fd(struct task_struct* task, int fd) {
  struct file* f = ws_fd_to_file(task, fd);
  if (!f) return NULL;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & WS_S_IFMT) != WS_S_IFSOCK) return NULL;
  struct socket* sock = BPF_CORE_READ(f, private_data);
  if (!sock) return NULL;
  if (BPF_CORE_READ(sock, type) != WS_SOCK_STREAM) return NULL;
  struct sock* sk = BPF_CORE_READ(sock, sk);
  if (!sk) return NULL;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != WS_AF_INET && family != WS_AF_INET6) return NULL;
  /* sk_protocol was a bitfield before 5.6: the probed bitfield read handles both layouts. */
  __u64 protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
  if (protocol != WS_IPPROTO_TCP) return NULL;
  return sk;
}

/* Ports in host order, addresses in network order (IPv4 in the first 4 bytes). IPv4-mapped IPv6
 * sockets are reported as AF_INET6 with the mapped address, as the kernel holds them. */
static __always_inline void ws_read_tuple(struct sock* sk, struct ws_tuple* t) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  t->family = family;
  t->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  t->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  t->pad = 0;
  if (family == WS_AF_INET) {
    bpf_core_read(t->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
    bpf_core_read(t->remote_addr, 4, &sk->__sk_common.skc_daddr);
  } else {
    bpf_core_read(t->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    bpf_core_read(t->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
  }
}

/* Sequence number after the last byte the application wrote (egress) or read (ingress). */
static __always_inline __u32 ws_tcp_write_seq(struct sock* sk) {
  return BPF_CORE_READ((struct tcp_sock*)sk, write_seq);
}

static __always_inline __u32 ws_tcp_copied_seq(struct sock* sk) {
  return BPF_CORE_READ((struct tcp_sock*)sk, copied_seq);
}

struct ws_ns_ids {
  __u32 pid;
  __u32 mnt;
  __u32 net;
};

/* Namespace inodes as /proc/PID/ns/{pid,mnt,net} show them. The pid namespace is the task's own
 * (task_active_pid_ns: thread_pid->numbers[level].ns), not nsproxy's pid_ns_for_children. */
static __always_inline void ws_read_ns(struct task_struct* task, struct ws_ns_ids* ns) {
  struct pid* pid = BPF_CORE_READ(task, thread_pid);
  unsigned int level = BPF_CORE_READ(pid, level);
  struct upid upid = {};
  bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
  ns->pid = BPF_CORE_READ(upid.ns, ns.inum);
  ns->mnt = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
  ns->net = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

static __always_inline __u32 ws_task_ppid(struct task_struct* task) {
  return BPF_CORE_READ(task, real_parent, tgid);
}

#endif /* WIRESPAN_BPF_CORE_READ_BPF_H_ */
