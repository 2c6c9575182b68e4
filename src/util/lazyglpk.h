/*
 * lazyglpk.h - GLPK, loaded with dlopen the first time a linear program is
 * solved (the simulator's lower bounds, src/sim/bound.c and serve_bound.c).
 *
 * GLPK brings six libraries with it (AMD, COLAMD, SuiteSparse's config,
 * GMP, zlib, libltdl): loading and relocating them cost every `stratus`
 * process a few milliseconds at start (an empty program linked with -lglpk
 * started in 9.8 ms against 5.9 ms, 2026-12-07, a loaded machine), though
 * only `stratus simulate` solves a program.  So, as with libpq (lazypq.h),
 * GLPK is not linked: include this header instead of <glpk.h> (for its types
 * and constants), call lazyglpk_load() before the first GLPK call, and call
 * GLPK's functions by their names, which the macros below route through a
 * table filled by dlsym.  A machine without GLPK runs everything but the
 * bounds, which get a clear error.
 */
#ifndef STRATUS_LAZYGLPK_H
#define STRATUS_LAZYGLPK_H

#include <glpk.h>

#include "err.h"

struct lazyglpk {
    __typeof__(glp_add_cols) *add_cols;
    __typeof__(glp_add_rows) *add_rows;
    __typeof__(glp_adv_basis) *adv_basis;
    __typeof__(glp_create_prob) *create_prob;
    __typeof__(glp_delete_prob) *delete_prob;
    __typeof__(glp_get_col_prim) *get_col_prim;
    __typeof__(glp_get_num_rows) *get_num_rows;
    __typeof__(glp_get_obj_coef) *get_obj_coef;
    __typeof__(glp_get_obj_val) *get_obj_val;
    __typeof__(glp_get_row_dual) *get_row_dual;
    __typeof__(glp_get_status) *get_status;
    __typeof__(glp_init_smcp) *init_smcp;
    __typeof__(glp_load_matrix) *load_matrix;
    __typeof__(glp_set_col_bnds) *set_col_bnds;
    __typeof__(glp_set_mat_col) *set_mat_col;
    __typeof__(glp_set_obj_coef) *set_obj_coef;
    __typeof__(glp_set_obj_dir) *set_obj_dir;
    __typeof__(glp_set_row_bnds) *set_row_bnds;
    __typeof__(glp_simplex) *simplex;
    __typeof__(glp_std_basis) *std_basis;
    __typeof__(glp_term_out) *term_out;
};

/* The table; every pointer is NULL until lazyglpk_load() succeeded. */
extern struct lazyglpk lazyglpk;

/* Load GLPK once (thread-safe; later calls are free); 0, or an error that
 * says GLPK is missing and what needs it. */
int lazyglpk_load(struct err *e);

#define glp_add_cols lazyglpk.add_cols
#define glp_add_rows lazyglpk.add_rows
#define glp_adv_basis lazyglpk.adv_basis
#define glp_create_prob lazyglpk.create_prob
#define glp_delete_prob lazyglpk.delete_prob
#define glp_get_col_prim lazyglpk.get_col_prim
#define glp_get_num_rows lazyglpk.get_num_rows
#define glp_get_obj_coef lazyglpk.get_obj_coef
#define glp_get_obj_val lazyglpk.get_obj_val
#define glp_get_row_dual lazyglpk.get_row_dual
#define glp_get_status lazyglpk.get_status
#define glp_init_smcp lazyglpk.init_smcp
#define glp_load_matrix lazyglpk.load_matrix
#define glp_set_col_bnds lazyglpk.set_col_bnds
#define glp_set_mat_col lazyglpk.set_mat_col
#define glp_set_obj_coef lazyglpk.set_obj_coef
#define glp_set_obj_dir lazyglpk.set_obj_dir
#define glp_set_row_bnds lazyglpk.set_row_bnds
#define glp_simplex lazyglpk.simplex
#define glp_std_basis lazyglpk.std_basis
#define glp_term_out lazyglpk.term_out

#endif
