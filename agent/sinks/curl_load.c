// SPDX-License-Identifier: GPL-2.0
#include "sinks/curl_load.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LIBCURL "libcurl.so.4" /* Debian's libcurl4: the soname every libcurl 7 and 8 keeps */

#define SYM(f)                                                                                                         \
	{                                                                                                              \
		"curl_" #f, offsetof(struct cgp_curl, f)                                                               \
	}

static const struct {
	const char *name;
	size_t off;
} syms[] = {
    SYM(global_init),	  SYM(global_cleanup),	 SYM(multi_init),	   SYM(multi_setopt),
    SYM(multi_cleanup),	  SYM(multi_add_handle), SYM(multi_remove_handle), SYM(multi_socket_action),
    SYM(multi_info_read), SYM(easy_init),	 SYM(easy_setopt),	   SYM(easy_getinfo),
    SYM(easy_cleanup),	  SYM(easy_strerror),	 SYM(slist_append),	   SYM(slist_free_all),
};

static struct cgp_curl curl;
static bool loaded;

const struct cgp_curl *cgp_curl_load(char *why, size_t whylen)
{
	/* never closed: OpenSSL, under libcurl, keeps exit handlers of its own */
	void *h;

	if (loaded)
		return &curl;
	h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, whylen, "cannot load %s (Debian: apt-get install libcurl4): %s", LIBCURL, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			snprintf(why, whylen, "%s has no %s: too old a libcurl", LIBCURL, syms[i].name);
			dlclose(h);
			return NULL;
		}
		memcpy((char *)&curl + syms[i].off, &p, sizeof(p));
	}
	loaded = true;
	return &curl;
}
