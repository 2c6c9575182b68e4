/*
 * log.h - the one logger.  Levels, printf-checked, to stderr by default.
 * STRATUS_LOG=debug|info|warn|error sets the threshold (default warn).
 */
#ifndef STRATUS_LOG_H
#define STRATUS_LOG_H

#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(void);
void log_set_level(enum log_level lv);
/* Redirect output (NULL restores stderr); the caller keeps ownership of fp. */
void log_set_file(FILE *fp);
void log_msg(enum log_level lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
