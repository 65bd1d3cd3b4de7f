// SPDX-License-Identifier: GPL-2.0
#include "events/handover.h"

#include <string.h>

void cgp_handover_begin(struct cgp_handover *h, struct cgp_agent_state *pinned, const char *instance_id, unsigned flags,
			const struct cgp_spool *sp)
{
	struct cgp_previous_instance *p = &h->prev;
	struct cgp_spool_previous sprev = {0};
	struct cgp_spool_stats st = {0};
	bool owed = false, on_disk = false;

	memset(h, 0, sizeof(*h));
	h->pinned = pinned;
	if (sp) {
		cgp_spool_previous(sp, &sprev);
		cgp_spool_get_stats(sp, &st);
		p->spool_replayed = st.replayed;
		p->spool_corrupt = st.journal.replay.corrupt_records;
	}
	if (pinned && pinned->instance_id[0] && memchr(pinned->instance_id, '\0', sizeof(pinned->instance_id))) {
		/* exact even for an agent killed without warning: it was kept current every loop turn */
		strcpy(p->instance_id, pinned->instance_id);
		p->last_seq = pinned->last_seq;
		p->acked_seq = pinned->acked_seq;
		owed = pinned->flags & CGP_AGENT_COLLECTOR;
		on_disk = sprev.found && !strcmp(sprev.instance_id, p->instance_id);
	} else if (sprev.found) {
		/* no pins (or a reboot took them): the spool directory is all there is */
		strcpy(p->instance_id, sprev.instance_id);
		p->last_seq = sprev.last_seq;
		p->acked_seq = sprev.acked_seq;
		owed = on_disk = true;
	}
	if (on_disk && sprev.acked_seq > p->acked_seq)
		p->acked_seq = sprev.acked_seq;
	/* handed over: nothing was owed, or everything after the acknowledgement is on disk or reported dropped */
	p->handed_over = p->instance_id[0] && (!owed || p->acked_seq >= p->last_seq ||
					       (on_disk && !sprev.lost && sprev.covered_seq >= p->last_seq));
	if (pinned) {
		memset(pinned, 0, sizeof(*pinned));
		strncpy(pinned->instance_id, instance_id, sizeof(pinned->instance_id) - 1);
		pinned->flags = flags;
	}
}

void cgp_handover_note(struct cgp_handover *h, uint64_t last_seq, uint64_t acked_seq)
{
	if (!h->pinned)
		return;
	h->pinned->last_seq = last_seq;
	h->pinned->acked_seq = acked_seq;
}
