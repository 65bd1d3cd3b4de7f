/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's subcommands; main.c parses flags into these options. */
#ifndef CGP_COMMANDS_H
#define CGP_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/version.h"
#include "names/container_meta.h"
#include "sinks/alertmanager.h"
#include "sinks/cadvisor.h"

#define CGP_DEFAULT_PIN_DIR "/sys/fs/bpf/cgpulse"

/* run --stdout: what the agent prints (every sink but stdout gets every event regardless) */
enum cgp_stdout_what { CGP_STDOUT_ALL, CGP_STDOUT_EVENTS, CGP_STDOUT_NONE };

struct cgp_opts {
	double window_s;     /* snapshot */
	double interval_s;   /* run */
	uint64_t iterations; /* run: stop after this many intervals (0: until a signal) */
	bool json;
	int stdout_what;     /* run: enum cgp_stdout_what, what goes to stdout */
	bool keep_pins;	     /* run: leave maps and links pinned on exit for the next agent */
	bool keep_caps;	     /* run: do not drop capabilities after attaching (debugging) */
	int seccomp;	     /* run: enum cgp_seccomp_mode, installed after attaching */
	const char *pin_dir; /* NULL: nothing pinned */
	uint32_t max_cgroups;
	const char *playbook;		  /* run: --playbook FILE; NULL: the embedded default */
	const char *collector;		  /* run: HOST:PORT to push events to; NULL: none */
	const char *collector_token_file; /* run: the token the collector wants (a Hello first); NULL: none */
	bool collector_tls;		  /* run: TLS to the collector (the system's CAs unless collector_tls_ca) */
	const char *collector_tls_ca;	  /* run: CA certificates (PEM) the collector's certificate must chain to */
	const char *collector_tls_server_name; /* run: name its certificate must carry; NULL: the host of --collector */
	uint64_t spool_bytes;		       /* run: bound of unacknowledged events kept for the collector */
	const char *spool_dir; /* run: journal the spool there (survives a restart); NULL: memory only */
	const char *node;      /* node name in events; NULL: $NODE_NAME or the host name */
	const char *http;      /* run: ADDR:PORT of the HTTP endpoint; NULL: the default */
	const char *http_tls_cert, *http_tls_key; /* run: PEM files: HTTPS only */
	const char *http_token_file;		  /* run: the bearer token /v1/events wants */
	bool http_auth_metrics;			  /* run: /metrics wants it too */
	unsigned http_max_connections, http_max_per_client, http_header_timeout_s; /* 0: the defaults */
	struct cgp_meta_roots roots;	  /* where the runtimes keep their state on the node */
	struct cgp_am_cfg am;		  /* run: --alertmanager URL...; am.n_urls 0: none */
	bool prometheus_rules;		  /* playbook export: --prometheus-rules */
	const char *rate_window;	  /* playbook export: --rate-window; NULL: 1m */
	struct cgp_cadvisor_cfg cadvisor; /* run: --metrics-cgroups, --metrics-max-cgroups */
};

int cgp_cmd_snapshot(const struct cgp_opts *o);
int cgp_cmd_run(const struct cgp_opts *o);
/* `cgpulse top`: runs cgpulse-top, installed beside the agent, with the flags given (they are its own). */
int cgp_cmd_top(int argc, char **argv);
/* `cgpulse playbook check FILE` / `show [--playbook FILE]` / `export --prometheus-rules [--playbook FILE]` */
int cgp_cmd_playbook(const char *verb, const char *file, const struct cgp_opts *o);

struct cgp_playbook;
/* The playbook named by `file`, or the embedded default when file is NULL; errors logged as file:line:col. */
int cgp_playbook_open(const char *file, struct cgp_playbook **out);

#endif
