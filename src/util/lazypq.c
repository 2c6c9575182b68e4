/*
 * lazypq.c - dlopen libpq on first use (see lazypq.h).
 */
#include "lazypq.h"

#include <stddef.h>

#include "lazylib.h"

struct lazypq lazypq;

/* The library by its SONAME (libpq's ABI has been .so.5 since PostgreSQL
 * 8.0), then the development link; $STRATUS_LIBPQ names another (tests use
 * it to play a machine without libpq). */
static const char *const LIBNAMES[] = {"libpq.so.5", "libpq.so", NULL};

#define SYM(field, name)                                                                 \
    {                                                                                    \
        name, offsetof(struct lazypq, field)                                             \
    }
static const struct lazy_sym SYMS[] = {
    SYM(backendPID, "PQbackendPID"),
    SYM(clear, "PQclear"),
    SYM(cmdStatus, "PQcmdStatus"),
    SYM(cmdTuples, "PQcmdTuples"),
    SYM(connectdb, "PQconnectdb"),
    SYM(connectdbParams, "PQconnectdbParams"),
    SYM(consumeInput, "PQconsumeInput"),
    SYM(enterPipelineMode, "PQenterPipelineMode"),
    SYM(errorMessage, "PQerrorMessage"),
    SYM(escapeLiteral, "PQescapeLiteral"),
    SYM(exec, "PQexec"),
    SYM(execParams, "PQexecParams"),
    SYM(execPrepared, "PQexecPrepared"),
    SYM(exitPipelineMode, "PQexitPipelineMode"),
    SYM(finish, "PQfinish"),
    SYM(fname, "PQfname"),
    SYM(freemem, "PQfreemem"),
    SYM(getResult, "PQgetResult"),
    SYM(getisnull, "PQgetisnull"),
    SYM(getlength, "PQgetlength"),
    SYM(getvalue, "PQgetvalue"),
    SYM(nfields, "PQnfields"),
    SYM(notifies, "PQnotifies"),
    SYM(ntuples, "PQntuples"),
    SYM(pipelineSync, "PQpipelineSync"),
    SYM(prepare, "PQprepare"),
    SYM(putCopyData, "PQputCopyData"),
    SYM(putCopyEnd, "PQputCopyEnd"),
    SYM(reset, "PQreset"),
    SYM(resultErrorField, "PQresultErrorField"),
    SYM(resultErrorMessage, "PQresultErrorMessage"),
    SYM(resultStatus, "PQresultStatus"),
    SYM(sendQueryParams, "PQsendQueryParams"),
    SYM(sendQueryPrepared, "PQsendQueryPrepared"),
    SYM(setNoticeProcessor, "PQsetNoticeProcessor"),
    SYM(setnonblocking, "PQsetnonblocking"),
    SYM(socket, "PQsocket"),
    SYM(status, "PQstatus"),
    SYM(transactionStatus, "PQtransactionStatus"),
    SYM(unescapeBytea, "PQunescapeBytea"),
};

static struct lazylib lib = {
    .env = "STRATUS_LIBPQ",
    .names = LIBNAMES,
    .syms = SYMS,
    .nsyms = sizeof(SYMS) / sizeof(SYMS[0]),
    .table = &lazypq,
    .table_size = sizeof(lazypq),
    .what = "a PostgreSQL store needs libpq",
    .package = "libpq5",
};

int lazypq_load(struct err *e)
{
    return lazylib_load(&lib, e);
}
