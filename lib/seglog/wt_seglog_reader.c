/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_reader.c: reads segments in order, verifies frames, seals and seq.
 *
 * Reading rules (docs/FORMAT.md, "Reading"):
 *   - segment header unreadable (bad CRC, impossible field): report, skip
 *     the segment; its records show up as a seq gap at the next record;
 *   - frame with a sane word but a wrong CRC: report, skip just that frame
 *     (its length is used to step over it; if the length itself was
 *     damaged, the next word is garbage and the segment ends there);
 *   - word without the commit bit, of type 0 or longer than the room left:
 *     report, resynchronise at the next 8-aligned offset holding a frame
 *     with a good CRC, or end the segment when there is none;
 *   - zero word: end of the segment, except before the end offset of a
 *     sealed segment (damage: report and resynchronise as above); at the
 *     end of a sealed segment the end offset, frame and record counts and
 *     last seq must match the seal block;
 *   - records: seq must be the previous seq + 1 across all segments read.
 * Good records around any problem are all returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt_seglog_format.h"
#include "wt_seglog_segment.h"

struct wt_seglog_reader {
	char **files;
	char **alts; /* per file: where else it may be (a spool file's archived copy), or NULL */
	size_t nfiles;
	size_t cap; /* of files and alts */
	size_t next_file;
	wt_seglog_problem_fn problem;
	void *problem_arg;
	/* segment being read (base == NULL: none) */
	const uint8_t *base;
	size_t map_len;
	int compressed; /* the current segment was decompressed into base */
	struct wt_seg_header hdr;
	struct wt_seg_cursor cur;
	const char *path;
	uint64_t seg_records, seg_frames, seg_last_seq;
	uint64_t seg_bad; /* frames skipped for a bad CRC */
	int seg_resynced; /* bytes were skipped to find the next frame */
	/* across segments */
	int have_seq;
	uint64_t next_seq;
	int have_segno;
	uint64_t last_segno;
	struct wt_seglog_read_stats st;
	/* Follow mode (conf.follow): the directory and spool listed again and
	 * again; segments above listed_max are appended to files. */
	int follow;
	char *dir, *spool;
	int have_listed;
	uint64_t listed_max;
	int list_failed;        /* the directory's listing failed: reported once */
	int final_look;         /* a later segment exists: one more look at this one */
	int last_closed;        /* the last segment read ended sealed after a stats frame */
	unsigned int last_type; /* type of the last good frame of the segment being read */
};

const char *
wt_seglog_problem_name(enum wt_seglog_problem p)
{
	switch (p) {
	case WT_SEGLOG_PROBLEM_IO:
		return "io";
	case WT_SEGLOG_PROBLEM_VERSION:
		return "version";
	case WT_SEGLOG_PROBLEM_HEADER:
		return "header";
	case WT_SEGLOG_PROBLEM_FRAME:
		return "frame";
	case WT_SEGLOG_PROBLEM_SEAL:
		return "seal";
	case WT_SEGLOG_PROBLEM_SEQ_GAP:
		return "seq-gap";
	case WT_SEGLOG_PROBLEM_SEQ_DUP:
		return "seq-dup";
	case WT_SEGLOG_PROBLEM_SEGNO:
		return "segno";
	}
	return "?";
}

static void wt_cold __attribute__((format(printf, 5, 6)))
report(struct wt_seglog_reader *r, enum wt_seglog_problem p, const char *path, uint64_t off,
       const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p == WT_SEGLOG_PROBLEM_IO || p == WT_SEGLOG_PROBLEM_VERSION)
		r->st.errors++;
	else
		r->st.problems++;
	if (r->problem == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->problem(r->problem_arg, p, path, off, msg);
}

