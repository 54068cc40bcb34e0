/*
 * serial — the byte framing of the serial transport: SLIP byte stuffing
 * (RFC 1055) around the payload and a CRC-32 trailer.  Pure functions, no
 * I/O.  The exact format is in docs/plugins/serial.md.
 */
#ifndef VG_SERIAL_FRAME_H
#define VG_SERIAL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SF_END          0xC0   /* frame delimiter */
#define SF_ESC          0xDB   /* escape */
#define SF_ESC_END      0xDC   /* ESC ESC_END stands for a payload 0xC0 */
#define SF_ESC_ESC      0xDD   /* ESC ESC_ESC stands for a payload 0xDB */
#define SF_CRC_LEN      4
#define SF_MAX_PAYLOAD  1400
/* Worst case on the wire: every byte escaped, plus the two delimiters. */
#define SF_WIRE_MAX     (2 + 2 * (SF_MAX_PAYLOAD + SF_CRC_LEN))

/* What one call of sf_decode() found. */
enum sf_event {
	SF_EV_NONE = 0,      /* input used up, no delimiter seen */
	SF_EV_IDLE,          /* a delimiter with nothing before it: not a frame */
	SF_EV_FRAME,         /* a good frame: sf_decoder.buf[0 .. frame_len) */
	SF_EV_BAD_CRC,       /* checksum mismatch: line noise or a split frame */
	SF_EV_RUNT,          /* fewer bytes than a CRC and one payload byte */
	SF_EV_OVERSIZE,      /* longer than SF_MAX_PAYLOAD: dropped to the next delimiter */
	SF_EV_BAD_ESCAPE,    /* ESC followed by neither ESC_END nor ESC_ESC */
};

/*
 * Receive state.  Zero it (sf_decoder_reset) to start; it resynchronises
 * by itself at every delimiter.
 */
struct sf_decoder {
	unsigned char buf[SF_MAX_PAYLOAD + SF_CRC_LEN];
	size_t len;          /* unstuffed bytes of the frame in progress */
	size_t raw;          /* line bytes of the frame in progress */
	int esc;             /* the previous byte was SF_ESC */
	int error;           /* enum sf_event of a fault seen in this frame, or 0 */
	size_t frame_len;    /* after SF_EV_FRAME: payload bytes in buf */
	size_t bad_raw;      /* after a fault event: line bytes it discarded */
};

/* CRC-32/ISO-HDLC (zlib's crc32): reflected 0x04C11DB7, init and xorout ~0. */
uint32_t sf_crc32(const void *buf, size_t len);

/*
 * Encode `len` (1..SF_MAX_PAYLOAD) payload bytes into `out`, which holds
 * SF_WIRE_MAX bytes.  Returns the number of bytes written.
 */
size_t sf_encode(const void *payload, size_t len, unsigned char *out);

void sf_decoder_reset(struct sf_decoder *d);

/*
 * Consume line bytes up to and including the next delimiter.  Returns the
 * number of bytes used and sets *ev.  After SF_EV_FRAME the payload is in
 * d->buf until the next call.
 */
size_t sf_decode(struct sf_decoder *d, const unsigned char *in, size_t n, enum sf_event *ev);

#endif
