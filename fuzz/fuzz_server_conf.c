/*
 * fuzz_server_conf.c - libFuzzer harness for the server configuration: any
 * bytes are written as server.yaml in a scratch home and loaded with
 * srv_conf_load(); a configuration that loads is then turned into what the
 * server builds from it (the multi driver's children, the controller's base
 * timing, the per-location lookup) and asked about a few locations, so the
 * reader and its users agree on what a loaded configuration may hold.
 * Seeds: fuzz/corpus/server_conf/.
 *
 *   cmake -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_server_conf
 *   build-fuzz/fuzz_server_conf -max_total_time=60 fuzz/corpus/server_conf
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/multi.h"
#include "fuzzutil.h"
#include "sched/sched.h"
#include "server/server_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct srv_conf *c)
{
    static const char *const where[][3] = {{"gcp", "us-central1", "us-central1-a"},
                                           {"azure", "eastus", ""},
                                           {"oci", "us-ashburn-1", "AD-1"},
                                           {"x", "y", ""}};
    struct multi_child *ch = NULL;
    struct multi_world w;
    struct sched_config base;
    struct srv_cfgs *t;
    size_t n, i;

    srv_conf_bindings(c, &ch, &n);
    w.children = ch;
    w.n = n;
    srv_conf_sched_config(c, &base);
    t = srv_cfgs_new(c, &base);
    for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        const struct sched_config *sc = srv_conf_cfg_at(t, where[i][0], where[i][1]);
        int k = multi_world_child(&w, where[i][0], where[i][1], where[i][2]);

        if (sc == NULL || k >= (int)n || sc->backoff_max_s < 0)
            abort();
    }
    srv_cfgs_free(t);
    free(ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct srv_conf *c = NULL;
    struct err e;

    fz_mkdir("server_conf", NULL);
    fz_put("server.yaml", data, size);
    err_clear(&e);
    if (srv_conf_load(NULL, fz_dir, NULL, &c, &e) == 0)
        exercise(c);
    srv_conf_free(c);
    return 0;
}
