/*
 * lazyglpk.c - dlopen GLPK on first use (see lazyglpk.h).
 */
#include "lazyglpk.h"

#include <stddef.h>

#include "lazylib.h"

struct lazyglpk lazyglpk;

/* The library by its SONAME (Debian 12's GLPK 5.0 is .so.40), then the
 * development link; $STRATUS_LIBGLPK names another (tests use it to play a
 * machine without GLPK). */
static const char *const LIBNAMES[] = {"libglpk.so.40", "libglpk.so", NULL};

#define SYM(field, name)                                                                 \
    {                                                                                    \
        name, offsetof(struct lazyglpk, field)                                           \
    }
static const struct lazy_sym SYMS[] = {
    SYM(add_cols, "glp_add_cols"),         SYM(add_rows, "glp_add_rows"),
    SYM(adv_basis, "glp_adv_basis"),       SYM(create_prob, "glp_create_prob"),
    SYM(delete_prob, "glp_delete_prob"),   SYM(get_col_prim, "glp_get_col_prim"),
    SYM(get_num_rows, "glp_get_num_rows"), SYM(get_obj_coef, "glp_get_obj_coef"),
    SYM(get_obj_val, "glp_get_obj_val"),   SYM(get_row_dual, "glp_get_row_dual"),
    SYM(get_status, "glp_get_status"),     SYM(init_smcp, "glp_init_smcp"),
    SYM(load_matrix, "glp_load_matrix"),   SYM(set_col_bnds, "glp_set_col_bnds"),
    SYM(set_mat_col, "glp_set_mat_col"),   SYM(set_obj_coef, "glp_set_obj_coef"),
    SYM(set_obj_dir, "glp_set_obj_dir"),   SYM(set_row_bnds, "glp_set_row_bnds"),
    SYM(simplex, "glp_simplex"),           SYM(std_basis, "glp_std_basis"),
    SYM(term_out, "glp_term_out"),
};

static struct lazylib lib = {
    .env = "STRATUS_LIBGLPK",
    .names = LIBNAMES,
    .syms = SYMS,
    .nsyms = sizeof(SYMS) / sizeof(SYMS[0]),
    .table = &lazyglpk,
    .table_size = sizeof(lazyglpk),
    .what = "a lower bound (a linear program) needs GLPK",
    .package = "libglpk40",
};

int lazyglpk_load(struct err *e)
{
    return lazylib_load(&lib, e);
}
