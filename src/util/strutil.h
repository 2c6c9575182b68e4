/*
 * strutil.h - small string helpers shared by the parsers: strict number
 * parsing, durations ("90s", "2h30m", "1.5d"), money, globbing, and the
 * "did you mean" suggestion for misspelt keys.
 */
#ifndef STRATUS_STRUTIL_H
#define STRATUS_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parse a whole string as a finite double; 0 or -1 (nothing is written on error). */
int str_to_double(const char *s, double *out);
/* Parse a whole string as a base-10 long in [min, max]; 0 or -1. */
int str_to_long(const char *s, long min, long max, long *out);
/* Parse a duration: a bare number is seconds; units s, m, h, d, w may be chained
 * ("1h30m"). Result in seconds, >= 0. 0 or -1. */
int str_to_duration(const char *s, double *seconds);
/* Parse a percentage "15%" or a fraction "0.15" into a fraction in [0, 1). */
int str_to_fraction(const char *s, double *out);
/* Parse a byte size in GB (10^9 bytes): "500", "500GB", "2TB", "512MB", and
 * the binary "2TiB" (2,199 GB), "512GiB", "512MiB". 0 or -1. */
int str_to_gb(const char *s, double *gb);
/* Case-sensitive shell glob with * and ?; 1 when it matches. */
int str_glob(const char *pattern, const char *s);
/* The closest of `cands` (NULL-terminated) to `s` by edit distance, or NULL when
 * none is close enough to be a plausible typo; failing that, the one
 * candidate that begins with `s` and '_' (size: size_gb). */
const char *str_suggest(const char *s, const char *const *cands);
/* Edit distance (Levenshtein), case-insensitive. */
size_t str_distance(const char *a, const char *b);
/* Format money as "$1,240.50" into out. */
const char *str_money(char *out, size_t n, double usd);
/* Format a duration in seconds as "1h30m" / "45s" into out. */
const char *str_duration(char *out, size_t n, double seconds);
/* Outside text made safe to quote in a message, into out (n >= 4): control
 * bytes (0x00-0x1f, 0x7f) become '?', and text longer than out holds is cut
 * with "..." (never inside a UTF-8 sequence).  Returns out. */
const char *str_vis(char *out, size_t n, const char *s);

/* FNV-1a of s, continuing from h (start with STR_HASH_INIT): a fast,
 * well-spread 64-bit hash of a string, not a cryptographic one. */
#define STR_HASH_INIT 1469598103934665603ULL
uint64_t str_hash(uint64_t h, const char *s);

#endif
