/*
 * strutil.c - string helpers (see strutil.h).
 */
#include "strutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Plain decimals ("98.32", "-4", "0.5") with at most 15 significant digits
 * are exact as (integer / power of ten): both are exact doubles and IEEE
 * division rounds correctly, so this agrees with strtod bit for bit.  Returns
 * -2 when the text is not that simple and strtod must decide. */
static int fast_decimal(const char *s, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    uint64_t mant = 0;
    int digits = 0, frac = -1, neg = *s == '-';

    if (neg)
        s++;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 15)
            return -2;
        mant = mant * 10 + (uint64_t)(*s - '0');
        if (frac >= 0)
            frac++;
    }
    if (digits == 0)
        return -2;
    *out = (double)mant / pow10[frac > 0 ? frac : 0];
    if (neg)
        *out = -*out;
    return 0;
}

int str_to_double(const char *s, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    if (fast_decimal(s, out) == 0)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int str_to_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static double unit_seconds(char u)
{
    switch (u) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    case 'w':
        return 7 * 86400;
    default:
        return -1;
    }
}

int str_to_duration(const char *s, double *seconds)
{
    double total = 0;
    const char *p = s;

    if (s == NULL || *s == '\0')
        return -1;
    /* decimal only: strtod would take hex (0x10h was 16 h, 0x10d 269 s) */
    if (strpbrk(s, "xXpP") != NULL)
        return -1;
    if (strspn(s, "0123456789.eE+-") == strlen(s) && str_to_double(s, &total) == 0) {
        if (total < 0)
            return -1;
        *seconds = total;
        return 0;
    }
    total = 0;
    while (*p) {
        char *end;
        double v, mul;

        if (!isdigit((unsigned char)*p) && *p != '.')
            return -1;
        errno = 0;
        v = strtod(p, &end);
        if (errno != 0 || end == p || !isfinite(v) || v < 0)
            return -1;
        mul = unit_seconds(*end);
        if (mul < 0)
            return -1;
        /* "min" is accepted as a spelling of minutes. */
        if (strncmp(end, "min", 3) == 0)
            end += 2;
        total += v * mul;
        p = end + 1;
    }
    if (!isfinite(total))
        return -1;
    *seconds = total;
    return 0;
}

int str_to_fraction(const char *s, double *out)
{
    size_t n = s ? strlen(s) : 0;
    double v;

    if (n == 0)
        return -1;
    if (s[n - 1] == '%') {
        char tmp[64];

        if (n >= sizeof(tmp))
            return -1;
        memcpy(tmp, s, n - 1);
        tmp[n - 1] = '\0';
        if (str_to_double(tmp, &v) != 0)
            return -1;
        v /= 100.0;
    } else if (str_to_double(s, &v) != 0) {
        return -1;
    }
    if (v < 0 || v >= 1)
        return -1;
    *out = v;
    return 0;
}

int str_to_gb(const char *s, double *gb)
{
    static const struct {
        const char *suffix;
        double mul;
    } units[] = {/* GB are 10^9 bytes; the binary units are converted to them; any
                  * case (2tb, 500gb) */
                 {"PiB", 1125899.906842624},
                 {"TiB", 1099.511627776},
                 {"GiB", 1.073741824},
                 {"MiB", 0.001048576},
                 {"PB", 1e6},
                 {"TB", 1000},
                 {"GB", 1},
                 {"MB", 0.001},
                 {"P", 1e6},
                 {"T", 1000},
                 {"G", 1}};
    char tmp[64];
    size_t n = s ? strlen(s) : 0, i;
    double v;

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    /* a decimal number: no hex (0x10), inf or nan, which strtod takes */
    if (strspn(s, "0123456789.eE+- ") == n)
        return str_to_double(s, &v) != 0 || v < 0 ? -1 : (*gb = v, 0);
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t k = strlen(units[i].suffix);

        if (n > k && strcasecmp(s + n - k, units[i].suffix) == 0) {
            size_t m = n - k;

            while (m > 0 && s[m - 1] == ' ')
                m--;
            memcpy(tmp, s, m);
            tmp[m] = '\0';
            if (m == 0 || strspn(tmp, "0123456789.eE+-") != m ||
                str_to_double(tmp, &v) != 0 || v < 0)
                return -1;
            *gb = v * units[i].mul;
            return isfinite(*gb) ? 0 : -1;
        }
    }
    return -1;
}

int str_glob(const char *pattern, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*pattern == '*') {
            star = pattern++;
            resume = s;
        } else if (*pattern == '?' || *pattern == *s) {
            pattern++;
            s++;
        } else if (star) {
            pattern = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* Optimal string alignment distance: insertions, deletions, substitutions and
 * swaps of two neighbouring letters ("knid" -> "kind") each cost one. */
size_t str_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t d[65][65];

    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ca != cb);

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *str_suggest(const char *s, const char *const *cands)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1, i;
    size_t limit = strlen(s) <= 4 ? 1 : strlen(s) <= 8 ? 2 : 3;

    for (i = 0; cands[i]; i++) {
        size_t d = str_distance(s, cands[i]);

        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    if (bestd <= limit)
        return best;
    /* a word the one candidate that has it as its first part (size ->
     * size_gb: helper-103) */
    for (i = 0, best = NULL; cands[i]; i++)
        if (*s && strncmp(cands[i], s, strlen(s)) == 0 && cands[i][strlen(s)] == '_') {
            if (best != NULL)
                return NULL;
            best = cands[i];
        }
    return best;
}

const char *str_money(char *out, size_t n, double usd)
{
    char digits[64];
    char grouped[96];
    const char *sign = usd < 0 ? "-" : "";
    size_t len, i, o = 0, lead;
    long long whole;
    int cents;

    usd = fabs(usd);
    if (!(usd < 1e15)) { /* past what whole cents hold exactly (and long long) */
        snprintf(out, n, "%s$%.3g", sign, usd);
        return out;
    }
    whole = (long long)usd;
    cents = (int)llround((usd - (double)whole) * 100.0);
    if (cents == 100) {
        whole++;
        cents = 0;
    }
    snprintf(digits, sizeof(digits), "%lld", whole);
    len = strlen(digits);
    lead = len % 3 ? len % 3 : 3;
    for (i = 0; i < len; i++) {
        if (i >= lead && (i - lead) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    snprintf(out, n, "%s$%s.%02d", sign, grouped, cents);
    return out;
}

const char *str_duration(char *out, size_t n, double seconds)
{
    long s = lround(seconds);

    if (s < 60)
        snprintf(out, n, "%lds", s);
    else if (s < 3600)
        snprintf(out, n, "%ldm%02lds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(out, n, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
    return out;
}

const char *str_vis(char *out, size_t n, const char *s)
{
    size_t i, room = n - 1;

    for (i = 0; s[i] != '\0' && i < room; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (s[i] != '\0') {
        i = room >= 3 ? room - 3 : 0;
        while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
            i--; /* do not cut a UTF-8 sequence in two */
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

uint64_t str_hash(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}
