/*
 * dashboard.h - the dashboard's static files (src/server/dashboard/), built
 * into the binary: cmake/embed.cmake writes the table at build time, so the
 * server reads no file to serve them.  api_dashboard.c serves them at /ui/.
 */
#ifndef STRATUS_DASHBOARD_H
#define STRATUS_DASHBOARD_H

#include <stddef.h>

struct dash_file {
    const char *path;          /* below src/server/dashboard/: "vendor/uplot/LICENSE" */
    const unsigned char *data; /* len bytes, and a NUL after them */
    size_t len;
    const char *etag;          /* quoted, as the header wants it: "\"3f1c...\"" */
};

extern const struct dash_file dash_files[];
extern const size_t dash_nfiles;

#endif
