/*
 * serial — SLIP byte stuffing and CRC-32 for the serial transport.
 * See serial_frame.h and docs/plugins/serial.md.
 */
#include <string.h>

#include "serial_frame.h"

/* CRC-32 of each nibble value: reflected polynomial 0xEDB88320. */
static const uint32_t sf_crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t sf_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ sf_crc_nibble[crc & 0x0f];
		crc = (crc >> 4) ^ sf_crc_nibble[crc & 0x0f];
	}
	return crc ^ 0xffffffffu;
}

/* Append one byte, escaped; returns the new length. */
static size_t sf_put(unsigned char *out, size_t o, unsigned char c)
{
	if (c == SF_END) {
		out[o++] = SF_ESC;
		out[o++] = SF_ESC_END;
	} else if (c == SF_ESC) {
		out[o++] = SF_ESC;
		out[o++] = SF_ESC_ESC;
	} else {
		out[o++] = c;
	}
	return o;
}

size_t sf_encode(const void *payload, size_t len, unsigned char *out)
{
	const unsigned char *p = payload;
	uint32_t crc = sf_crc32(payload, len);
	size_t o = 0;

	/* A leading delimiter ends any noise the line picked up since the last frame. */
	out[o++] = SF_END;
	for (size_t i = 0; i < len; i++)
		o = sf_put(out, o, p[i]);
	/* CRC trailer, most significant byte first. */
	o = sf_put(out, o, (unsigned char)(crc >> 24));
	o = sf_put(out, o, (unsigned char)(crc >> 16));
	o = sf_put(out, o, (unsigned char)(crc >> 8));
	o = sf_put(out, o, (unsigned char)crc);
	out[o++] = SF_END;
	return o;
}

void sf_decoder_reset(struct sf_decoder *d)
{
	d->len = 0;
	d->raw = 0;
	d->esc = 0;
	d->error = 0;
	d->frame_len = 0;
	d->bad_raw = 0;
}

/* A delimiter ends the frame in progress: say what it was and start over. */
static enum sf_event sf_end(struct sf_decoder *d)
{
	enum sf_event ev;
	uint32_t crc;
	const unsigned char *t;

	if (d->error)
		ev = (enum sf_event)d->error;
	else if (d->raw == 0)
		ev = SF_EV_IDLE;
	else if (d->esc)
		ev = SF_EV_BAD_ESCAPE;
	else if (d->len < SF_CRC_LEN + 1)
		ev = SF_EV_RUNT;
	else {
		t = d->buf + d->len - SF_CRC_LEN;
		crc = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
		ev = sf_crc32(d->buf, d->len - SF_CRC_LEN) == crc ? SF_EV_FRAME : SF_EV_BAD_CRC;
	}
	d->frame_len = ev == SF_EV_FRAME ? d->len - SF_CRC_LEN : 0;
	d->bad_raw = ev == SF_EV_FRAME || ev == SF_EV_IDLE ? 0 : d->raw;
	d->len = 0;
	d->raw = 0;
	d->esc = 0;
	d->error = 0;
	return ev;
}

/* One byte inside a frame. */
static void sf_byte(struct sf_decoder *d, unsigned char c)
{
	d->raw++;
	if (d->error)
		return;
	if (d->esc) {
		d->esc = 0;
		if (c == SF_ESC_END)
			c = SF_END;
		else if (c == SF_ESC_ESC)
			c = SF_ESC;
		else {
			d->error = SF_EV_BAD_ESCAPE;
			return;
		}
	} else if (c == SF_ESC) {
		d->esc = 1;
		return;
	}
	if (d->len == sizeof(d->buf)) {
		d->error = SF_EV_OVERSIZE;
		return;
	}
	d->buf[d->len++] = c;
}

size_t sf_decode(struct sf_decoder *d, const unsigned char *in, size_t n, enum sf_event *ev)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (in[i] == SF_END) {
			*ev = sf_end(d);
			return i + 1;
		}
		sf_byte(d, in[i]);
	}
	*ev = SF_EV_NONE;
	return n;
}
