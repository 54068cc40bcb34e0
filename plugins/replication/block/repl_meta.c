/*
 * vigil-repld metadata: generation ids, disk state and the dirty bitmap in
 * <store>.meta.  Replaced atomically (write a temporary file, fsync,
 * rename, fsync the directory) so a crash leaves the old or the new copy,
 * and checked with a CRC-32 when read.
 *
 * Layout, little-endian:
 *   0  "VGREPLMD"          40 gen history[0]     72 bitmap bytes (u64)
 *   8  version (u32) = 2   48 gen history[1]     80 promoted at (u64, ms)
 *  12  region size (u32)   56 disk state (u32)   88 reserved (u64)
 *  16  store size (u64)    60 flags (u32)        96 bitmap
 *  24  gen current         64 name id (u64)      end: CRC-32 of all before (u32)
 *  32  gen bitmap
 * Version 1 (read, never written) has the bitmap at 80 and no promotion time.
 */
#include "repl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define MD_MAGIC   "VGREPLMD"
#define MD_VERSION 2u
#define MD_HDR_LEN 96u
#define MD_HDR_LEN_V1 80u

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

static size_t bitmap_bytes(uint64_t n_regions)
{
	return (n_regions + 7) / 8;
}

static uint64_t al_extents(const struct repl *r)
{
	return (r->md.n_regions + REPL_AL_REGIONS - 1) / REPL_AL_REGIONS;
}

static uint64_t count_bits(const struct repl_meta *md)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < md->n_regions; i++)
		n += (md->bitmap[i / 8] >> (i % 8)) & 1;
	return n;
}

uint64_t repl_gen_new(void)
{
	uint64_t g = 0;

	while (g <= REPL_GEN_JUST_CREATED)
		if (getrandom(&g, sizeof(g), 0) != sizeof(g))
			g = (uint64_t)repl_now_ms() * 0x9e3779b97f4a7c15ull;
	return g;
}

static void encode(const struct repl_meta *md, const uint8_t *al, uint8_t *buf, size_t len)
{
	size_t bm = bitmap_bytes(md->n_regions);
	uint8_t *bits = buf + MD_HDR_LEN;

	memset(buf, 0, len);
	memcpy(buf, MD_MAGIC, 8);
	put32(buf + 8, MD_VERSION);
	put32(buf + 12, md->region_size);
	put64(buf + 16, md->size);
	for (int i = 0; i < REPL_GEN_N; i++)
		put64(buf + 24 + 8 * i, md->gen[i]);
	put32(buf + 56, md->disk);
	put32(buf + 60, md->flags | REPL_MF_AL);
	put64(buf + 64, md->name_id);
	put64(buf + 72, bm);
	put64(buf + 80, md->promoted_ms);
	memcpy(bits, md->bitmap, bm);
	for (uint64_t i = 0; al && i < md->n_regions; i++)
		if ((al[i / REPL_AL_REGIONS / 8] >> (i / REPL_AL_REGIONS % 8)) & 1)
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
	put32(buf + MD_HDR_LEN + bm, crc32_of(buf, MD_HDR_LEN + bm));
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int repl_meta_save(struct repl *r)
{
	const struct repl_meta *md = &r->md;
	size_t len = MD_HDR_LEN + bitmap_bytes(md->n_regions) + 4;
	char tmp[4096];
	uint8_t *buf = malloc(len);
	int fd = -1, rc;

	if (!buf)
		return -ENOMEM;
	encode(md, r->al_count ? r->al : NULL, buf, len);
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->conf.meta);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = repl_full_write(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, r->conf.meta) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir_of(r->conf.meta);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		repl_log(r, "meta: cannot write %s: %s", r->conf.meta, strerror(-rc));
	free(buf);
	return rc;
}

static int meta_create(struct repl *r, uint64_t size, uint64_t name_id)
{
	struct repl_meta *md = &r->md;

	memset(md, 0, sizeof(*md));
	md->size = size;
	md->region_size = REPL_REGION_SIZE;
	md->n_regions = (size + REPL_REGION_SIZE - 1) / REPL_REGION_SIZE;
	md->gen[REPL_GEN_CURRENT] = REPL_GEN_JUST_CREATED;
	md->disk = VG_REPL_DISK_INCONSISTENT;
	md->name_id = name_id;
	md->bitmap = calloc(1, bitmap_bytes(md->n_regions) + 1);
	if (!md->bitmap)
		return -ENOMEM;
	repl_log(r, "meta: created %s for %llu bytes (%llu regions), disk inconsistent", r->conf.meta,
		 (unsigned long long)size, (unsigned long long)md->n_regions);
	return repl_meta_save(r);
}