static int
add_file(struct wt_seglog_reader *r, const char *dir, const char *name)
{
	char *p;

	if (r->nfiles == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		char **nv = realloc(r->files, ncap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		r->files = nv;
		nv = realloc(r->alts, ncap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		r->alts = nv;
		r->cap = ncap;
	}
	r->alts[r->nfiles] = NULL;
	if (dir != NULL) {
		if (asprintf(&p, "%s/%s", dir, name) < 0)
			return -ENOMEM;
	} else {
		p = strdup(name);
		if (p == NULL)
			return -ENOMEM;
	}
	r->files[r->nfiles++] = p;
	return 0;
}

/* Segment names of @dir, sorted; the count, or -errno with @err set. */
static int
list_dir(const char *dir, char ***names, char *err, size_t errlen)
{
	int n, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		n = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot open directory: %s", dir, strerror(-n));
		return n;
	}
	n = wt_seg_list(fd, names);
	close(fd);
	if (n < 0)
		wt_seg_seterr(err, errlen, "%s: cannot list directory: %s", dir, strerror(-n));
	return n;
}

static int
add_dir(struct wt_seglog_reader *r, const char *dir, bool may_be_empty, char *err, size_t errlen)
{
	char **names = NULL;
	int rc = 0;
	int n = list_dir(dir, &names, err, errlen);

	if (n < 0)
		return n;
	if (n == 0 && !may_be_empty) {
		wt_seg_seterr(err, errlen, "%s: no segments found (no seg-*.wts files)", dir);
		return -ENOENT;
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_file(r, dir, names[i]);
	wt_seg_names_free(names, n);
	if (rc != 0)
		wt_seg_seterr(err, errlen, "%s: out of memory", dir);
	return rc;
}

/* An explicit file must at least start like a segment: a typo or a wrong
 * file is a usage error, not a damaged log. */
static int
check_file(const char *path, char *err, size_t errlen)
{
	char magic[8];
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	ssize_t n = pread(fd, magic, sizeof(magic), 0);
	if (n < 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	} else if (n != (ssize_t)sizeof(magic) ||
	           (memcmp(magic, WT_SEG_MAGIC, 8) != 0 && !wt_seg_is_zstd(magic, sizeof(magic)))) {
		rc = -EBADMSG;
		wt_seg_seterr(err, errlen, "%s: not a wiretally segment file (bad magic)", path);
	}
	close(fd);
	return rc;
}

/* Segment number of a file path by its name; 0 when it has no segment name. */
static int
path_segno(const char *path, uint64_t *segno)
{
	const char *slash = strrchr(path, '/');

	return wt_seg_name_parse(slash ? slash + 1 : path, segno);
}

struct ordered {
	uint64_t segno;
	size_t idx; /* position before sorting: archive paths first, spool last */
};

static int
ordered_cmp(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;

	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Spool merge: how it works
 *   The spool is listed first (@spool_names, before the archive paths were
 *   listed), then the archive: a segment appears in the spool, is copied
 *   into the archive, and only then deleted from the spool, so a segment
 *   archived between the two listings is in the archive's (the other
 *   order could miss it). All are put in segment-number order; a spool
 *   file whose number is also in the archive is dropped (the archived copy
 *   is sealed and complete: the archiver renames it only after fsync). A
 *   spool file archived and deleted after the listing is read from its
 *   archived copy (alt path, the first directory of @conf->paths): it was
 *   deleted only once that copy existed.
 */
static int
merge_spool(struct wt_seglog_reader *r, const struct wt_seglog_reader_conf *conf,
            char *const *spool_names, int nspool, char *err, size_t errlen)
{
	const char *archive = NULL;
	struct ordered *ord = NULL;
	struct stat sb;
	size_t narch = r->nfiles, n, keep = 0;
	int rc = 0;

	for (size_t i = 0; i < conf->npaths && archive == NULL; i++)
		if (stat(conf->paths[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			archive = conf->paths[i];
	for (size_t i = 0; i < narch; i++) {
		uint64_t segno;
		if (!path_segno(r->files[i], &segno)) {
			wt_seg_seterr(err, errlen,
			              "%s: with a spool directory, give directories or seg-*.wts "
			              "files",
			              r->files[i]);
			return -EINVAL;
		}
	}
	if (stat(conf->spool_dir, &sb) != 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot access: %s", conf->spool_dir, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(sb.st_mode)) {
		wt_seg_seterr(err, errlen, "%s: a spool must be a directory", conf->spool_dir);
		return -EINVAL;
	}
	if (nspool < 0) /* could not be listed first: list it now */
		rc = add_dir(r, conf->spool_dir, true, err, errlen);
	for (int i = 0; i < nspool && rc == 0; i++)
		rc = add_file(r, conf->spool_dir, spool_names[i]);
	if (rc != 0)
		return rc;
	n = r->nfiles;
	if (n == 0) {
		wt_seg_seterr(err, errlen, "%s: no segments found (no seg-*.wts files), nor in %s",
		              conf->paths[0], conf->spool_dir);
		return -ENOENT;
	}
	ord = malloc(n * sizeof(*ord));
	char **files = malloc(n * sizeof(*files)), **alts = calloc(n, sizeof(*alts));
	if (ord == NULL || files == NULL || alts == NULL) {
		free(ord);
		free(files);
		free(alts);
		wt_seg_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		path_segno(r->files[i], &ord[i].segno);
		ord[i].idx = i;
	}
	qsort(ord, n, sizeof(*ord), ordered_cmp);
	for (size_t k = 0; k < n; k++) {
		size_t i = ord[k].idx;
		bool spool = i >= narch;
		/* The archive's copy of this number comes first in the order. */
		if (spool && keep > 0 && ord[k - 1].segno == ord[k].segno) {
			free(r->files[i]);
			continue;
		}
		files[keep] = r->files[i];
		if (spool && archive != NULL &&
		    asprintf(&alts[keep], "%s/%s", archive, strrchr(r->files[i], '/') + 1) < 0)
			alts[keep] = NULL;
		keep++;
	}
	free(ord);
	free(r->files);
	free(r->alts);
	r->files = files;
	r->alts = alts;
	r->nfiles = keep;
	r->cap = n;
	return 0;
}

/*
 * Follow mode: how it works
 *   The reader lists the directory (and the spool) when it has read every
 *   segment it knows, and at the live end of an open segment; segments
 *   numbered above the last one listed are added, in order. Each listing
 *   looks at the spool first, then at the archive: a segment appears in
 *   the spool, is copied to the archive, and only then leaves the spool,
 *   so one the spool listing misses is in the archive listing that follows
 *   (listing the archive first could miss a segment moved in between). A
 *   number in both is read from the archive; a spool file gone by the time
 *   it is opened is read from the archive (start_segment()).
 *
 *   An open segment is finished only once it is sealed: at its live end
 *   (a zero frame word) the reader lists the directories, then decodes the
 *   header again. Sealed: the frames up to the seal's end offset are read,
 *   and the seal is checked as usual. Not sealed and no later segment:
 *   nothing new yet, _next() returns 0 and the cursor stays. Not sealed but
 *   a later segment exists: the writer seals a segment before it creates
 *   the next, so the seal is torn or missing; after one more look at the
 *   frames it is reported and the reader goes on with the next segment.
 *   Listing before decoding matters: a later segment seen in the listing
 *   means the seal was written before the header is decoded again.
 *
 *   A spool directory that does not exist holds nothing: the monitor may
 *   create it later, and removes its automatic spool at exit.
 *
 *   A seal block torn when the segment is first mapped is not reported at
 *   once in follow mode (the writer may be sealing it just then): the live
 *   end decides, as above.
 */
static int
follow_open(struct wt_seglog_reader *r, const struct wt_seglog_reader_conf *conf, char *err,
            size_t errlen)
{
	struct stat sb;
	int rc;

	r->follow = 1;
	if (conf->npaths != 1) {
		wt_seg_seterr(err, errlen, "follow mode reads one directory (%zu paths given)",
		              conf->npaths);
		return -EINVAL;
	}
	const char *dirs[2] = {conf->paths[0], conf->spool_dir};
	for (int i = 0; i < 2 && dirs[i] != NULL; i++) {
		if (i == 1 && stat(dirs[i], &sb) != 0 && errno == ENOENT)
			break; /* a spool that does not exist yet holds nothing yet */
		if (stat(dirs[i], &sb) != 0) {
			rc = -errno;
			wt_seg_seterr(err, errlen, "%s: cannot access: %s", dirs[i], strerror(-rc));
			return rc;
		}
		if (!S_ISDIR(sb.st_mode)) {
			wt_seg_seterr(err, errlen, "%s: follow mode needs a directory", dirs[i]);
			return -EINVAL;
		}
	}
	if (conf->follow_from_segment > 0) { /* as if the lower numbers were listed */
		r->have_listed = 1;
		r->listed_max = conf->follow_from_segment - 1;
	}
	r->dir = strdup(conf->paths[0]);
	r->spool = conf->spool_dir ? strdup(conf->spool_dir) : NULL;
	if (r->dir == NULL || (conf->spool_dir != NULL && r->spool == NULL)) {
		wt_seg_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Add the segments numbered above the last listed; @return how many, or
 * -errno (out of memory). A listing that fails is reported once. */
static int
follow_refresh(struct wt_seglog_reader *r)
{
	char **sp = NULL, **ar = NULL, why[256];
	int ns = 0, na, i = 0, j = 0, added = 0, rc = 0;

	/* A spool that does not exist (yet, or any more: the monitor removes
	 * its automatic spool at exit) holds nothing. */
	if (r->spool != NULL && (ns = list_dir(r->spool, &sp, NULL, 0)) < 0)
		ns = 0;
	na = list_dir(r->dir, &ar, why, sizeof(why));
	if (na < 0) {
		if (!r->list_failed)
			report(r, WT_SEGLOG_PROBLEM_IO, r->dir, 0, "%s", why);
		r->list_failed = 1;
		na = 0;
	} else {
		r->list_failed = 0;
	}
	while (rc == 0 && (i < na || j < ns)) {
		uint64_t a = UINT64_MAX, b = UINT64_MAX, no;
		if (i < na)
			wt_seg_name_parse(ar[i], &a);
		if (j < ns)
			wt_seg_name_parse(sp[j], &b);
		no = WT_MIN(a, b);
		int from_archive = a == no;
		const char *name = from_archive ? ar[i] : sp[j];
		i += a == no;
		j += b == no;
		if (r->have_listed && no <= r->listed_max)
			continue;
		rc = add_file(r, from_archive ? r->dir : r->spool, name);
		if (rc == 0 && !from_archive &&
		    asprintf(&r->alts[r->nfiles - 1], "%s/%s", r->dir, name) < 0) {
			r->alts[r->nfiles - 1] = NULL;
			rc = -ENOMEM;
		}
		r->have_listed = 1;
		r->listed_max = no;
		added++;
	}
	wt_seg_names_free(sp, ns);
	wt_seg_names_free(ar, na);
	return rc ? rc : added;
}

/* At the live end of the open segment being read (follow mode).
 * @return 1: read on (sealed now, or one more look), 0: nothing new yet,
 * 2: finished without a good seal (a later segment exists). */
static int
follow_live_end(struct wt_seglog_reader *r)
{
	struct wt_seg_header h;
	int newer = follow_refresh(r) > 0 || r->next_file < r->nfiles;

	if (wt_seg_header_decode(r->base, r->map_len, &h, NULL, 0) == WT_SEG_HDR_OK && h.sealed) {
		r->hdr = h;
		r->final_look = 0;
		return 1;
	}
	if (!newer) {
		r->final_look = 0;
		return 0;
	}
	if (!r->final_look) {
		r->final_look = 1;
		return 1;
	}
	r->final_look = 0;
	report(r, WT_SEGLOG_PROBLEM_SEAL, r->path, WT_SEG_SEAL_OFF,
	       "segment %" PRIu64 " is not sealed (seal block %s) but a later segment exists; "
	       "read up to its last committed frame",
	       h.segment_no, h.seal_torn ? "corrupt" : "empty");
	return 2;
}

struct wt_seglog_reader *
wt_seglog_reader_open(const struct wt_seglog_reader_conf *conf, char *err, size_t errlen)
{
	struct wt_seglog_reader *r = NULL;
	char **spool_names = NULL;
	int nspool = -1;
	struct stat sb;
	int rc;

	if (conf == NULL || conf->npaths == 0 || conf->paths == NULL) {
		rc = -EINVAL;
		wt_seg_seterr(err, errlen, "no directory or segment file given");
		goto err;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = -ENOMEM;
		wt_seg_seterr(err, errlen, "out of memory");
		goto err;
	}
	r->problem = conf->problem;
	r->problem_arg = conf->problem_arg;
	if (conf->follow) {
		rc = follow_open(r, conf, err, errlen);
		if (rc != 0)
			goto err;
		return r;
	}
	if (conf->spool_dir != NULL) /* before the archive: see merge_spool() */
		nspool = list_dir(conf->spool_dir, &spool_names, NULL, 0);
	for (size_t i = 0; i < conf->npaths; i++) {
		const char *p = conf->paths[i];
		if (stat(p, &sb) != 0) {
			rc = -errno;
			wt_seg_seterr(err, errlen, "%s: cannot access: %s", p, strerror(-rc));
			goto err;
		}
		if (S_ISDIR(sb.st_mode)) {
			rc = add_dir(r, p, conf->spool_dir != NULL, err, errlen);
		} else if (S_ISREG(sb.st_mode)) {
			rc = check_file(p, err, errlen);
			if (rc == 0)
				rc = add_file(r, NULL, p);
		} else {
			rc = -EINVAL;
			wt_seg_seterr(err, errlen, "%s: neither a directory nor a segment file", p);
		}
		if (rc != 0)
			goto err;
	}
	if (conf->spool_dir != NULL) {
		rc = merge_spool(r, conf, spool_names, nspool, err, errlen);
		if (rc != 0)
			goto err;
	}
	wt_seg_names_free(spool_names, nspool);
	return r;

err:
	wt_seg_names_free(spool_names, nspool);
	wt_seglog_reader_close(r);
	errno = -rc;
	return NULL;
}

static void
end_segment(struct wt_seglog_reader *r)
{
	if (r->base != NULL)
		munmap((void *)(uintptr_t)r->base, r->map_len);
	r->base = NULL;
}

/* A sealed segment's seal block must agree with what was read. A frame
 * skipped for its CRC still counts as a frame, and then the record counts
 * cannot be compared (the skipped frame may have been a record); after a
 * resynchronisation not even the frames can be counted. Those problems were
 * reported already, with the seq gaps they left. */
static void
check_seal(struct wt_seglog_reader *r)
{
	const struct wt_seg_header *h = &r->hdr;

	if (!h->sealed)
		return;
	if (h->end_offset != r->cur.off ||
	    (!r->seg_resynced && h->frame_count != r->seg_frames + r->seg_bad) ||
	    (!r->seg_resynced && r->seg_bad == 0 &&
	     (h->record_count != r->seg_records ||
	      (h->record_count && h->last_seq != r->seg_last_seq))))
		report(r, WT_SEGLOG_PROBLEM_SEAL, r->path, r->cur.off,
		       "sealed segment: header says %" PRIu64 " frames, %" PRIu64
		       " records, last seq %" PRIu64 ", end offset %" PRIu64 "; read %" PRIu64
		       " frames, %" PRIu64 " records, last seq %" PRIu64 ", end offset %" PRIu64,
		       h->frame_count, h->record_count, h->last_seq, h->end_offset, r->seg_frames,
		       r->seg_records, r->seg_last_seq, r->cur.off);
}

/* A skipped segment still takes its number (from its file name, when it has
 * a segment name), so that the next one is not reported as a numbering gap
 * on top of the header problem. */
static void
skip_segno(struct wt_seglog_reader *r, const char *path)
{
	const char *slash = strrchr(path, '/');
	uint64_t segno;

	if (wt_seg_name_parse(slash ? slash + 1 : path, &segno)) {
		r->have_segno = 1;
		r->last_segno = segno;
	}
}

/* Open and map the next file; 1 when a segment is ready, 0 when none is
 * left. Unreadable files and headers are reported and skipped. */
static int
start_segment(struct wt_seglog_reader *r)
{
	char why[160];
	struct stat sb;

	while (r->next_file < r->nfiles) {
		const char *path = r->files[r->next_file];
		const char *alt = r->alts[r->next_file++];
		r->last_closed = 0;
		r->last_type = 0;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && alt != NULL) {
			/* Archived and deleted from the spool since the listing. */
			path = alt;
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0 || fstat(fd, &sb) != 0) {
			report(r, WT_SEGLOG_PROBLEM_IO, path, 0, "cannot open: %s",
			       strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (sb.st_size < (off_t)WT_SEG_HEADER_SIZE) {
			close(fd);
			report(r, WT_SEGLOG_PROBLEM_HEADER, path, 0,
			       "file too short for a segment (%jd bytes)", (intmax_t)sb.st_size);
			continue;
		}
		void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED) {
			report(r, WT_SEGLOG_PROBLEM_IO, path, 0, "cannot map: %s", strerror(errno));
			continue;
		}
		r->map_len = (size_t)sb.st_size;
		r->path = path;
		uint8_t *base = m;
		int zrc = wt_seg_unzstd(&base, &r->map_len, why, sizeof(why));
		r->base = base;
		if (zrc < 0) {
			report(r, WT_SEGLOG_PROBLEM_HEADER, path, 0, "%s; segment skipped", why);
			skip_segno(r, path);
			continue;
		}
		r->compressed = zrc;
		if (r->compressed)
			r->st.compressed++;
		switch (wt_seg_header_decode(r->base, r->map_len, &r->hdr, why, sizeof(why))) {
		case WT_SEG_HDR_OK:
			break;
		case WT_SEG_HDR_UNSUPPORTED:
			report(r, WT_SEGLOG_PROBLEM_VERSION, path, 0, "%s", why);
			end_segment(r);
			continue;
		default:
			report(r, WT_SEGLOG_PROBLEM_HEADER, path, 0, "%s; segment skipped", why);
			end_segment(r);
			skip_segno(r, path);
			continue;
		}
		const struct wt_seg_header *h = &r->hdr;
		if (!r->compressed && h->segment_size != (uint64_t)sb.st_size)
			report(r, WT_SEGLOG_PROBLEM_HEADER, path, 0,
			       "header says segment size %" PRIu64 " but the file has %jd bytes",
			       h->segment_size, (intmax_t)sb.st_size);
		if (r->compressed && (!h->sealed || h->end_offset != r->map_len))
			report(r, WT_SEGLOG_PROBLEM_HEADER, path, 0,
			       "compressed segment holds %zu bytes but its seal says %s %" PRIu64,
			       r->map_len, h->sealed ? "end offset" : "unsealed, segment size",
			       h->sealed ? h->end_offset : h->segment_size);
		if (h->seal_torn && !r->follow)
			report(r, WT_SEGLOG_PROBLEM_SEAL, path, WT_SEG_SEAL_OFF,
			       "seal block corrupt (bad CRC); read as an unsealed segment");
		if (r->have_segno && h->segment_no != r->last_segno + 1)
			report(r, WT_SEGLOG_PROBLEM_SEGNO, path, 0,
			       "segment number %" PRIu64 " follows segment %" PRIu64, h->segment_no,
			       r->last_segno);
		r->have_segno = 1;
		r->last_segno = h->segment_no;
		r->cur.base = r->base;
		r->cur.limit = WT_MIN(h->segment_size, (uint64_t)r->map_len) & ~7ull;
		r->cur.off = h->header_size;
		r->seg_records = 0;
		r->seg_frames = 0;
		r->seg_last_seq = 0;
		r->seg_bad = 0;
		r->seg_resynced = 0;
		r->st.segments++;
		return 1;
	}
	return 0;
}

/* Gap-free seq across everything read. */
static void
check_seq(struct wt_seglog_reader *r, uint64_t seq, uint64_t off)
{
	if (r->have_seq && seq != r->next_seq) {
		if (seq > r->next_seq)
			report(r, WT_SEGLOG_PROBLEM_SEQ_GAP, r->path, off,
			       "seq gap: expected %" PRIu64 ", found %" PRIu64 " (%" PRIu64
			       " records missing)",
			       r->next_seq, seq, seq - r->next_seq);
		else
			report(r, WT_SEGLOG_PROBLEM_SEQ_DUP, r->path, off,
			       "seq duplicate or out of order: expected %" PRIu64
			       ", found %" PRIu64,
			       r->next_seq, seq);
	}
	if (!r->have_seq)
		r->st.first_seq = seq;
	if (!r->have_seq || seq >= r->next_seq) {
		r->next_seq = seq + 1;
		r->st.last_seq = seq;
	}
	r->have_seq = 1;
}

/* A committed frame word whose frame would fit in the segment but not in
 * the file: the file was cut short (a partial copy). */
static bool
truncated_frame(const struct wt_seglog_reader *r, uint32_t word)
{
	uint64_t end = r->cur.off + wt_frame_span(word & WT_FRAME_LEN_MASK);

	return (word & WT_FRAME_COMMIT) && ((word >> WT_FRAME_TYPE_SHIFT) & WT_FRAME_TYPE_MASK) &&
	       r->cur.limit < r->hdr.segment_size && end > r->cur.limit &&
	       end <= r->hdr.segment_size;
}

/*
 * Reading stopped at the cursor: a bad word (@word != 0) or a zero word.
 * Resynchronise at the next good frame: after a bad word anywhere in the
 * segment; after a zero word only before the end offset of a sealed
 * segment (in an open segment a zero word is the live end). Otherwise end
 * the segment.
 */
static void
resync_or_end(struct wt_seglog_reader *r, uint32_t word)
{
	const uint64_t at = r->cur.off;
	uint64_t until = r->cur.limit;

	if (word == 0)
		until = r->hdr.sealed ? WT_MIN(r->hdr.end_offset, r->cur.limit) : 0;
	if (until > at && wt_seg_cursor_resync(&r->cur, at + WT_FRAME_ALIGN, until)) {
		r->seg_resynced = 1;
		if (word != 0)
			report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, at,
			       "bad frame header word 0x%08" PRIx32 " (torn or corrupt); %" PRIu64
			       " bytes skipped to the next good frame at offset %" PRIu64,
			       word, r->cur.off - at, r->cur.off);
		else
			report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, at,
			       "zero frame word before the sealed end offset %" PRIu64 "; %" PRIu64
			       " bytes skipped to the next good frame at offset %" PRIu64,
			       r->hdr.end_offset, r->cur.off - at, r->cur.off);
		return;
	}
	if (word != 0 && truncated_frame(r, word))
		report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, at,
		       "segment truncated: the file ends at byte %" PRIu64 ", inside the frame "
		       "of %" PRIu64 " bytes at offset %" PRIu64 "; rest of segment lost",
		       (uint64_t)r->map_len, wt_frame_span(word & WT_FRAME_LEN_MASK), at);
	else if (word != 0)
		report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, at,
		       "bad frame header word 0x%08" PRIx32 " (torn or corrupt); rest of segment "
		       "skipped",
		       word);
	check_seal(r);
	/* The writer seals a segment before it creates the next: an open one
	 * with a later segment after it lost its seal (zeroed, or never
	 * written back). A corrupt seal was reported when the segment was
	 * opened; follow mode says it at the live end (follow_live_end). */
	if (!r->follow && !r->hdr.sealed && !r->hdr.seal_torn && r->next_file < r->nfiles)
		report(r, WT_SEGLOG_PROBLEM_SEAL, r->path, WT_SEG_SEAL_OFF,
		       "segment %" PRIu64 " is not sealed (seal block empty) but a later segment "
		       "exists: its seal was lost; read up to its first empty frame (offset "
		       "%" PRIu64 ")",
		       r->hdr.segment_no, at);
	r->last_closed = r->hdr.sealed && r->hdr.state == WT_SEG_STATE_SEALED &&
	                 r->last_type == WT_SEGLOG_FRAME_STATS;
	end_segment(r);
}

int
wt_seglog_reader_next(struct wt_seglog_reader *r, struct wt_seglog_frame *out)
{
	struct wt_seg_frame f;

	for (;;) {
		if (r->base == NULL && !start_segment(r)) {
			if (r->follow && follow_refresh(r) > 0)
				continue;
			return 0;
		}
		switch (wt_seg_cursor_next(&r->cur, &f)) {
		case WT_SEG_STEP_FRAME:
			break;
		case WT_SEG_STEP_BAD_CRC:
			r->seg_bad++;
			report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, f.offset,
			       "frame CRC mismatch (type %u, length %" PRIu32 "); frame skipped",
			       f.type, f.len);
			continue;
		case WT_SEG_STEP_BAD_WORD:
			resync_or_end(r, f.word);
			continue;
		case WT_SEG_STEP_END:
			if (r->follow && !r->hdr.sealed) {
				int w = follow_live_end(r);
				if (w == 0)
					return 0;
				if (w == 1)
					continue;
			}
			resync_or_end(r, 0);
			continue;
		}
		r->seg_frames++;
		r->st.frames++;
		r->last_type = f.type;
		out->type = f.type;
		out->len = f.len;
		out->payload = f.payload;
		out->path = r->path;
		out->offset = f.offset;
		out->segment_no = r->hdr.segment_no;
		out->seq = 0;
		if (f.type == WT_SEGLOG_FRAME_RECORD) {
			if (f.len < WT_CALLREC_V1_SIZE) {
				report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, f.offset,
				       "record frame too short (%" PRIu32 " bytes); frame skipped",
				       f.len);
				continue;
			}
			memcpy(&out->seq, f.payload + offsetof(struct wt_callrec, seq),
			       sizeof(out->seq));
			check_seq(r, out->seq, f.offset);
			r->seg_records++;
			r->seg_last_seq = out->seq;
			r->st.records++;
		} else if (wt_seglog_frame_sequenced(f.type)) {
			if (f.len < sizeof(out->seq)) {
				report(r, WT_SEGLOG_PROBLEM_FRAME, r->path, f.offset,
				       "typed record frame too short (%" PRIu32
				       " bytes); frame skipped",
				       f.len);
				continue;
			}
			memcpy(&out->seq, f.payload, sizeof(out->seq));
			check_seq(r, out->seq, f.offset);
			r->seg_records++;
			r->seg_last_seq = out->seq;
			r->st.typed_records++;
		} else if (f.type == WT_SEGLOG_FRAME_STATS) {
			r->st.stats_frames++;
		} else {
			r->st.unknown_frames++;
		}
		return 1;
	}
}

const struct wt_seglog_read_stats *
wt_seglog_reader_stats(const struct wt_seglog_reader *r)
{
	return &r->st;
}

void
wt_seglog_reader_close(struct wt_seglog_reader *r)
{
	if (r == NULL)
		return;
	end_segment(r);
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i]);
		free(r->alts[i]);
	}
	free(r->files);
	free(r->alts);
	free(r->dir);
	free(r->spool);
	free(r);
}

int
wt_seglog_reader_log_closed(const struct wt_seglog_reader *r)
{
	return r->base == NULL && r->next_file == r->nfiles && r->last_closed;
}

int
wt_seglog_frame_record(const struct wt_seglog_frame *f, struct wt_callrec *rec)
{
	if (f->type != WT_SEGLOG_FRAME_RECORD || f->len < WT_CALLREC_V1_SIZE)
		return -EINVAL;
	/* Version 1 records are the first 168 bytes: their version 2 fields
	 * read as zero, which renders as empty columns. */
	size_t n = f->len < sizeof(*rec) ? f->len : sizeof(*rec);
	memcpy(rec, f->payload, n);
	memset((uint8_t *)rec + n, 0, sizeof(*rec) - n);
	return 0;
}
