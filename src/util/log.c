/*
 * log.c - leveled logging (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static enum log_level log_threshold = LOG_WARN;
static FILE *log_fp;

static const char *const log_names[] = {"debug", "info", "warning", "error"};

void log_init(void)
{
    const char *s = getenv("STRATUS_LOG");
    int i;

    if (s == NULL)
        return;
    for (i = 0; i < 4; i++)
        if (strcmp(s, log_names[i]) == 0 || (i == LOG_WARN && strcmp(s, "warn") == 0))
            log_threshold = (enum log_level)i;
}

void log_set_level(enum log_level lv)
{
    log_threshold = lv;
}

void log_set_file(FILE *fp)
{
    log_fp = fp;
}

void log_msg(enum log_level lv, const char *fmt, ...)
{
    FILE *fp = log_fp ? log_fp : stderr;
    va_list ap;

    if (lv < log_threshold)
        return;
    fprintf(fp, "stratus: %s: ", log_names[lv]);
    va_start(ap, fmt);
    vfprintf(fp, fmt, ap);
    va_end(ap);
    fputc('\n', fp);
}