static int meta_decode(struct repl *r, const uint8_t *buf, size_t len)
{
	struct repl_meta *md = &r->md;
	uint64_t bm, hdr;

	if (len < MD_HDR_LEN_V1 + 4 || memcmp(buf, MD_MAGIC, 8) != 0 ||
	    (get32(buf + 8) != MD_VERSION && get32(buf + 8) != 1))
		return -EINVAL;
	hdr = get32(buf + 8) == 1 ? MD_HDR_LEN_V1 : MD_HDR_LEN;
	bm = get64(buf + 72);
	if (bm > len || hdr + bm + 4 != len ||
	    get32(buf + hdr + bm) != crc32_of(buf, hdr + bm))
		return -EBADMSG;
	md->promoted_ms = hdr == MD_HDR_LEN ? get64(buf + 80) : 0;
	md->region_size = get32(buf + 12);
	md->size = get64(buf + 16);
	for (int i = 0; i < REPL_GEN_N; i++)
		md->gen[i] = get64(buf + 24 + 8 * i);
	md->disk = get32(buf + 56);
	md->flags = get32(buf + 60);
	md->name_id = get64(buf + 64);
	if (md->region_size != REPL_REGION_SIZE)
		return -EINVAL;
	md->n_regions = (md->size + REPL_REGION_SIZE - 1) / REPL_REGION_SIZE;
	if (bitmap_bytes(md->n_regions) != bm)
		return -EINVAL;
	md->bitmap = calloc(1, bm + 1);
	if (!md->bitmap)
		return -ENOMEM;
	memcpy(md->bitmap, buf + hdr, bm);
	return 0;
}

