/* fault.h - named fault points for crash and error tests.
 *
 * Crash safety is proved by killing the process at chosen instants of the
 * commit sequence, not only at random ones. Code that matters for recovery
 * calls sl_fault("manifest.renamed") etc. at each step. Normally that is
 * one predictable branch on a cached flag. With SL_FAULT set in the
 * environment:
 *
 *   SL_FAULT=NAME[:N]        the N-th time (default 1) point NAME is
 *                            reached, the process kills itself with SIGKILL
 *                            (exactly what kill -9 does: no atexit, no flush)
 *   SL_FAULT_LOG=FILE        every point reached is appended to FILE (so a
 *                            test can list the points a run passes)
 *
 * sl_fault_error(NAME, PATH) is the non-fatal variant used by storage: it
 * returns 1 while the file named by SL_FAULT_ENOSPC exists, so a test can
 * make the lake "full" and then free it again while the pipeline runs. When
 * the file holds a line of text, only paths containing it fail (one
 * output's directory full, the others fine).
 */
#ifndef SL_CORE_FAULT_H
#define SL_CORE_FAULT_H

void sl_fault_point(const char *name);
int sl_fault_error(const char *name, const char *path);

#endif
