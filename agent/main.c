// SPDX-License-Identifier: GPL-2.0
/* cgpulse: command line. Each subcommand lives in its own file (snapshot.c, run.c, playbook_cmd.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "caps.h"
#include "commands.h"
#include "collect/loader.h"
#include "lib/log.h"
#include "syscall_filter.h"

static const char usage[] =
    "Usage: cgpulse COMMAND [OPTIONS]\n"
    "\n"
    "eBPF per-cgroup CPU, memory and OOM-kill telemetry.\n"
    "\n"
    "Commands:\n"
    "  snapshot           attach, measure one window, print one row per cgroup, exit\n"
    "  run                sample every interval and report OOM kills as they happen, until SIGINT/SIGTERM\n"
    "  cleanup            remove what an agent left pinned under the pin dir (links detach with it)\n"
    "  playbook check FILE   validate a playbook: file:line:column: reason on error, exit 1\n"
    "  playbook show      print the playbook in force (the embedded default, or --playbook FILE)\n"
    "  playbook export --prometheus-rules [--rate-window D]   the playbook in force as a Prometheus rule file\n"
    "                     over /metrics/cadvisor's series (rates over D, default 1m; see README)\n"
    "  top                a live table of the node's containers (cgpulse top --help)\n"
    "  version            print the version\n"
    "\n"
    "Options:\n"
    "  --window SECONDS   snapshot: length of the measured window (default 1)\n"
    "  --interval SECONDS run: sampling interval (default 1)\n"
    "  --iterations N     run: exit after N intervals (default: run until a signal)\n"
    "  --json             one JSON object per line instead of text\n"
    "  --stdout WHAT      run: what goes to stdout: all (default), events (all but the samples: OOM kills,\n"
    "                     alerts, cgroups started/stopped, drops; a DaemonSet's log) or none. The collector,\n"
    "                     /v1/events and /metrics get every sample either way\n"
    "  --pin-dir DIR      where maps and links are pinned (run default " CGP_DEFAULT_PIN_DIR
    "; snapshot pins nothing unless given)\n"
    "  --no-pin           run: pin nothing\n"
    "  --keep-pins        run: leave maps and links pinned at exit, so the next agent keeps counters and\n"
    "                     queued OOM events (a DaemonSet upgrade)\n"
    "  --playbook FILE    run: the alert rules (YAML, see README); default: the embedded playbook.\n"
    "                     SIGHUP reloads it; a bad file is refused and the old one stays\n"
    "  --collector HOST:PORT  run: push events to a cgpulse-collector (batched, zlib, acknowledged, resent\n"
    "                     after a reconnect from a bounded spool)\n"
    "  --collector-token-file FILE  run: send the token in FILE to the collector first on every connection\n"
    "                     (its --token-file); read again on each connect, so a rotated Secret is picked up\n"
    "  --collector-tls    run: TLS to the collector, verified against the system's CA certificates\n"
    "  --collector-tls-ca FILE    run: TLS to the collector, verified against the CA certificates in FILE (PEM)\n"
    "  --collector-tls-server-name NAME   run: the name the collector's certificate must carry (and SNI);\n"
    "                     default: the host of --collector\n"
    "  --spool-bytes N    run: bound of the collector spool (default 64 MiB), in memory and in --spool-dir;\n"
    "                     when full, samples go first\n"
    "  --spool-dir DIR    run: keep unacknowledged events in DIR too (append-only segments, 0600), so that a\n"
    "                     restarted agent sends what this one could not, under its instance id; needs\n"
    "                     --collector. Default: in memory only\n"
    "  --http ADDR:PORT   run: serve /metrics, /v1/events?since=SEQ and /healthz there (default\n"
    "                     127.0.0.1:24785, loopback only; 0.0.0.0:24785 for the network; \"off\" for none)\n"
    "  --http-tls-cert FILE, --http-tls-key FILE   run: HTTPS only, with this PEM certificate (chain) and key;\n"
    "                     changed files are taken for new connections without a restart\n"
    "  --http-token-file FILE   run: /v1/events wants \"Authorization: Bearer TOKEN\" with the token in FILE\n"
    "                     (401 without, 403 wrong; reread when it changes); /healthz stays open\n"
    "  --http-auth-metrics  run: /metrics and /metrics/cadvisor want the token too\n"
    "  --http-max-connections N  run: connections served at once (default 64); more get /healthz only\n"
    "  --http-max-per-client N   run: connections of one client address (IPv6: one /64) (default 8)\n"
    "  --http-header-timeout SECONDS  run: a request's headers, TLS handshake included, must be complete\n"
    "                     within this long of the connection (or its last request) (default 10)\n"
    "  --alertmanager URL run: post every playbook alert to this Alertmanager (API v2; repeat the flag for\n"
    "                     each one of an HA pair: alerts are not gossiped); http://HOST:PORT or https://...\n"
    "  --alertmanager-resend SECONDS     post a firing alert again this often (default 60; keep it below\n"
    "                     Alertmanager's resolve_timeout, 5m by default)\n"
    "  --alertmanager-min-firing SECONDS hold a resolve back until the alert was active this long, so that\n"
    "                     Alertmanager's group_wait has passed and someone was notified (default 60)\n"
    "  --alertmanager-queue N            alerts kept for Alertmanager: firing, and resolves not yet\n"
    "                     delivered (default 1024); past it, drops are counted\n"
    "  --alertmanager-ca FILE            CA certificates to verify an https Alertmanager (default: the system's)\n"
    "  --alertmanager-bearer-token-file FILE   send Authorization: Bearer with the token in FILE\n"
    "  --alertmanager-user USER          basic auth, with the password in --alertmanager-password-file FILE\n"
    "  --alertmanager-password-file FILE (files are read again when they change)\n"
    "  --alertmanager-generator-url URL  the alerts' generatorURL (default: http://NODE:PORT/metrics of --http)\n"
    "  --metrics-cgroups all|containers|GLOB  run: which cgroups get series on /metrics/cadvisor: containers,\n"
    "                     their pods' cgroups and the root as the kubelet (containers, the default), every cgroup\n"
    "                     (all), or those and every cgroup whose path matches GLOB ('*' matches '/' too)\n"
    "  --metrics-max-cgroups N  run: at most N cgroups with series on /metrics/cadvisor (default 10000); the\n"
    "                     ones past it are counted on /metrics (cgpulse_cadvisor_cgroups_over_cap)\n"
    "  --node NAME        node name carried by every event (default: $NODE_NAME, else the host name)\n"
    "  --containerd-state DIR      containerd's state dir (default /run/containerd)\n"
    "  --containerd-namespaces L   comma-separated containerd namespaces (default k8s.io,default,moby)\n"
    "  --runc-root LIST   comma-separated runc --root dirs (default /run/runc)\n"
    "  --crio-root DIR    CRI-O's containers dir (default /var/lib/containers/storage/overlay-containers)\n"
    "  --podman-root DIR  podman's containers dir (default as CRI-O's)\n"
    "  --docker-root DIR  Docker's containers dir (default /var/lib/docker/containers)\n"
    "                     (container names come from these, never from the API server)\n"
    "  --max-cgroups N    size of the per-cgroup maps (default 8192); cgroups past it are counted, not lost\n"
    "                     silently\n"
    "  --keep-caps        run: keep every capability (by default all are dropped once the programs are\n"
    "                     attached; CAP_BPF stays only on kernels that want it for bpf() on held fds)\n"
    "  --seccomp MODE     run: after attaching, the loop may make only the syscalls it needs: enforce (the\n"
    "                     default: another ends the agent, naming it), log (allowed, and logged by the kernel:\n"
    "                     dmesg | grep type=1326), off\n"
    "  -v, --verbose      debug logs, libbpf's included\n"
    "  -h, --help         this text\n";

int cgp_cmd_top(int argc, char **argv)
{
	char self[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);

	(void)argc; /* argv ends with NULL, as execv wants */
	if (n <= 0) {
		cgp_err("top: cannot find where cgpulse is installed: %s", strerror(errno));
		return 1;
	}
	self[n] = 0;
	slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "cgpulse-top");
	argv[0] = (char *)"cgpulse-top";
	execv(self, argv);
	cgp_err("top: cannot run %s: %s", self, strerror(errno));
	return 1;
}