static int meta_read(struct repl *r)
{
	uint8_t *buf = NULL;
	off_t len;
	int fd, rc;

	fd = open(r->conf.meta, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = lseek(fd, 0, SEEK_END);
	rc = len < 0 ? -errno : len > (64 << 20) ? -EFBIG : 0;
	if (rc == 0) {
		buf = malloc(len ? len : 1);
		rc = buf ? 0 : -ENOMEM;
	}
	if (rc == 0 && pread(fd, buf, len, 0) != len)
		rc = -EIO;
	if (rc == 0)
		rc = meta_decode(r, buf, len);
	free(buf);
	close(fd);
	return rc;
}

/* Load (or create) the metadata of a store of `size` bytes; before any thread starts. */
static int meta_load(struct repl *r)
{
	uint64_t name_id = 1469598103934665603ull, size = r->md.size;
	int rc;

	for (const char *p = r->conf.name; *p; p++)
		name_id = (name_id ^ (uint8_t)*p) * 1099511628211ull;
	rc = meta_read(r);
	if (rc == -ENOENT)
		return meta_create(r, size, name_id);
	if (rc < 0) {
		repl_log(r, "meta: %s is unreadable or corrupt (%s): refusing to guess", r->conf.meta,
			 strerror(-rc));
		return rc;
	}
	if (r->md.size != size || r->md.name_id != name_id) {
		repl_log(r, "meta: %s belongs to another store (size %llu, expected %llu; or another name)",
			 r->conf.meta, (unsigned long long)r->md.size, (unsigned long long)size);
		return -EINVAL;
	}
	r->dirty_bits = count_bits(&r->md);
	if (r->md.flags & REPL_MF_PRIMARY) {
		/*
		 * After a primary crash, the regions that may differ are the
		 * ones its activity log and bitmap mark (all of them if the
		 * metadata predates the log).  Without changes made apart from
		 * the peer before the crash (no bitmap generation), the only
		 * writes of its own are the ones in flight: mark the new
		 * generation as such, so that a peer promoted meanwhile can
		 * discard them (repl_sync.c).
		 */
		int apart = r->md.gen[REPL_GEN_BITMAP] != 0;

		if (!(r->md.flags & REPL_MF_AL))
			repl_bits_set_all(r);
		repl_log(r, "meta: this node crashed while primary: %llu regions out of sync (%s)%s",
			 (unsigned long long)r->dirty_bits,
			 (r->md.flags & REPL_MF_AL) ? "its activity log" : "all: no activity log",
			 apart ? " (it had changes made without the peer)" : "");
		rc = repl_gen_start_changes(r);
		r->md.flags &= ~REPL_MF_PRIMARY;
		if (!apart)
			r->md.flags |= REPL_MF_CRASHED;
		if (rc == 0)
			rc = repl_meta_save(r);
	}
	return rc;
}

int repl_meta_load(struct repl *r)
{
	int rc = meta_load(r);

	if (rc == 0 && !(r->al = calloc(1, (size_t)(al_extents(r) + 7) / 8)))
		rc = -ENOMEM;
	return rc;
}

void repl_meta_free(struct repl_meta *md)
{
	free(md->bitmap);
	md->bitmap = NULL;
}

int repl_bit_test(const struct repl *r, uint64_t region)
{
	return (r->md.bitmap[region / 8] >> (region % 8)) & 1;
}

/* Mark the regions of off..off+len dirty; returns how many bits were newly set. */
int repl_bits_set(struct repl *r, uint64_t off, uint64_t len)
{
	uint64_t first = off / REPL_REGION_SIZE, last;
	int n = 0;

	if (len == 0)
		return 0;
	last = (off + len - 1) / REPL_REGION_SIZE;
	for (uint64_t i = first; i <= last && i < r->md.n_regions; i++) {
		if (repl_bit_test(r, i))
			continue;
		r->md.bitmap[i / 8] |= 1u << (i % 8);
		r->dirty_bits++;
		n++;
	}
	return n;
}

void repl_bits_clear_all(struct repl *r)
{
	memset(r->md.bitmap, 0, bitmap_bytes(r->md.n_regions));
	r->dirty_bits = 0;
}

/*
 * Before writing off..off+len as primary, connected or not: mark the
 * activity extents it falls in.  Returns how many were new: then the
 * metadata must be saved before the data is written; otherwise the bitmap
 * on disk already covers the write.  The caller made room first
 * (repl_al_room).  The log is allocated by repl_meta_load.
 */
int repl_al_cover(struct repl *r, uint64_t off, uint64_t len)
{
	uint64_t n_ext = al_extents(r), first, last;
	int n = 0;

	if (len == 0)
		return 0;
	first = off / REPL_REGION_SIZE / REPL_AL_REGIONS;
	last = (off + len - 1) / REPL_REGION_SIZE / REPL_AL_REGIONS;
	for (uint64_t e = first; e <= last && e < n_ext; e++) {
		if ((r->al[e / 8] >> (e % 8)) & 1)
			continue;
		r->al[e / 8] |= (uint8_t)(1u << (e % 8));
		r->al_count++;
		n++;
	}
	return n;
}

/*
 * Make room in the log for a write to off..off+len: when it would hold
 * more than REPL_AL_MAX extents, make every earlier write durable on both
 * copies (a local fdatasync, then wait until the peer has ACKed every write
 * in flight; it syncs on its own when the stream pauses, and write_lock,
 * held by the caller, pauses it), then empty the log.  Called with
 * write_lock and r->lock held; drops r->lock meanwhile.  A session lost
 * while waiting is fine: its writes in flight went to md.bitmap.
 */
int repl_al_room(struct repl *r, uint64_t off, uint64_t len)
{
	uint64_t span = len ? ((off + len - 1) / REPL_REGION_SIZE / REPL_AL_REGIONS) -
			      (off / REPL_REGION_SIZE / REPL_AL_REGIONS) + 1 : 0;
	uint64_t session = r->session_id;
	int rc;

	if (r->al_count + span <= REPL_AL_MAX)
		return 0;
	pthread_mutex_unlock(&r->lock);
	rc = fdatasync(r->store_fd) < 0 ? -errno : 0;
	pthread_mutex_lock(&r->lock);
	while (rc == 0 && r->session_up && r->session_id == session && r->if_len > 0)
		pthread_cond_wait(&r->cond, &r->lock);
	if (rc == 0)
		repl_al_clear(r);
	else
		repl_log(r, "meta: activity log full and the store cannot be synced: %s",
			 strerror(-rc));
	return rc;
}

void repl_al_clear(struct repl *r)
{
	if (r->al)
		memset(r->al, 0, (size_t)(al_extents(r) + 7) / 8);
	r->al_count = 0;
}

void repl_bits_set_all(struct repl *r)
{
	for (uint64_t i = 0; i < r->md.n_regions; i++)
		r->md.bitmap[i / 8] |= 1u << (i % 8);
	r->dirty_bits = r->md.n_regions;
}

uint64_t repl_region_len(const struct repl *r, uint64_t region)
{
	uint64_t off = region * REPL_REGION_SIZE;

	return r->md.size - off < REPL_REGION_SIZE ? r->md.size - off : REPL_REGION_SIZE;
}

/*
 * The data is about to change without the peer: start a new generation,
 * remembering in `bitmap` the one the peer still has (DRBD's new current
 * UUID).  Nothing to do when one was started already.  Caller saves.
 */
int repl_gen_start_changes(struct repl *r)
{
	uint64_t *g = r->md.gen;

	if (g[REPL_GEN_BITMAP] != 0)
		return 0;
	g[REPL_GEN_BITMAP] = g[REPL_GEN_CURRENT];
	g[REPL_GEN_CURRENT] = repl_gen_new();
	repl_log(r, "meta: new generation %016llx (peer has %016llx)",
		 (unsigned long long)g[REPL_GEN_CURRENT], (unsigned long long)g[REPL_GEN_BITMAP]);
	return 0;
}
