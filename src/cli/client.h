/*
 * client.h - the CLI as a client of `stratus server` (libcurl).
 *
 * Where: --api URL (main.c sets STRATUS_API), else $STRATUS_API
 * ("http://host:port" or "https://..."), else the UNIX socket
 * $STRATUS_HOME/stratus.sock, where a server is started in the background
 * first if none runs (unless STRATUS_NO_AUTOSTART is set).
 * Token: $STRATUS_TOKEN, else the file $STRATUS_TOKEN_FILE (--token-file);
 * sent as "Authorization: Bearer ..." (not needed on the UNIX socket).
 */
#ifndef STRATUS_CLIENT_H
#define STRATUS_CLIENT_H

#include <stdio.h>

#include <jansson.h>

#include "../util/err.h"

/* One call: body (may be NULL) is sent as JSON. On a 2xx reply *out (may be
 * NULL) gets the parsed JSON (caller decrefs) and 0 is returned; on an error
 * reply e gets the server's message and its ST_E* code is returned; when the
 * server cannot be reached, ST_EIO with what to do. */
int client_call(const char *method, const char *path, const json_t *body, json_t **out,
                struct err *e);
/* A streamed reply (logs): copies it to fp as it arrives; *written (may be
 * NULL) gets the bytes copied, also when the stream broke off (ST_EIO). */
int client_stream(const char *path, FILE *fp, long *written, struct err *e);
/* Make sure the server answers, starting the home's one if none runs (even
 * with STRATUS_NO_AUTOSTART: this is an explicit start, for `stratus
 * controller start`). */
int client_ensure_server(struct err *e);
/* The body of a submit, plan or `serve up`/`update`: {"spec": the text of
 * the file at path, "file": its absolute path (for messages and the
 * workdir), "policy": the text of policy_path (may be NULL)}.  0, or the
 * exit status after saying what is wrong. */
int client_spec_body(const char *path, const char *policy_path, json_t **out);
/* s percent-encoded for a URL path segment or query value. Caller frees. */
char *client_escape(const char *s);
/* As client_call, but *out also gets an error reply's JSON (when it is
 * JSON), for what the server puts beside "error" (POST /v1/plan's "text"
 * of exclusions). *out may be NULL after any return; caller decrefs. */
int client_call_keep(const char *method, const char *path, const json_t *body, json_t **out,
                     struct err *e);

#endif
