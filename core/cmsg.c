/* Payloads of the resource frames, through the bounds-checked wire buffers. */
#include "cmsg.h"
#include "wire.h"

#include <errno.h>

size_t vg_cmsg_op_encode(const struct vg_cmsg_op *m, int result, void *buf, size_t cap)
{
	struct vg_wbuf w;

	vg_wbuf_init(&w, buf, cap);
	vg_wbuf_put_u32(&w, m->to);
	vg_wbuf_put_u64(&w, m->transition);
	vg_wbuf_put_u64(&w, m->dc_incarnation);
	vg_wbuf_put_u32(&w, m->action_id);
	vg_wbuf_put_u32(&w, m->rsc);
	vg_wbuf_put_u8(&w, m->action);
	if (result) {
		vg_wbuf_put_u32(&w, (uint32_t)m->status);
		vg_wbuf_put_u8(&w, m->rc);
		vg_wbuf_put_u64(&w, m->state_version);
	}
	return w.err ? 0 : w.len;
}

int vg_cmsg_op_decode(const void *p, size_t len, int result, struct vg_cmsg_op *m)
{
	struct vg_rbuf r;

	vg_rbuf_init(&r, p, len);
	m->to = vg_rbuf_get_u32(&r);
	m->transition = vg_rbuf_get_u64(&r);
	m->dc_incarnation = vg_rbuf_get_u64(&r);
	m->action_id = vg_rbuf_get_u32(&r);
	m->rsc = vg_rbuf_get_u32(&r);
	m->action = vg_rbuf_get_u8(&r);
	m->status = 0;
	m->rc = 0;
	m->state_version = 0;
	if (result) {
		m->status = (int32_t)vg_rbuf_get_u32(&r);
		m->rc = vg_rbuf_get_u8(&r);
		m->state_version = vg_rbuf_get_u64(&r);
	}
	return r.err ? -EBADMSG : 0;
}

size_t vg_cmsg_req_encode(const struct vg_cmsg_req *m, void *buf, size_t cap)
{
	struct vg_wbuf w;

	vg_wbuf_init(&w, buf, cap);
	vg_wbuf_put_u32(&w, m->to);
	vg_wbuf_put_u64(&w, m->version);
	return w.err ? 0 : w.len;
}

int vg_cmsg_req_decode(const void *p, size_t len, struct vg_cmsg_req *m)
{
	struct vg_rbuf r;

	vg_rbuf_init(&r, p, len);
	m->to = vg_rbuf_get_u32(&r);
	m->version = vg_rbuf_get_u64(&r);
	return r.err ? -EBADMSG : 0;
}

size_t vg_cmsg_state_per_frame(void)
{
	return (VG_WIRE_MAX_PAYLOAD - VG_CMSG_STATE_HDR) / VG_CMSG_RSC_LEN;
}

size_t vg_cmsg_state_encode(const struct vg_cmsg_state *m, void *buf, size_t cap)
{
	struct vg_wbuf w;

	vg_wbuf_init(&w, buf, cap);
	vg_wbuf_put_u64(&w, m->version);
	vg_wbuf_put_u16(&w, m->chunk);
	vg_wbuf_put_u16(&w, m->n_chunks);
	vg_wbuf_put_u8(&w, m->probed);
	vg_wbuf_put_u16(&w, m->n);
	vg_wbuf_put_u32(&w, 0); /* reserved */
	for (uint16_t i = 0; i < m->n; i++) {
		const struct vg_cmsg_rsc *e = &m->entries[i];

		vg_wbuf_put_u32(&w, e->rsc);
		vg_wbuf_put_u8(&w, e->role);
		vg_wbuf_put_u8(&w, e->failed);
		vg_wbuf_put_u32(&w, e->fail_count);
		vg_wbuf_put_u32(&w, e->failure_age_ms);
		vg_wbuf_put_u8(&w, e->last_action);
		vg_wbuf_put_u8(&w, e->last_rc);
		vg_wbuf_put_u8(&w, e->last_timed_out);
		vg_wbuf_put_u32(&w, e->last_age_ms);
	}
	return w.err ? 0 : w.len;
}

int vg_cmsg_state_decode(const void *p, size_t len, struct vg_cmsg_state *m)
{
	struct vg_rbuf r;

	vg_rbuf_init(&r, p, len);
	m->version = vg_rbuf_get_u64(&r);
	m->chunk = vg_rbuf_get_u16(&r);
	m->n_chunks = vg_rbuf_get_u16(&r);
	m->probed = vg_rbuf_get_u8(&r);
	m->n = vg_rbuf_get_u16(&r);
	vg_rbuf_get_u32(&r);
	if (r.err || m->n > vg_cmsg_state_per_frame() || m->chunk >= m->n_chunks)
		return -EBADMSG;
	for (uint16_t i = 0; i < m->n; i++) {
		struct vg_cmsg_rsc *e = &m->entries[i];

		e->rsc = vg_rbuf_get_u32(&r);
		e->role = vg_rbuf_get_u8(&r);
		e->failed = vg_rbuf_get_u8(&r);
		e->fail_count = vg_rbuf_get_u32(&r);
		e->failure_age_ms = vg_rbuf_get_u32(&r);
		e->last_action = vg_rbuf_get_u8(&r);
		e->last_rc = vg_rbuf_get_u8(&r);
		e->last_timed_out = vg_rbuf_get_u8(&r);
		e->last_age_ms = vg_rbuf_get_u32(&r);
	}
	return r.err ? -EBADMSG : 0;
}

size_t vg_cmsg_attrs_per_frame(void)
{
	return VG_WIRE_MAX_PAYLOAD - VG_CMSG_ATTRS_HDR;
}

size_t vg_cmsg_attrs_encode(const struct vg_cmsg_attrs *m, void *buf, size_t cap)
{
	struct vg_wbuf w;

	vg_wbuf_init(&w, buf, cap);
	vg_wbuf_put_u64(&w, m->version);
	vg_wbuf_put_u32(&w, m->origin);
	vg_wbuf_put_u16(&w, m->chunk);
	vg_wbuf_put_u16(&w, m->n_chunks);
	vg_wbuf_put_u16(&w, m->len);
	vg_wbuf_put_bytes(&w, m->bytes, m->len);
	return w.err ? 0 : w.len;
}

int vg_cmsg_attrs_decode(const void *p, size_t len, struct vg_cmsg_attrs *m)
{
	struct vg_rbuf r;

	vg_rbuf_init(&r, p, len);
	m->version = vg_rbuf_get_u64(&r);
	m->origin = vg_rbuf_get_u32(&r);
	m->chunk = vg_rbuf_get_u16(&r);
	m->n_chunks = vg_rbuf_get_u16(&r);
	m->len = vg_rbuf_get_u16(&r);
	m->bytes = vg_rbuf_get_ref(&r, m->len);
	if (r.err || !m->bytes || m->chunk >= m->n_chunks)
		return -EBADMSG;
	return 0;
}
