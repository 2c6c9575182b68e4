/*
 * local.h - what the local driver publishes besides its driver_ops table
 * (driver_local in driver.h): the node supervisor, which runs in its own
 * process as the hidden `stratus __node NODE_DIR` (src/cli/cmd_node.c).
 *
 * The driver starts each node of an attempt by exec'ing the stratus binary
 * with that subcommand; see local_node.c for why it execs rather than forks.
 */
#ifndef STRATUS_LOCAL_H
#define STRATUS_LOCAL_H

#include <stddef.h>

/* Run one node whose directory the local driver prepared: claim it, run its
 * setup then its run with bash, record how it ended in node_dir/exit.  Returns
 * only when the node was already claimed by another supervisor (0) or cannot
 * be claimed (an exit status > 0); otherwise the process ends itself together
 * with whatever the job left running. */
int local_node_main(const char *node_dir);

/* 1 when the local world can give each node a network namespace of its own
 * (for replicas that listen on a fixed port: local_net.c); else 0 and why
 * (not root, no `ip`) in why. */
int local_net_usable(char *why, size_t n);

#endif
