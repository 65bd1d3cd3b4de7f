/* SPDX-License-Identifier: GPL-2.0 */
/* libcurl, loaded (dlopen) the first time a sink needs it and kept for the life of the process. Linked in,
 * Debian's libcurl and the twenty libraries it pulls in would cost every agent ~3 MiB of resident memory at
 * start, used or not; loaded, only an agent given --alertmanager pays. The functions keep libcurl's names
 * without the curl_ prefix; types and constants come from <curl/curl.h>. */
#ifndef CGP_CURL_LOAD_H
#define CGP_CURL_LOAD_H

#include <curl/curl.h>
#include <stddef.h>

struct cgp_curl {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev_bitmask, int *running);
	CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *e, CURLoption o, ...); /* no type checks: long, pointer, curl_off_t as due */
	CURLcode (*easy_getinfo)(CURL *e, CURLINFO i, ...);
	void (*easy_cleanup)(CURL *e);
	const char *(*easy_strerror)(CURLcode c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* libcurl's functions, or NULL with the reason (the library or a function missing) in why. */
const struct cgp_curl *cgp_curl_load(char *why, size_t whylen);

#endif
