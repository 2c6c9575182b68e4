/*
 * lazylib.c - dlopen a library and fill a table of its functions (lazylib.h).
 */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *dl_why(void)
{
    const char *why = dlerror();

    return why ? why : "not found";
}

static void open_lib(struct lazylib *l)
{
    const char *path = getenv(l->env), *name = NULL;
    const char *const given[] = {path, NULL};
    const char *const *tries = path && *path ? given : l->names;
    char tab[1024]; /* the table, written out only when complete */
    void *lib = NULL;
    size_t i;

    if (l->table_size > sizeof(tab)) {
        snprintf(l->why, sizeof(l->why), "its table of %zu bytes is too large",
                 l->table_size);
        return;
    }
    for (i = 0; lib == NULL && tries[i] != NULL; i++) {
        lib = dlopen(name = tries[i], RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL && i == 0) /* the first name's reason, not the last's */
            snprintf(l->why, sizeof(l->why), "%s", dl_why());
    }
    if (lib == NULL)
        return;
    for (i = 0; i < l->nsyms; i++) {
        void *f = dlsym(lib, l->syms[i].name);

        if (f == NULL) {
            snprintf(l->why, sizeof(l->why),
                     "%s has no %s: not the library, or a version too old", name,
                     l->syms[i].name);
            return;
        }
        /* POSIX guarantees that a function's address survives void *. */
        memcpy(tab + l->syms[i].off, &f, sizeof(f));
    }
    memcpy(l->table, tab, l->table_size);
    l->why[0] = '\0';
}

int lazylib_load(struct lazylib *l, struct err *e)
{
    pthread_mutex_lock(&lock);
    if (!l->tried) {
        open_lib(l);
        l->tried = 1;
    }
    pthread_mutex_unlock(&lock);
    if (l->why[0] != '\0')
        return err_set(e, ST_EINTERNAL,
                       "%s, which cannot be loaded (%s); install %s "
                       "(scripts/install-deps.sh)",
                       l->what, l->why, l->package);
    return 0;
}
