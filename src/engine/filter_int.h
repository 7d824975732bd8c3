/* filter_int.h - private: the compiled form of a filter (filter.h), shared
 * by the compiler (filter.c) and the evaluator (filter_eval.c).
 *
 * A program is postfix: predicate ops push one tri-state value, OP_AND /
 * OP_OR pop two and push one, OP_NOT replaces the top. The compiler tracks
 * the stack depth and bounds it by SL_FILTER_MAX_DEPTH, so the evaluator's
 * fixed stack array cannot overflow. Literals are checked against their
 * field's type at compile time (enum names already turned into numbers),
 * so the evaluator never meets a type question.
 */
#ifndef SL_ENGINE_FILTER_INT_H
#define SL_ENGINE_FILTER_INT_H

#include "engine/filter.h"

enum { FK_I, FK_U, FK_D, FK_BOOL, FK_STR, FK_MSG, FK_ENUM }; /* field kinds */
enum { LK_I, LK_U, LK_D, LK_STR, LK_BOOL };                  /* literal kinds */
enum { OP_CMP, OP_IN, OP_ISNULL, OP_AND, OP_OR, OP_NOT };
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

typedef struct flit {
    uint8_t kind;
    union {
        int64_t i;
        uint64_t u;
        double d;
    } n;
    uint32_t off, len; /* LK_STR: bytes in f->pool */
} flit;

typedef struct fop {
    uint8_t code, cmp, fk, neg; /* neg: OP_ISNULL "is not null" */
    int32_t path;               /* index into f->paths */
    uint32_t lit, nlit;         /* literals [lit, lit + nlit) */
} fop;

struct sl_filter {
    fop *ops;
    int32_t n_ops, cap_ops;
    sl_path *paths;
    int32_t n_paths, cap_paths;
    flit *lits;
    int32_t n_lits, cap_lits;
    uint8_t *pool;
    size_t pool_len, pool_cap;
    int32_t depth, max_depth; /* eval stack while compiling */
};

#endif