static int parse_double(const char *flag, const char *s, double min, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || *out < min) {
		cgp_err("%s: '%s' is not a number >= %g", flag, s, min);
		return -EINVAL;
	}
	return 0;
}

/* A whole number from 1 to 65536. */
static int parse_count(const char *flag, const char *s, unsigned *out)
{
	double d;

	if (parse_double(flag, s, 1, &d))
		return -EINVAL;
	if (d > 65536 || d != (unsigned)d) {
		cgp_err("%s: '%s' is not a whole number from 1 to 65536", flag, s);
		return -EINVAL;
	}
	*out = (unsigned)d;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"window", required_argument, NULL, 'w'},
	    {"interval", required_argument, NULL, 'i'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"no-pin", no_argument, NULL, 'P'},
	    {"keep-pins", no_argument, NULL, 'k'},
	    {"keep-caps", no_argument, NULL, 'K'},
	    {"max-cgroups", required_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"playbook", required_argument, NULL, 'b'},
	    {"collector", required_argument, NULL, 'c'},
	    {"collector-token-file", required_argument, NULL, 1201},
	    {"collector-tls", no_argument, NULL, 1202},
	    {"collector-tls-ca", required_argument, NULL, 1203},
	    {"collector-tls-server-name", required_argument, NULL, 1204},
	    {"spool-bytes", required_argument, NULL, 's'},
	    {"spool-dir", required_argument, NULL, 1007},
	    {"node", required_argument, NULL, 'N'},
	    {"http", required_argument, NULL, 'H'},
	    {"containerd-state", required_argument, NULL, 1001},
	    {"containerd-namespaces", required_argument, NULL, 1002},
	    {"runc-root", required_argument, NULL, 1003},
	    {"crio-root", required_argument, NULL, 1004},
	    {"podman-root", required_argument, NULL, 1005},
	    {"docker-root", required_argument, NULL, 1006},
	    {"seccomp", required_argument, NULL, 1108},
	    {"http-tls-cert", required_argument, NULL, 1101},
	    {"http-tls-key", required_argument, NULL, 1102},
	    {"http-token-file", required_argument, NULL, 1103},
	    {"http-auth-metrics", no_argument, NULL, 1104},
	    {"http-max-connections", required_argument, NULL, 1105},
	    {"http-max-per-client", required_argument, NULL, 1106},
	    {"http-header-timeout", required_argument, NULL, 1107},
	    {"alertmanager", required_argument, NULL, 1010},
	    {"alertmanager-resend", required_argument, NULL, 1011},
	    {"alertmanager-min-firing", required_argument, NULL, 1012},
	    {"alertmanager-queue", required_argument, NULL, 1013},
	    {"alertmanager-ca", required_argument, NULL, 1014},
	    {"alertmanager-bearer-token-file", required_argument, NULL, 1015},
	    {"alertmanager-user", required_argument, NULL, 1016},
	    {"alertmanager-password-file", required_argument, NULL, 1017},
	    {"alertmanager-generator-url", required_argument, NULL, 1018},
	    {"metrics-cgroups", required_argument, NULL, 1020},
	    {"prometheus-rules", no_argument, NULL, 1022},
	    {"rate-window", required_argument, NULL, 1023},
	    {"metrics-max-cgroups", required_argument, NULL, 1021},
	    {"stdout", required_argument, NULL, 1024},
	    {},
	};
	struct cgp_opts o = {
	    .window_s = 1,
	    .interval_s = 1,
	    .spool_bytes = 64ULL << 20,
	    .roots = cgp_meta_default_roots,
	    .am = {.resend_s = 60, .min_firing_s = 60, .max_alerts = 1024},
	};
	const char *cmd, *missing;
	char why[256];
	bool no_pin = false, pin_given = false;
	double d;
	int c, err;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "top")) /* a client of the running agent, with flags of its own */
		return cgp_cmd_top(argc - 1, argv + 1);
	optind = 2;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_double("--window", optarg, 0, &o.window_s))
				return 2;
			break;
		case 'i':
			if (parse_double("--interval", optarg, 0.01, &o.interval_s))
				return 2;
			break;
		case 'n':
			if (parse_double("--iterations", optarg, 1, &d))
				return 2;
			o.iterations = (uint64_t)d;
			break;
		case 'm':
			if (parse_double("--max-cgroups", optarg, 16, &d))
				return 2;
			o.max_cgroups = (uint32_t)d;
			break;
		case 'j':
			o.json = true;
			break;
		case 1024:
			if (!strcmp(optarg, "all"))
				o.stdout_what = CGP_STDOUT_ALL;
			else if (!strcmp(optarg, "events"))
				o.stdout_what = CGP_STDOUT_EVENTS;
			else if (!strcmp(optarg, "none"))
				o.stdout_what = CGP_STDOUT_NONE;
			else {
				cgp_err("--stdout: '%s' is not all, events or none", optarg);
				return 2;
			}
			break;
		case 'b':
			o.playbook = optarg;
			break;
		case 'c':
			o.collector = optarg;
			break;
		case 1201:
			o.collector_token_file = optarg;
			break;
		case 1202:
			o.collector_tls = true;
			break;
		case 1203:
			o.collector_tls_ca = optarg;
			break;
		case 1204:
			o.collector_tls_server_name = optarg;
			break;
		case 1001:
			o.roots.containerd_state = optarg;
			break;
		case 1002:
			o.roots.containerd_namespaces = optarg;
			break;
		case 1003:
			o.roots.runc_roots = optarg;
			break;
		case 1004:
			o.roots.crio_containers = optarg;
			break;
		case 1005:
			o.roots.podman_containers = optarg;
			break;
		case 1006:
			o.roots.docker_containers = optarg;
			break;
		case 1007:
			o.spool_dir = optarg;
			break;
		case 1010:
			if (o.am.n_urls == CGP_AM_MAX_URLS) {
				cgp_err("--alertmanager: at most %d", CGP_AM_MAX_URLS);
				return 2;
			}
			o.am.urls[o.am.n_urls++] = optarg;
			break;
		case 1011:
			if (parse_double("--alertmanager-resend", optarg, 1, &o.am.resend_s))
				return 2;
			break;
		case 1012:
			if (parse_double("--alertmanager-min-firing", optarg, 0, &o.am.min_firing_s))
				return 2;
			break;
		case 1013:
			if (parse_double("--alertmanager-queue", optarg, 1, &d))
				return 2;
			o.am.max_alerts = (size_t)d;
			break;
		case 1014:
			o.am.ca_file = optarg;
			break;
		case 1015:
			o.am.bearer_token_file = optarg;
			break;
		case 1016:
			o.am.user = optarg;
			break;
		case 1017:
			o.am.password_file = optarg;
			break;
		case 1018:
			o.am.generator_url = optarg;
			break;
		case 1020:
			if (cgp_cadvisor_parse_select(optarg, &o.cadvisor, why, sizeof(why))) {
				cgp_err("--metrics-cgroups: %s", why);
				return 2;
			}
			break;
		case 1021:
			if (parse_double("--metrics-max-cgroups", optarg, 1, &d))
				return 2;
			o.cadvisor.max_cgroups = (size_t)d;
			break;
		case 1022:
			o.prometheus_rules = true;
			break;
		case 1023:
			o.rate_window = optarg;
			break;
		case 'N':
			o.node = optarg;
			break;
		case 1108:
			o.seccomp = cgp_seccomp_mode_parse(optarg);
			if (o.seccomp < 0) {
				cgp_err("--seccomp: '%s' is none of enforce, log, off", optarg);
				return 2;
			}
			break;
		case 1101:
			o.http_tls_cert = optarg;
			break;
		case 1102:
			o.http_tls_key = optarg;
			break;
		case 1103:
			o.http_token_file = optarg;
			break;
		case 1104:
			o.http_auth_metrics = true;
			break;
		case 1105:
			if (parse_count("--http-max-connections", optarg, &o.http_max_connections))
				return 2;
			break;
		case 1106:
			if (parse_count("--http-max-per-client", optarg, &o.http_max_per_client))
				return 2;
			break;
		case 1107:
			if (parse_count("--http-header-timeout", optarg, &o.http_header_timeout_s))
				return 2;
			break;
		case 'H':
			o.http = optarg;
			break;
		case 's':
			if (parse_double("--spool-bytes", optarg, 4096, &d))
				return 2;
			o.spool_bytes = (uint64_t)d;
			break;
		case 'p':
			o.pin_dir = optarg;
			pin_given = true;
			break;
		case 'P':
			no_pin = true;
			break;
		case 'k':
			o.keep_pins = true;
			break;
		case 'K':
			o.keep_caps = true;
			break;
		case 'v':
			cgp_verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!strcmp(cmd, "playbook")) { /* needs no privileges */
		const char *verb = optind < argc ? argv[optind++] : "show";
		const char *file = optind < argc ? argv[optind++] : o.playbook;

		if (optind < argc) {
			cgp_err("unexpected argument '%s' (see --help)", argv[optind]);
			return 2;
		}
		return cgp_cmd_playbook(verb, file, &o) ? 1 : 0;
	}
	if (optind < argc) {
		cgp_err("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (!o.am.n_urls &&
	    (o.am.ca_file || o.am.bearer_token_file || o.am.user || o.am.password_file || o.am.generator_url)) {
		cgp_err("--alertmanager-* options need an --alertmanager URL");
		return 2;
	}
	if (!strcmp(cmd, "version")) {
		printf("cgpulse %s\n", CGP_VERSION);
		return 0;
	}
	if (strcmp(cmd, "snapshot") && strcmp(cmd, "run") && strcmp(cmd, "cleanup")) {
		cgp_err("unknown command '%s' (see --help)", cmd);
		return 2;
	}
	missing = cgp_missing_capability();
	if (missing) {
		cgp_err("missing capability %s: run as root or grant it (see README, Privileges)", missing);
		return 1;
	}
	if (!strcmp(cmd, "cleanup")) {
		err = cgp_bpf_unpin_dir(pin_given ? o.pin_dir : CGP_DEFAULT_PIN_DIR);
		if (err)
			cgp_err("cleanup: %s", strerror(-err));
		return err ? 1 : 0;
	}
	if ((o.collector_token_file || o.collector_tls || o.collector_tls_ca || o.collector_tls_server_name) &&
	    !o.collector) {
		cgp_err("--collector-token-file and --collector-tls* need --collector");
		return 2;
	}
	if (o.spool_dir && !o.collector) {
		cgp_err("--spool-dir keeps what the collector has not acknowledged: it needs --collector");
		return 2;
	}
	if (o.spool_dir && o.spool_bytes < (64u << 10)) {
		cgp_err("--spool-bytes: at least 65536 with --spool-dir");
		return 2;
	}
	if (!strcmp(cmd, "run") && !pin_given && !no_pin)
		o.pin_dir = CGP_DEFAULT_PIN_DIR;
	if (no_pin)
		o.pin_dir = NULL;
	err = !strcmp(cmd, "snapshot") ? cgp_cmd_snapshot(&o) : cgp_cmd_run(&o);
	return err ? 1 : 0;
}
