/*
 * lazypq.h - libpq, loaded with dlopen the first time a PostgreSQL store is
 * opened.
 *
 * libpq brings Kerberos, LDAP, SASL and GnuTLS with it: loading and
 * relocating them cost every `stratus` process about 10 ms (measured on
 * 2026-12-06: an empty program linked with -lpq starts in 13.2 ms against
 * 3.1 ms), although only a store at a postgresql:// URI uses them.  So, as
 * with libcurl (lazycurl.h), libpq is not linked: include this header instead
 * of <libpq-fe.h> (for its types and constants), call lazypq_load() before
 * the first libpq call, and call libpq's functions by their names, which the
 * macros below route through a table filled by dlsym.  A machine without
 * libpq runs everything but a PostgreSQL store, which gets a clear error.
 */
#ifndef STRATUS_LAZYPQ_H
#define STRATUS_LAZYPQ_H

#include <libpq-fe.h>

#include "err.h"

struct lazypq {
    __typeof__(PQbackendPID) *backendPID;
    __typeof__(PQclear) *clear;
    __typeof__(PQcmdStatus) *cmdStatus;
    __typeof__(PQcmdTuples) *cmdTuples;
    __typeof__(PQconnectdb) *connectdb;
    __typeof__(PQconnectdbParams) *connectdbParams;
    __typeof__(PQconsumeInput) *consumeInput;
    __typeof__(PQenterPipelineMode) *enterPipelineMode;
    __typeof__(PQerrorMessage) *errorMessage;
    __typeof__(PQescapeLiteral) *escapeLiteral;
    __typeof__(PQexec) *exec;
    __typeof__(PQexecParams) *execParams;
    __typeof__(PQexecPrepared) *execPrepared;
    __typeof__(PQexitPipelineMode) *exitPipelineMode;
    __typeof__(PQfinish) *finish;
    __typeof__(PQfname) *fname;
    __typeof__(PQfreemem) *freemem;
    __typeof__(PQgetResult) *getResult;
    __typeof__(PQgetisnull) *getisnull;
    __typeof__(PQgetlength) *getlength;
    __typeof__(PQgetvalue) *getvalue;
    __typeof__(PQnfields) *nfields;
    __typeof__(PQnotifies) *notifies;
    __typeof__(PQntuples) *ntuples;
    __typeof__(PQpipelineSync) *pipelineSync;
    __typeof__(PQprepare) *prepare;
    __typeof__(PQputCopyData) *putCopyData;
    __typeof__(PQputCopyEnd) *putCopyEnd;
    __typeof__(PQreset) *reset;
    __typeof__(PQresultErrorField) *resultErrorField;
    __typeof__(PQresultErrorMessage) *resultErrorMessage;
    __typeof__(PQresultStatus) *resultStatus;
    __typeof__(PQsendQueryParams) *sendQueryParams;
    __typeof__(PQsendQueryPrepared) *sendQueryPrepared;
    __typeof__(PQsetNoticeProcessor) *setNoticeProcessor;
    __typeof__(PQsetnonblocking) *setnonblocking;
    __typeof__(PQsocket) *socket;
    __typeof__(PQstatus) *status;
    __typeof__(PQtransactionStatus) *transactionStatus;
    __typeof__(PQunescapeBytea) *unescapeBytea;
};

/* The table; every pointer is NULL until lazypq_load() succeeded. */
extern struct lazypq lazypq;

/* Load libpq once (thread-safe; later calls are free); 0, or an error that
 * says libpq is missing and what needs it. */
int lazypq_load(struct err *e);

#define PQbackendPID lazypq.backendPID
#define PQclear lazypq.clear
#define PQcmdStatus lazypq.cmdStatus
#define PQcmdTuples lazypq.cmdTuples
#define PQconnectdb lazypq.connectdb
#define PQconnectdbParams lazypq.connectdbParams
#define PQconsumeInput lazypq.consumeInput
#define PQenterPipelineMode lazypq.enterPipelineMode
#define PQerrorMessage lazypq.errorMessage
#define PQescapeLiteral lazypq.escapeLiteral
#define PQexec lazypq.exec
#define PQexecParams lazypq.execParams
#define PQexecPrepared lazypq.execPrepared
#define PQexitPipelineMode lazypq.exitPipelineMode
#define PQfinish lazypq.finish
#define PQfname lazypq.fname
#define PQfreemem lazypq.freemem
#define PQgetResult lazypq.getResult
#define PQgetisnull lazypq.getisnull
#define PQgetlength lazypq.getlength
#define PQgetvalue lazypq.getvalue
#define PQnfields lazypq.nfields
#define PQnotifies lazypq.notifies
#define PQntuples lazypq.ntuples
#define PQpipelineSync lazypq.pipelineSync
#define PQprepare lazypq.prepare
#define PQputCopyData lazypq.putCopyData
#define PQputCopyEnd lazypq.putCopyEnd
#define PQreset lazypq.reset
#define PQresultErrorField lazypq.resultErrorField
#define PQresultErrorMessage lazypq.resultErrorMessage
#define PQresultStatus lazypq.resultStatus
#define PQsendQueryParams lazypq.sendQueryParams
#define PQsendQueryPrepared lazypq.sendQueryPrepared
#define PQsetNoticeProcessor lazypq.setNoticeProcessor
#define PQsetnonblocking lazypq.setnonblocking
#define PQsocket lazypq.socket
#define PQstatus lazypq.status
#define PQtransactionStatus lazypq.transactionStatus
#define PQunescapeBytea lazypq.unescapeBytea

#endif
